#pragma once
// The partitioned intake of a replica (issue 15): stateless front, partitioned back.
//
// Front: intake hands every admitted mention to route() instead of the pipeline. It finds the
// (rule, key) pairs the mention matches (pipeline::route) and queues one entry for each partition
// `partition_of(rule, key)` plus one for the mention's home partition, `partition_of(source, id)`.
// The publisher thread takes what is queued (waiting at most `linger` for a round to fill, so a
// quiet front adds at most that to a page's latency), packs each partition's entries into one
// message (cluster/mention_batch.hpp; split where it would pass the servers' max_payload) and
// publishes them pipelined, each with its own Nats-Msg-Id (batch_id(front, n)). A message whose
// acknowledgement did not come is published again with the same id and bytes until it is stored,
// so a mention the front took is not lost to a leader election or a reconnect, and a copy stored
// twice (the first acknowledgement lost) is dropped by JetStream.
//
// Back: a consumer thread per owned partition fetches from the partition's durable consumer
// (waiting for one message, then taking those stored behind it) and posts each batch to the
// runtime's executor, where the pipeline observes only the pairs of that partition
// (pipeline::process with a key filter), so detection and incidents for a key run
// on its partition's owner alone. A mention is counted (crisisd_mentions_processed_total) only on
// its home partition, so the replicas' counts add up to the distinct mentions received. The
// batch is acknowledged after its steps were committed, and only while the lease it was fetched
// under still holds: an unacknowledged batch is delivered again, to whoever owns the partition.
//
// Why the home partition: a mention matching nothing would otherwise never reach a stream and
// one matching two partitions would be counted twice; one entry per mention names the single
// replica that counts it. It costs one entry for every mention, matched or not.
//
// Exactly once, per message: the partition's owner (cluster_node) keeps the last processed stream
// sequence in the partition's state; a message at or below it (redelivered) is not processed
// again, and a batch is counted and acknowledged once the state naming its last sequence is
// written.
//
// Exactly once, per mention: the same mention can reach a partition in two messages (two fronts
// received it, or one front more than its source's de-duplication window apart); JetStream's
// per-message id no longer tells them apart. Each partition's owner keeps the (source, id) of
// the last `window_mentions` entries it processed (recent_mentions) and drops an entry it has
// seen. The ids themselves are not written with the partition's state, which is written whole on
// every batch (65k ids would be most of each write); the state names instead the stream sequence
// from which the partition's messages hold those entries (`window_from`), and the next owner
// makes its consumer from there, reading the messages up to the stored sequence back into its
// window without processing them before it goes on. The stream keeps messages for `max_age`
// (days), so they are there; reading ~65k entries back takes a fraction of a second of a
// takeover. A duplicate more than `window_mentions` entries of its partition apart is counted
// again (a single node's per-source window is 16k). The window is sized for the copies' skew: a
// copy waits at most a front's queue and round (queue_limit + round_entries, ~49k entries) more
// than the other, and measured with 3 fronts, a million mentions and every tenth posted to two
// fronts, a 16k window let 361 through.
//
// Overload: the publish queue holds `queue_limit` entries. A front taking mentions faster than the
// stream stores them says it has no room (has_room()), and intake stops handing it mentions: the
// frames wait in their sources' queues, which stop their sources reading when full, and HTTP
// ingest holds its answer, until the publisher's next round makes room (notify_when_room()) - so
// intake slows to the cluster's pace and nothing accepted is dropped, while the runtime's thread
// goes on serving the admin API, ticks and deliveries. A mention offered all the same (a pull
// source's few frames) makes route() wait for the publisher, at most a second. Only while
// publishing fails (NATS unreachable) is there always room, and a full queue drops its oldest
// entries (counted, crisisd_cluster_publish_dropped_total), so the replica keeps serving.
//
// Thread-safety: route(), start() and stop() on the runtime's thread; the publisher, the consumer
// supervisor and the per-partition consumers are threads of their own that reach the pipeline
// only through the executor.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/mention_batch.hpp"
#include "cluster/mention_stream.hpp"
#include "cluster/settings.hpp"
#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "runtime/intake.hpp"
#include "runtime/lease_keeper.hpp"

