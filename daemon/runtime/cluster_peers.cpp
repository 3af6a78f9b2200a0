#include "runtime/cluster_peers.hpp"

#include "core/log.hpp"

namespace crisisd::runtime {

std::unique_ptr<cluster_peers> cluster_peers::open(const cluster::cluster_settings& settings, std::string admin_url,
                                                   std::int64_t started, std::string& error) {
    std::unique_ptr<cluster_peers> p(new cluster_peers());
    p->name_ = settings.name;
    p->interval_ = settings.leases.renew_interval;
    auto nats = settings.nats;
    nats.client_name = settings.name + "-directory";
    p->conn_ = cluster::nats_connection::connect(nats, error);
    if (!p->conn_) return nullptr;
    const auto names = cluster::names_in(settings.name_space);
    p->feed_subject_ = names.console_feed;
    cluster::directory_settings ds;
    ds.bucket = names.members;
    ds.ttl = settings.leases.ttl;
    ds.replicas = settings.leases.replicas;
    cluster::member self{settings.name, std::move(admin_url), started};
    p->directory_ = cluster::directory::open(*p->conn_, std::move(self), ds, settings.leases, error);
    if (!p->directory_) return nullptr;
    p->caps_ = cluster::statement_caps::open(*p->conn_, names.statement_caps, settings.leases.replicas, error);
    if (!p->caps_) return nullptr;
    return p;
}

cluster_peers::~cluster_peers() { stop(false); }

void cluster_peers::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void cluster_peers::stop(bool leave) {
    {
        std::lock_guard lock(m_);
        if (!thread_.joinable()) return;
        stop_ = true;
        leave_ = leave;
    }
    cv_.notify_all();
    thread_.join();
}

void cluster_peers::run() {
    std::unique_lock lock(m_);
    while (!stop_) {
        lock.unlock();
        std::string error;
        const bool ok = directory_->refresh(error);
        if (!ok && error != last_error_)
            core::log_warning("cluster: the member directory was not refreshed (" + error + "); peers as last seen");
        last_error_ = ok ? "" : error;
        lock.lock();
        cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
    if (leave_) {
        lock.unlock();
        directory_->leave();
    }
}

cluster::cap_outcome cluster_peers::reserve_statement(const std::string& channel, int cap, std::int64_t now,
                                                     const std::string& idempotency_key) {
    std::string error;
    auto r = caps_->reserve(channel, cap, now, idempotency_key, error);
    if (r == cluster::cap_outcome::unavailable)
        core::log_warning("cluster: statement cap of channel " + channel + " not checked (" + error +
                          "); the statement waits");
    return r;
}

void cluster_peers::reserve_statement(const std::string& channel, int cap, core::timestamp now,
                                      const std::string& idempotency_key, executor& blocking,
                                      std::function<void(cluster::cap_outcome)> done) {
    const auto unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    blocking.post([this, channel, cap, unix_seconds, idempotency_key, done = std::move(done)] {
        done(reserve_statement(channel, cap, unix_seconds, idempotency_key));
    });
}

bool cluster_peers::listen_feed(cluster::broadcast::handler on_message, std::string& error) {
    if (feed_) return true;
    feed_ = cluster::broadcast::open(*conn_, feed_subject_, std::move(on_message), error);
    return feed_ != nullptr;
}

void cluster_peers::publish_feed(std::string_view message) {
    if (!feed_) return;
    std::string error;
    const bool ok = feed_->publish(message, error);
    std::lock_guard lock(feed_m_);
    if (ok) {
        feed_error_.clear();
        return;
    }
    if (error == feed_error_) return;
    feed_error_ = error;
    core::log_warning("cluster: a console feed message (" + std::to_string(message.size()) +
                      " bytes) was not published (" + error + "); peers' consoles catch up at the next full round");
}

}  // namespace crisisd::runtime
