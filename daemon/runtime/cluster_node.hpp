#pragma once
// A replica in cluster mode (issue 15): its partition leases (lease_keeper), in the "partitions"
// mode its partitioned intake (cluster_intake), and each owned partition's state in JetStream
// (runtime/partition_state.hpp, cluster/partition_store.hpp). The daemon wires it in: the intake
// routes through router(), the step writer reports queued actions to action_queued(), whatever
// changes an incident or an outbox record reports changed(), the delivery loop asks
// may_deliver() before each send.
//
// A partition's life on this replica:
// - `acquired` (a new lease epoch): its state is read from the bucket on the state thread, then
//   adopted here, on the runtime's thread: whatever this replica still held of the partition
//   goes, the incidents go into the engine (restore_reason::reload: a veto wait keeps its end,
//   and one that ran out while nobody owned the partition fires at the next tick), the outbox
//   records into the outbox as the previous owner left them (an attempt started and not finished
//   is checked with the destination first, as after a crash), silences and detector windows too.
//   The adopted state is written back at once under the new epoch, so a stale owner's write
//   (compare-and-set on the old revision) is refused from then on. Only then does the intake
//   consume the partition, on a consumer made anew: from the state's `window_from` (messages up
//   to the stored last stream sequence are read back into the partition's recent mention ids, not
//   processed; cluster_intake.hpp), then from the stored sequence + 1.
// - While owned: after each step's commit the partition's state is written whole (coalesced: at
//   most one write in flight per partition, the newest state wins). A batch of the stream is
//   acknowledged and counted (crisisd_mentions_processed_total) once the state naming its last
//   sequence is written, and an action is sent only once the state holding it is written — so a
//   mention is counted by exactly one owner, and a new owner knows of everything ever sent.
// - `lost` or `released`: its incidents, outbox records and detector keys leave this replica at
//   once; sends waiting for its state are refused.
//
// Why detector windows are stored with the state rather than kept warm by standbys replaying the
// stream: the windows of a partition's keys are a few kilobytes per live key and go out with a
// write the step needs anyway, while a standby would have to consume every partition's stream
// all the time (three times the consumption for three replicas) and still could not tell which
// of the replayed mentions its predecessor had observed before a kill.
//
// The "leases" diagnostic (CRISISD_CLUSTER_PREVIEW=leases) holds leases and shows them
// in /metrics but sends nothing (sends() is false: the outbox is not started).
//
// Thread-safety: everything on the runtime's thread (the executor's), except what the lease,
// state and intake threads and the blocking executor run inside; resume_point() is thread-safe.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/partition_store.hpp"
#include "cluster/replica_figures.hpp"
#include "cluster/settings.hpp"
#include "runtime/cluster_intake.hpp"
#include "runtime/lease_keeper.hpp"
#include "runtime/partition_state.hpp"
#include "state/actions.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

class cluster_node final : public partition_owner {
public:
    // Connects, opens the leases and, for "partitions", the mention stream and the state bucket
    // (blocking: before the event loop runs), and logs which mode runs; nullptr and `error` on
    // failure. `blocking` runs the bucket round trip a statement's send waits for, off the
    // runtime's thread. In "partitions" mode the incidents and outbox records the state database
    // holds from an earlier run are dropped: a partition's state is the one in JetStream.
    static std::unique_ptr<cluster_node> open(const cluster::cluster_settings& settings, std::string_view mode,
                                              detection& det, state::database& store, const clock& clock, executor& ex,
                                              executor& blocking, intake_events& events, std::string& error);
    ~cluster_node() override;
    cluster_node(const cluster_node&) = delete;
    cluster_node& operator=(const cluster_node&) = delete;

    // What the runtime shows and wakes when a partition's state was adopted or dropped.
    struct hooks {
        std::function<void(const std::vector<std::uint64_t>& ids)> incidents_changed;
        std::function<void()> outbox_changed;   // records were adopted or dropped: wake delivery
    };
    void set_hooks(hooks h) { hooks_ = std::move(h); }

    // The partitioned intake, for intake::set_router(); nullptr in the lease diagnostic.
    mention_router* router() { return intake_.get(); }
    // The same, for the front's publish counts (cluster_intake::routed/settled); nullptr alike.
    const cluster_intake* front() const { return intake_.get(); }
    // Whether the outbox is sent: the lease diagnostic must not page or post beside its peers.
    bool sends() const { return intake_ != nullptr; }
    // The instance destinations see in action keys: one for the whole cluster (notify::platform_key).
    static constexpr const char* delivery_instance = "crisisd-cluster";

    void start();
    // Publishes what the front took (for at most `deadline`) and stops the intake's threads.
    void stop_intake(std::chrono::milliseconds deadline);
    // Stops the lease and state threads (and the intake, if still running); with `release` (a
    // graceful shutdown, once delivery has stopped) peers take the partitions over at once, not
    // after the TTL. The state written last stays: the next owner goes on from it.
    void stop(bool release);

