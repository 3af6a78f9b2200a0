#pragma once
// A replica in cluster mode (issue 15, preview): its partition leases (lease_keeper), in the
// "partitions" preview its partitioned intake (cluster_intake), and the fence that holds an
// outbox record unless this replica still holds the lease its incident's actions were written
// under. The daemon wires it in: the intake routes through router(), the step writer reports
// queued actions to action_queued(), the delivery loop asks may_deliver() before each send.
//
// The preview modes (CRISISD_CLUSTER_PREVIEW, app/cli.hpp): "leases" holds leases and shows them
// in /metrics but sends nothing (sends() is false: the outbox is not started); "partitions" also
// partitions intake and detection and sends, fenced. Neither is complete: a new owner starts a
// partition's incidents afresh.
//
// Thread-safety: everything on the runtime's thread (the executor's), except what the lease and
// intake threads and the blocking executor run inside.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "cluster/settings.hpp"
#include "runtime/cluster_intake.hpp"
#include "runtime/lease_keeper.hpp"
#include "state/actions.hpp"

namespace crisisd::runtime {

class cluster_node {
public:
    // Connects, opens the leases and, for "partitions", the mention stream (blocking: before the
    // event loop runs), and logs which preview runs; nullptr and `error` on failure. `blocking`
    // runs the bucket round trip a statement's send waits for, off the runtime's thread.
    static std::unique_ptr<cluster_node> open(const cluster::cluster_settings& settings, std::string_view mode,
                                              detection& det, const clock& clock, executor& ex, executor& blocking,
                                              intake_events& events, std::string& error);
    cluster_node(const cluster_node&) = delete;
    cluster_node& operator=(const cluster_node&) = delete;

    // The partitioned intake, for intake::set_router(); nullptr in the lease preview.
    mention_router* router() { return intake_.get(); }
    // Whether the outbox is sent: the lease preview must not page or post beside its peers.
    bool sends() const { return intake_ != nullptr; }

    void start();
    // Publishes what the front took (for at most `deadline`) and stops the intake's threads.
    void stop_intake(std::chrono::milliseconds deadline);
    // Stops the lease thread (and the intake, if still running); with `release` (a graceful
    // shutdown, once delivery has stopped) peers take the partitions over at once, not after the TTL.
    void stop(bool release);

    // An action of incident `id` is in the outbox: the first fixes the partition and lease epoch
    // the incident's actions are fenced by.
    void action_queued(std::uint64_t id);
    // Right before a send: `done(true)` while the lease the incident's actions were written under
    // still holds; a public statement also asks the bucket (one round trip, on `blocking`).
    // `done` runs on the executor, at once or later. A hold is logged once per record.
    void may_deliver(const state::record& r, std::function<void(bool)> done);

    lease_status leases() const { return keeper_->status(); }
    std::optional<cluster_intake_status> intake() const;

private:
    cluster_node(std::unique_ptr<lease_keeper> keeper, executor& ex, executor& blocking);
    void decided(std::int64_t seq, const std::string& key, bool ok);

    std::unique_ptr<lease_keeper> keeper_;
    std::unique_ptr<cluster_intake> intake_;  // after keeper_: it uses it
    executor& ex_;
    executor& blocking_;
    // The partition and lease epoch each incident's actions are fenced by: the epoch under which
    // its first action was written. An action of an incident not here (written by an earlier run)
    // is held: this replica cannot tell whether its partition moved meanwhile.
    std::map<std::uint64_t, std::pair<int, std::uint64_t>> fences_;
    std::set<std::int64_t> fenced_logged_;  // records whose hold was logged
    detection* det_ = nullptr;
};

}  // namespace crisisd::runtime
