#pragma once
// The partitioned intake of a replica (issue 15): stateless front, partitioned back.
//
// Front: intake hands every admitted mention to route() instead of the pipeline. It finds the
// (rule, key) pairs the mention matches (pipeline::route), and queues one message per partition
// `partition_of(rule, key)` plus one for the mention's home partition, `partition_of(source, id)`,
// for the publisher thread, which puts them on the mention stream with Nats-Msg-Id =
// message_id(source, id, partition): a mention received twice, by one replica or by two, is
// stored once per partition.
//
// Back: the consumer thread fetches from the durable consumer of each partition this replica owns
// and posts each batch to the runtime's executor, where the pipeline observes only the pairs of
// that partition (pipeline::process with a key filter), so detection and incidents for a key run
// on its partition's owner alone. A mention is counted (crisisd_mentions_processed_total) only on
// its home partition, so the replicas' counts add up to the distinct mentions received. The
// batch is acknowledged after its steps were committed, and only while the lease it was fetched
// under still holds: an unacknowledged batch is delivered again, to whoever owns the partition.
//
// Why the home partition: a mention matching nothing would otherwise never reach a stream and
// one matching two partitions would be counted twice; one message per mention names the single
// replica that counts it. It costs one publish for every mention, matched or not.
//
// Exactly once: the partition's owner (cluster_node) keeps the last processed stream sequence in
// the partition's state; the consumer of a newly adopted partition is made anew to start right
// after it, and a message at or below it (redelivered) is skipped. A batch is counted and
// acknowledged once the state naming its last sequence is written.
//
// Thread-safety: route(), start() and stop() on the runtime's thread; the publisher and the
// consumer are threads of their own that reach the pipeline only through the executor.
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

#include "cluster/mention_stream.hpp"
#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "runtime/intake.hpp"
#include "runtime/lease_keeper.hpp"

namespace crisisd::runtime {

// The payload of one stream message: the mention as the front admitted it, and whether the
// partition it goes to counts it.
std::string encode_stream_mention(const core::mention& m, bool counts);
bool decode_stream_mention(std::string_view payload, core::mention& m, bool& counts);

// Who owns the partitions' state (cluster_node): where a partition's consumption resumes, what
// was processed, and when a batch's effects are written (only then is it acknowledged).
class partition_owner {
public:
    struct resume {
        std::uint64_t epoch = 0;   // the lease epoch the partition was adopted under
        std::uint64_t after = 0;   // its state's last processed stream sequence
    };
    virtual ~partition_owner() = default;
    // Any thread: nullopt while the partition is not adopted (not owned, or its state is loading).
    virtual std::optional<resume> resume_point(int p) const = 0;
    // Runtime thread: messages at or below it were processed already (already_processed());
    // nullopt when the partition is no longer adopted under `epoch` (nothing may be processed).
    virtual std::optional<std::uint64_t> last_processed(int p, std::uint64_t epoch) const = 0;
    // Runtime thread: messages of `p` up to `last` were observed under `epoch`, `counted` of them
    // counted; `done(true)` (on the runtime's thread) once the partition's state naming them is
    // written, false when the partition was lost first.
    virtual void batch_processed(int p, std::uint64_t epoch, std::uint64_t last, std::uint64_t counted,
                                 std::function<void(bool)> done) = 0;
};

struct cluster_intake_status {
    long queued = 0;            // messages waiting for the publisher
    long published = 0;         // stored by the stream (or found there already)
    long publish_failures = 0;  // publish attempts that failed (retried)
    long dropped = 0;           // lost to a full publish queue
    long consumed = 0;          // messages processed from owned partitions
};

class cluster_intake final : public mention_router {
public:
    // Opens the mention stream (blocking: before the event loop runs); nullptr and `error` on failure.
    static std::unique_ptr<cluster_intake> open(lease_keeper& keeper, int partitions, detection& det, const clock& clock,
                                                executor& ex, intake_events& events, partition_owner& owner,
                                                std::string& error);
    ~cluster_intake() override;
    cluster_intake(const cluster_intake&) = delete;
    cluster_intake& operator=(const cluster_intake&) = delete;

    void start();
    // Publishes what is queued (for at most `deadline`), then stops both threads. What was
    // fetched but not processed is not acknowledged: the partition's next owner gets it.
    void stop(std::chrono::milliseconds deadline);

    // mention_router
    void route(const core::mention& m, clock::monotonic_time arrival) override;

    cluster_intake_status status() const;
    // Messages route() has queued so far (runtime thread), and how many of the first of them are
    // published or dropped (any thread): a count taken after route() is passed once settled()
    // reaches it. A pull source shares its resume point only then (sources/source_leases.hpp).
    std::uint64_t routed() const { return routed_; }
    std::uint64_t settled() const { return settled_.load(); }
    int partition_of_incident(std::string_view rule, std::string_view key) const;

    static constexpr std::size_t queue_limit = 200000;

private:
    cluster_intake(lease_keeper& keeper, std::unique_ptr<cluster::mention_stream> stream, int partitions,
                   detection& det, const clock& clock, executor& ex, intake_events& events, partition_owner& owner);
    void publish_loop();
    void consume_loop();
    // On the executor: observes a batch of partition `p` fetched under `epoch`, skipping what the
    // partition's state says was processed, and hands it to the owner; `done(false)` when the
    // lease no longer holds (nothing observed).
    void process_batch(int p, std::uint64_t epoch, const std::vector<cluster::stream_message>& batch,
                       std::function<void(bool)> done);

    lease_keeper& keeper_;
    std::unique_ptr<cluster::mention_stream> stream_;
    int partitions_;
    detection& det_;
    const clock& clock_;
    executor& ex_;
    intake_events& events_;
    partition_owner& owner_;
    std::vector<std::pair<std::size_t, std::string>> pairs_;   // route() scratch (runtime thread)
    core::mention decoded_;                                    // process_batch scratch (runtime thread)

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<cluster::outgoing_mention> queue_;   // guarded by m_
    bool stop_ = false;                             // guarded by m_
    bool drain_ = true;                             // guarded by m_: publish what is queued before stopping
    std::thread publisher_;
    std::thread consumer_;
    std::atomic<bool> consumer_stop_{false};
    std::atomic<long> published_{0};
    std::atomic<long> publish_failures_{0};
    std::atomic<long> dropped_{0};
    std::atomic<long> consumed_{0};
    std::uint64_t routed_ = 0;                   // runtime thread
    std::atomic<std::uint64_t> settled_{0};
};

}  // namespace crisisd::runtime