    // An action of incident `id` is in the outbox: its partition's state is written before it is sent.
    void action_queued(std::uint64_t id);
    // Incident `id` or one of its outbox records changed: its partition's state is written again.
    void changed(std::uint64_t id);
    // A silence was set for rule/key (every key: empty): the partitions it covers are written again.
    void silenced(std::string_view rule, std::string_view key);
    // The rules were reloaded and the engine replaced: cluster incident ids are issued again.
    void engine_replaced();
    // Right before a send: `done(true)` while this replica holds the partition's lease under the
    // epoch it adopted the partition with and the partition's state naming the record is written
    // (a statement's state is written again first, with its attempt marked started); a public
    // statement also asks the bucket (one round trip, on `blocking`). `done` runs on the
    // executor, at once or later. A hold is logged once per record.
    void may_deliver(const state::record& r, std::function<void(bool)> done);

    lease_status leases() const { return keeper_->status(); }
    std::optional<cluster_intake_status> intake() const;
    // The leases, the intake and how the partitions' state values compare with what NATS takes
    // (max_payload), as /metrics shows them.
    cluster::replica_figures figures() const;

    // partition_owner (cluster_intake)
    std::optional<resume> resume_point(int p) const override;
    std::optional<std::uint64_t> last_processed(int p, std::uint64_t epoch) const override;
    void batch_processed(int p, std::uint64_t epoch, std::uint64_t last, std::uint64_t counted,
                         std::uint64_t window_from, std::function<void(bool)> done) override;

private:
    cluster_node(std::unique_ptr<lease_keeper> keeper, const cluster::cluster_settings& settings, detection& det,
                 state::database& store, const clock& clock, executor& ex, executor& blocking, intake_events& events);

    enum class phase { idle, loading, ready };
    struct waiter {
        std::uint64_t gen = 0;
        std::function<void(bool)> done;
        std::uint64_t counted = 0;   // a batch's mentions, counted once written
    };
    // One partition as the runtime's thread sees it.
    struct partition_run {
        phase at = phase::idle;
        std::uint64_t epoch = 0;
        std::uint64_t next_sequence = 1;
        std::uint64_t last_stream_sequence = 0;
        std::uint64_t counted = 0;   // in the state (written or about to be)
        std::uint64_t window_from = 0;
        std::uint64_t gen = 0;       // snapshots made under this epoch
        std::uint64_t written = 0;   // the newest of them the bucket acknowledged
        bool dirty = false;
        std::vector<waiter> waiting;   // batches and sends waiting for a write
        std::size_t left_out = 0;      // resolved incidents the last value left out (to log changes)
    };

    void leases_changed(const cluster::lease_round& round);
    void adopt(int p, std::uint64_t epoch, partition_state st, bool fresh);
    void drop(int p, const char* why);
    void mark_dirty(int p);
    void flush();
    partition_state snapshot(int p) const;
    void written(int p, std::uint64_t epoch, std::uint64_t gen);
    void refused(int p, std::uint64_t epoch, const std::string& why);
    void install_ids();
    int partition_of_key(std::string_view rule, std::string_view key) const;
    void decided(std::int64_t seq, const std::string& key, bool ok);
    void confirm_and_send(int p, const state::record& r, std::function<void(bool)> done);

    // The state thread: loads and writes of partition state, in order per partition.
    void state_loop();
    struct write_job {
        std::uint64_t epoch = 0;
        std::uint64_t gen = 0;
        std::string value;
    };

    cluster::cluster_settings settings_;
    std::unique_ptr<lease_keeper> keeper_;
    std::unique_ptr<cluster::partition_store> store_state_;
    std::unique_ptr<cluster_intake> intake_;  // after keeper_: it uses it
    detection& det_;
    state::database& db_;
    const clock& clock_;
    executor& ex_;
    executor& blocking_;
    intake_events& events_;
    hooks hooks_;
    int partitions_ = 16;

    std::vector<partition_run> parts_;                    // runtime thread
    std::map<std::uint64_t, std::uint64_t> needs_gen_;    // incident id -> gen its newest action needs
    bool flush_posted_ = false;
    std::set<std::int64_t> fenced_logged_;  // records whose hold was logged

    // Shared with the intake's consumer thread: where each ready partition resumes.
    mutable std::mutex resume_m_;
    std::map<int, resume> resume_;

    // The state thread's queue.
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::pair<int, std::uint64_t>> loads_;   // (partition, epoch)
    std::map<int, write_job> writes_;                   // newest per partition
    bool stop_ = false;
    bool busy_ = false;                                 // a load or write is under way
    std::map<int, std::uint64_t> revision_;             // state thread only

    // The state values' sizes, for figures().
    mutable std::mutex sizes_m_;
    std::map<int, std::size_t> value_bytes_;   // owned partitions' last value
    std::set<int> too_large_;                  // owned partitions whose last value the servers refused
    long compacted_writes_ = 0;
    std::atomic<long> takeovers_{0};   // partitions adopted with an earlier owner's state (for /metrics)
    std::thread state_thread_;
};

}  // namespace crisisd::runtime
