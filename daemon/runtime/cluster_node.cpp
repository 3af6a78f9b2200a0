#include "runtime/cluster_node.hpp"

#include <limits>

#include "core/log.hpp"

namespace crisisd::runtime {

cluster_node::cluster_node(std::unique_ptr<lease_keeper> keeper, executor& ex, executor& blocking)
    : keeper_(std::move(keeper)), ex_(ex), blocking_(blocking) {}

std::unique_ptr<cluster_node> cluster_node::open(const cluster::cluster_settings& settings, std::string_view mode,
                                                 detection& det, const clock& clock, executor& ex, executor& blocking,
                                                 intake_events& events, std::string& error) {
    // What a lease round changed is only logged (by the keeper) for now: nothing starts or stops
    // per-partition work on it yet.
    auto keeper = lease_keeper::open(settings, ex, nullptr, error);
    if (!keeper) return nullptr;
    std::unique_ptr<cluster_node> node(new cluster_node(std::move(keeper), ex, blocking));
    if (mode != "partitions") {
        core::log_warning("cluster: replica " + settings.name +
                          " runs the lease preview: it holds partition leases and shows them in /metrics, "
                          "but it sends no page or statement (the clustered runtime is not complete)");
        return node;
    }
    node->intake_ = cluster_intake::open(*node->keeper_, settings.leases.partitions, det, clock, ex, events, error);
    if (!node->intake_) return nullptr;
    node->det_ = &det;
    core::log_warning("cluster: replica " + settings.name +
                      " runs the partitions preview: intake and detection are partitioned and sends are fenced by "
                      "the leases, but a new owner starts a partition's incidents afresh (the clustered runtime "
                      "is not complete)");
    return node;
}

void cluster_node::start() {
    keeper_->start();
    if (intake_) intake_->start();
}

void cluster_node::stop_intake(std::chrono::milliseconds deadline) {
    if (intake_) intake_->stop(deadline);
}

void cluster_node::stop(bool release) {
    stop_intake(std::chrono::milliseconds(0));
    keeper_->stop(release);
}

std::optional<cluster_intake_status> cluster_node::intake() const {
    if (!intake_) return std::nullopt;
    return intake_->status();
}

void cluster_node::action_queued(std::uint64_t id) {
    if (!intake_ || fences_.count(id)) return;
    const auto* inc = det_->pipe->incidents().find(id);
    if (!inc) return;
    const int p = intake_->partition_of_incident(inc->rule, inc->key);
    const auto epoch = keeper_->leases().epoch(p, cluster::mono_clock::now());
    // Not ours when it was written: never sendable here (no epoch is the maximum).
    fences_.emplace(id, std::make_pair(p, epoch.value_or(std::numeric_limits<std::uint64_t>::max())));
}

void cluster_node::may_deliver(const state::record& r, std::function<void(bool)> done) {
    auto it = fences_.find(r.incident_id);
    const bool ok =
        it != fences_.end() && keeper_->leases().may_send(it->second.first, cluster::mono_clock::now(), it->second.second);
    if (!ok || r.kind != "statement") {
        decided(r.seq, r.key, ok);
        done(ok);
        return;
    }
    const auto [p, epoch] = it->second;
    blocking_.post([this, seq = r.seq, key = r.key, p, epoch, done = std::move(done)] {
        const bool confirmed = keeper_->leases().confirm(p);
        ex_.post([this, seq, key, p, epoch, confirmed, done] {
            const bool holds = confirmed && keeper_->leases().may_send(p, cluster::mono_clock::now(), epoch);
            decided(seq, key, holds);
            done(holds);
        });
    });
}

void cluster_node::decided(std::int64_t seq, const std::string& key, bool ok) {
    if (!ok && fenced_logged_.insert(seq).second)
        core::log_warning("cluster: action " + key + " held: this replica does not hold the lease it was written under");
}

}  // namespace crisisd::runtime
