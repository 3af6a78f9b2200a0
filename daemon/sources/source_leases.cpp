#include "sources/source_leases.hpp"

#include <algorithm>
#include <cstdio>

#include "core/log.hpp"

namespace crisisd::sources {

bool is_pull_source(const ingest::source_settings& s) { return s.type == "websocket" || s.type == "x" || s.type == "feed"; }

std::string source_leases::bucket_for(const std::string& lease_bucket, const std::vector<std::string>& sorted_names) {
    // FNV-1a over the names, each ended by a byte no name holds.
    std::uint32_t h = 2166136261u;
    for (const auto& n : sorted_names) {
        for (unsigned char c : n) h = (h ^ c) * 16777619u;
        h = (h ^ 0u) * 16777619u;
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", h);
    // Bucket names are at most 64 characters: keep room for "_src_" and the hash.
    return lease_bucket.substr(0, 64 - 13) + "_src_" + hex;
}

std::unique_ptr<source_leases> source_leases::open(const cluster::cluster_settings& settings,
                                                   std::vector<std::string> names, runtime::executor& ex,
                                                   hold_handler on_hold, std::string& error) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    auto nats = settings.nats;
    nats.client_name = "crisisd " + settings.name + " sources";
    auto conn = cluster::nats_connection::connect(nats, error);
    if (!conn) return nullptr;
    std::unique_ptr<source_leases> s(new source_leases(std::move(conn), settings, std::move(names), ex, std::move(on_hold)));
    if (!s->leases_->open(error)) return nullptr;
    return s;
}

source_leases::source_leases(std::unique_ptr<cluster::nats_connection> conn, const cluster::cluster_settings& settings,
                             std::vector<std::string> names, runtime::executor& ex, hold_handler on_hold)
    : conn_(std::move(conn)), names_(std::move(names)), ex_(ex), on_hold_(std::move(on_hold)), running_(names_.size(), false) {
    auto ls = settings.leases;
    ls.bucket = bucket_for(settings.leases.bucket, names_);
    ls.partitions = static_cast<int>(names_.size());
    leases_ = std::make_unique<cluster::partition_leases>(*conn_, settings.name, ls);
}

source_leases::~source_leases() { stop(false); }

void source_leases::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void source_leases::stop(bool release) {
    {
        std::lock_guard lock(m_);
        stop_ = true;
        release_ = release_ || release;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void source_leases::run() {
    const auto interval = leases_->settings().renew_interval;
    std::unique_lock lock(m_);
    while (!stop_) {
        lock.unlock();
        const auto round = leases_->tick();
        if (round.name_in_use)
            core::log_error("cluster: another live process uses the replica name '" + leases_->name() +
                            "': give every replica its own cluster.name");
        if (!round.acquired.empty() || !round.lost.empty() || !round.released.empty()) ex_.post([this] { reconcile(); });
        lock.lock();
        cv_.wait_for(lock, interval, [this] { return stop_; });
    }
    if (release_) {
        lock.unlock();
        leases_->release_all();
        core::log_info("cluster: released every source lease");
    }
}

void source_leases::reconcile() {
    const auto now = cluster::mono_clock::now();
    for (std::size_t i = 0; i < names_.size(); ++i) {
        const bool hold = leases_->may_send(static_cast<int>(i), now);
        if (hold == running_[i]) continue;
        running_[i] = hold;
        core::log(hold ? core::log_level::info : core::log_level::warning,
                  "cluster: source " + names_[i] +
                      (hold ? " is held by this replica: running it" : " is no longer held by this replica: stopped"));
        on_hold_(names_[i], hold);
    }
}

}  // namespace crisisd::sources