namespace crisisd::runtime {

// What a partition's owner remembers of the mentions it processed lately: their (source, id), to
// drop a second copy, and which stream messages hold the last `keep` of them, so the next owner
// can read them back (from()). Not thread-safe: the runtime's thread.
class recent_mentions {
public:
    explicit recent_mentions(std::size_t keep);
    // True the first time (source, id) is seen; remembers it.
    bool first_time(std::string_view source, std::string_view id);
    // Stream message `seq` held `entries` entries, all passed to first_time().
    void message_done(std::uint64_t seq, std::size_t entries);
    // The oldest stream sequence whose message is needed to hold the last `keep` entries; 0 before any.
    std::uint64_t from() const { return messages_.empty() ? 0 : messages_.front().first; }

private:
    // A 64-bit hash per id, not the id: 65k ids of 16 partitions in strings would be ~150 MB. Two
    // different ids with one hash make the second look seen: with at most ~100k hashes held, a
    // chance of about 1 in 10^14 per mention.
    std::size_t find(std::uint64_t hash) const;   // index cell, or npos
    void erase_cell(std::size_t cell);

    std::size_t keep_;
    std::vector<std::uint64_t> ring_;    // hashes in arrival order; slot next_ is written next
    std::size_t next_ = 0;
    std::size_t size_ = 0;
    std::vector<std::uint32_t> index_;   // open addressing (linear probing) of slot + 1; 0 empty
    std::size_t mask_ = 0;
    std::deque<std::pair<std::uint64_t, std::size_t>> messages_;   // (sequence, entries), oldest first
    std::size_t entries_ = 0;                                      // in messages_
    std::string key_;                                              // scratch
};

// Who owns the partitions' state (cluster_node): where a partition's consumption resumes, what
// was processed, and when a batch's effects are written (only then is it acknowledged).
class partition_owner {
public:
    struct resume {
        std::uint64_t epoch = 0;   // the lease epoch the partition was adopted under
        std::uint64_t after = 0;   // its state's last processed stream sequence
        std::uint64_t from = 0;    // read back from here to `after` into the recent ids (0: nothing)
    };
    virtual ~partition_owner() = default;
    // Any thread: nullopt while the partition is not adopted (not owned, or its state is loading).
    virtual std::optional<resume> resume_point(int p) const = 0;
    // Runtime thread: messages at or below it were processed already (already_processed());
    // nullopt when the partition is no longer adopted under `epoch` (nothing may be processed).
    virtual std::optional<std::uint64_t> last_processed(int p, std::uint64_t epoch) const = 0;
    // Runtime thread: messages of `p` up to `last` were observed under `epoch`, `counted` of their
    // mentions counted, and the recent ids are held by the messages from `window_from` on;
    // `done(true)` (on the runtime's thread) once the partition's state naming them is written,
    // false when the partition was lost first.
    virtual void batch_processed(int p, std::uint64_t epoch, std::uint64_t last, std::uint64_t counted,
                                 std::uint64_t window_from, std::function<void(bool)> done) = 0;
};

struct cluster_intake_status {
    long queued = 0;            // entries (a mention for a partition) waiting for the publisher
    long published = 0;         // entries stored by the stream (or found there already)
    long publish_failures = 0;  // entries whose publish failed (retried)
    long dropped = 0;           // entries lost to a full publish queue, or too large for any message
    long consumed = 0;          // entries processed from owned partitions
    long duplicates = 0;        // entries an owner dropped as seen before
    // Per partition: messages stored behind the last one its consumer here fetched (0 for the
    // partitions not consumed here): how far this owner is behind its stream.
    std::vector<std::uint64_t> stream_lag;
};

class cluster_intake final : public mention_router {
public:
    // Opens the mention stream (blocking: before the event loop runs); nullptr and `error` on failure.
    // `front` names this replica in its batches' message ids; the stream and its subjects are
    // `names`' (the cluster's namespace).
    static std::unique_ptr<cluster_intake> open(lease_keeper& keeper, std::string_view front,
                                                const cluster::nats_names& names, int partitions, detection& det,
                                                const clock& clock, executor& ex, intake_events& events,
                                                partition_owner& owner, std::string& error);
    ~cluster_intake() override;
    cluster_intake(const cluster_intake&) = delete;
    cluster_intake& operator=(const cluster_intake&) = delete;

    void start();
    // Publishes what is queued (for at most `deadline`), then stops both threads. What was
    // fetched but not processed is not acknowledged: the partition's next owner gets it.
    void stop(std::chrono::milliseconds deadline);

