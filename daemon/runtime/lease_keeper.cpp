#include "runtime/lease_keeper.hpp"

#include "core/log.hpp"

namespace crisisd::runtime {

namespace {

std::string list(const std::vector<int>& ps) {
    std::string out;
    for (int p : ps) out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
}

}  // namespace

std::unique_ptr<lease_keeper> lease_keeper::open(const cluster::cluster_settings& settings, executor& ex,
                                                 change_handler on_change, std::string& error) {
    auto nats = settings.nats;
    if (nats.client_name.empty()) nats.client_name = "crisisd " + settings.name;
    auto conn = cluster::nats_connection::connect(nats, error);
    if (!conn) return nullptr;
    std::unique_ptr<lease_keeper> k(new lease_keeper(std::move(conn), settings, ex, std::move(on_change)));
    if (!k->leases_->open(error)) return nullptr;
    return k;
}

lease_keeper::lease_keeper(std::unique_ptr<cluster::nats_connection> conn, const cluster::cluster_settings& settings,
                           executor& ex, change_handler on_change)
    : conn_(std::move(conn)),
      leases_(std::make_unique<cluster::partition_leases>(*conn_, settings.name, settings.leases)),
      ex_(ex),
      on_change_(std::move(on_change)) {}

lease_keeper::~lease_keeper() { stop(false); }

void lease_keeper::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void lease_keeper::stop(bool release) {
    {
        std::lock_guard lock(m_);
        stop_ = true;
        release_ = release_ || release;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void lease_keeper::run() {
    const auto interval = leases_->settings().renew_interval;
    std::unique_lock lock(m_);
    while (!stop_) {
        lock.unlock();
        const auto round = leases_->tick();
        report(round);
        lock.lock();
        // Renewals keep their interval from the start of a round, so a slow round (a request
        // that timed out) does not push the next renewal towards the deadline.
        cv_.wait_for(lock, interval, [this] { return stop_; });
    }
    if (release_) {
        lock.unlock();
        leases_->release_all();
        core::log_info("cluster: released every partition lease");
    }
}

void lease_keeper::report(const cluster::lease_round& round) {
    rounds_.fetch_add(1);
    if (round.members > 0) members_.store(round.members);
    renew_failures_.fetch_add(round.renew_failures);
    losses_.fetch_add(static_cast<long>(round.lost.size()));
    const auto& name = leases_->name();
    if (round.name_in_use)
        core::log_error("cluster: another live process uses the replica name '" + name +
                        "': give every replica its own cluster.name");
    if (!round.lost.empty())
        core::log_warning("cluster: " + name + " lost partition(s) " + list(round.lost) +
                          (round.error.empty() ? "" : " (" + round.error + ")"));
    if (!round.acquired.empty()) core::log_info("cluster: " + name + " acquired partition(s) " + list(round.acquired));
    if (!round.released.empty()) core::log_info("cluster: " + name + " released partition(s) " + list(round.released));
    if (round.renew_failures > 0 && round.lost.empty())
        core::log_warning("cluster: " + std::to_string(round.renew_failures) + " lease renewal(s) got no answer" +
                          (round.error.empty() ? "" : " (" + round.error + ")"));
    if (on_change_ && (!round.acquired.empty() || !round.lost.empty() || !round.released.empty()))
        ex_.post([this, round] { on_change_(round); });
}

lease_status lease_keeper::status() const {
    lease_status s;
    const auto now = cluster::mono_clock::now();
    s.partitions = leases_->settings().partitions;
    const auto owned = leases_->owned(now);
    s.owned = static_cast<int>(owned.size());
    s.owned_partitions = owned;
    std::optional<cluster::mono_time> soonest;
    for (int p : owned)
        if (auto d = leases_->deadline(p); d && (!soonest || *d < *soonest)) soonest = *d;
    if (soonest && *soonest > now) s.lease_remaining_seconds = std::chrono::duration<double>(*soonest - now).count();
    s.members = members_.load();
    s.renew_failures = renew_failures_.load();
    s.acquisitions = leases_->acquisitions();
    s.losses = losses_.load();
    s.rounds = rounds_.load();
    s.connected = conn_->connected();
    return s;
}

}  // namespace crisisd::runtime