    // mention_router
    void route(const core::mention& m, clock::monotonic_time arrival) override;
    // No room while the publish queue could not take one more mention's entries (one per
    // partition at most) and publishing works; any thread.
    bool has_room() const override { return !full_.load(std::memory_order_acquire); }
    void notify_when_room(std::function<void()> wake) override;

    cluster_intake_status status() const;
    // Messages route() has queued so far (runtime thread), and how many of the first of them are
    // published or dropped (any thread): a count taken after route() is passed once settled()
    // reaches it. A pull source shares its resume point only then (sources/source_leases.hpp).
    std::uint64_t routed() const { return routed_; }
    std::uint64_t settled() const { return settled_.load(); }
    int partition_of_incident(std::string_view rule, std::string_view key) const;

    static constexpr std::size_t queue_limit = 32768;                   // entries
    static constexpr std::size_t round_entries = 16384;                 // at most this many per publish round
    static constexpr std::size_t fill_entries = 2048;                   // a round this full goes without lingering
    static constexpr std::chrono::milliseconds linger{2};               // a round waits at most this to fill
    static constexpr std::size_t message_bytes = 256 * 1024;            // a message's size, unless max_payload is less
    static constexpr std::size_t window_mentions = 65536;               // recent ids kept per partition

private:
    cluster_intake(lease_keeper& keeper, std::unique_ptr<cluster::mention_stream> stream, std::string front,
                   int partitions, detection& det, const clock& clock, executor& ex, intake_events& events,
                   partition_owner& owner);
    void publish_loop();
    void consume_loop();
    // One partition's consumer, while this replica holds it under `epoch`.
    void consume_partition(int p, std::uint64_t epoch, const std::atomic<bool>& stop);
    // On the executor: observes a batch of partition `p` fetched under `epoch` by its consumer
    // `made` (the how-manyth made for the partition), skipping what the partition's state says was
    // processed (read into the recent ids only) and mentions seen before, and hands it to the
    // owner; `done(false)` when the lease no longer holds (nothing observed).
    void process_batch(int p, std::uint64_t epoch, std::uint64_t made, const std::vector<cluster::stream_message>& batch,
                       std::function<void(bool)> done);

    lease_keeper& keeper_;
    std::unique_ptr<cluster::mention_stream> stream_;
    int partitions_;
    detection& det_;
    const clock& clock_;
    executor& ex_;
    intake_events& events_;
    partition_owner& owner_;
    std::string front_;
    std::uint64_t next_batch_ = 0;                             // publisher thread
    std::vector<std::pair<std::size_t, std::string>> pairs_;   // route() scratch (runtime thread)
    core::mention decoded_;                                    // process_batch scratch (runtime thread)
    // Runtime thread: each partition's recent ids, for the consumer (epoch, made) that read them.
    struct window {
        std::uint64_t epoch = 0;
        std::uint64_t made = 0;
        recent_mentions ids{window_mentions};
    };
    std::map<int, std::unique_ptr<window>> windows_;

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<cluster::batch_entry> queue_;         // guarded by m_
    bool stop_ = false;                             // guarded by m_
    bool drain_ = true;                             // guarded by m_: publish what is queued before stopping
    bool failing_ = false;                          // guarded by m_: the publisher is retrying a failed round
    std::condition_variable room_;                  // the publisher took a round: route() may queue again
    std::atomic<bool> full_{false};                 // written under m_ (room_changed()), read anywhere
    std::function<void()> room_wake_;               // guarded by m_: notify_when_room()'s, until room
    // Under m_: sets full_ from the queue, and hands back the wake to call (outside m_) when there
    // is room again.
    std::function<void()> room_changed();
    std::thread publisher_;
    std::thread consumer_;
    std::atomic<bool> consumer_stop_{false};
    std::atomic<std::uint64_t> made_{0};   // consumers made, numbering them
    std::atomic<long> published_{0};
    std::atomic<long> publish_failures_{0};
    std::atomic<long> dropped_{0};
    std::atomic<long> consumed_{0};
    std::uint64_t routed_ = 0;                   // runtime thread
    std::atomic<std::uint64_t> settled_{0};
    std::atomic<long> duplicates_{0};
    std::unique_ptr<std::atomic<std::uint64_t>[]> lag_;   // per partition, set by its consumer thread
};

}  // namespace crisisd::runtime
