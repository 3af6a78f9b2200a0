#pragma once
// The partitioned back's input: matched mentions on a JetStream stream, one subject per partition.
// Any replica publishes what it matched; the owner of a partition consumes it.
//
// Design, and why:
// - partition_of(rule, key) is FNV-1a over the bytes with splitmix64's finalizer, not std::hash: every replica, whatever its
//   build or machine, must send a (rule, key) to the same partition, and a change here moves keys
//   between owners, so it is fixed and pinned by a unit test.
// - A message is a batch (cluster/mention_batch.hpp): every mention one front has for one
//   partition when it publishes, so the servers store, replicate and deliver one message where
//   they did one per mention (their per-message work was ~80 % of the cluster's CPU). Its
//   Nats-Msg-Id is batch_id(front, n): a batch published again after a lost acknowledgement
//   carries the same id and bytes, and JetStream drops the second copy inside its duplicate
//   window. A mention received twice (by two fronts, or by one front more than its source's
//   de-duplication window apart) is in two batches with two ids: the partition's owner drops it
//   by the mention's own id (runtime/cluster_intake.hpp says how that survives a takeover).
// - One durable pull consumer per partition ("p<n>", ack-all): whoever owns the partition
//   binds to it and resumes at the first unacknowledged message, so a takeover neither skips nor
//   needs to know where the old owner stopped. Delivery is at least once; the owner makes
//   processing idempotent by the message's stream sequence (kept with the partition's state).
//   A partition is processed in order, so one acknowledgement covers everything before it: the
//   owner acks once per fetch, after its effects are written, not once per message.
// - Retention by age (`max_age`, two days): a new owner reads a partition's last messages back
//   (those holding its recent mention ids, from a sequence its state names), so they must still
//   be there at a takeover; the acknowledgement does not remove them.
//
// Thread-safety: as nats_connection; a partition_consumer is used by one thread at a time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster {

struct stream_settings {
    std::string name = "crisisd_mentions";
    std::string subject_prefix = "crisisd.mentions";   // partition n is <prefix>.<n>
    int partitions = 16;
    int replicas = 3;
    std::chrono::milliseconds duplicate_window{std::chrono::minutes(10)};
    std::chrono::milliseconds max_age{std::chrono::hours(48)};
    // A fetched message not acknowledged within this long is delivered again, to whoever owns the
    // partition then. A crashed owner's fetched batch reaches the new owner only after this, so it
    // is of the order of the lease ttl: longer delays takeovers, shorter redelivers slow batches.
    std::chrono::milliseconds ack_wait{std::chrono::seconds(10)};
};

// The partition of (rule, key): stable across builds, machines and versions.
int partition_of(std::string_view rule, std::string_view key, int partitions);

// The Nats-Msg-Id of batch `n` of the front `front` (a name unique to one running replica).
// Control characters (which a header value cannot carry) become '?'.
std::string batch_id(std::string_view front, std::uint64_t n);

struct publish_result {
    enum class outcome { stored, duplicate, failed };
    outcome result = outcome::failed;
    std::uint64_t sequence = 0;   // the stream sequence (of the first copy, for a duplicate)
    std::string error;
};

struct outgoing_mention {
    int partition = 0;
    std::string msg_id;
    std::string payload;
};

class mention_stream {
public:
    // Creates the stream (or binds to it when it exists); nullptr and `error` on failure.
    static std::unique_ptr<mention_stream> open(nats_connection& conn, stream_settings settings, std::string& error);
    ~mention_stream();
    mention_stream(const mention_stream&) = delete;
    mention_stream& operator=(const mention_stream&) = delete;

    // Publishes `payload` to `partition`'s subject with `msg_id` as Nats-Msg-Id; blocks until the
    // stream has stored it (R3: a quorum has) or the request timed out.
    publish_result publish(int partition, const std::string& msg_id, std::string_view payload);

    // Publishes a batch pipelined (many in flight, one wait for all acknowledgements): the way to
    // publish at intake rates, where one round trip per mention would cap a replica at a few
    // thousand a second. results[i] belongs to batch[i]. One thread at a time.
    std::vector<publish_result> publish_batch(const std::vector<outgoing_mention>& batch);

    // The largest payload a message may have: the servers' max_payload less room for the headers.
    std::size_t max_payload() const;

    std::string subject(int partition) const { return settings_.subject_prefix + "." + std::to_string(partition); }
    const stream_settings& settings() const noexcept { return settings_; }

    struct batch_state;

private:
    mention_stream(nats_connection& conn, stream_settings settings);
    nats_connection& conn_;
    stream_settings settings_;
    std::unique_ptr<batch_state> batch_;   // the async context and the batch in flight
};

// One message fetched from a partition; keeps the client's message alive until acknowledged.
struct stream_message {
    std::uint64_t sequence = 0;    // stream sequence: the idempotency key of its processing
    std::uint64_t deliveries = 0;  // 1 the first time; more after an owner died before acking
    std::uint64_t pending = 0;     // messages of the consumer stored after it, when it was sent
    std::string msg_id;
    std::string payload;
    std::shared_ptr<void> handle;  // natsMsg*
};

class partition_consumer {
public:
    // Binds to (or creates) the durable consumer of `partition`. With `after`, the durable is
    // made anew (deleted first) to deliver from stream sequence after + 1: the partition's new
    // owner resumes where its state says, and messages its predecessor fetched without finishing
    // come at once instead of after the ack wait.
    static std::unique_ptr<partition_consumer> open(nats_connection& conn, const stream_settings& settings, int partition,
                                                    std::string& error, std::optional<std::uint64_t> after = std::nullopt);
    ~partition_consumer();
    partition_consumer(const partition_consumer&) = delete;
    partition_consumer& operator=(const partition_consumer&) = delete;

    // Up to `max` messages, waiting at most `wait`; true with none when nothing came. (By count,
    // not bytes: a server refuses a pull whose byte limit is below its next message's size, and
    // that message would never be delivered.)
    // A fetch of several messages waits until all of them came (or `wait` passed): to wait for
    // the next message and take what else is stored, fetch one and then its `pending`.
    bool fetch(std::vector<stream_message>& out, int max, std::chrono::milliseconds wait, std::string& error);
    // Acknowledges `m` and every message of this partition before it (one round trip); they are
    // not delivered again, to this owner or the next.
    bool ack(const stream_message& m);

private:
    explicit partition_consumer(void* sub) : sub_(sub) {}
    void* sub_;   // natsSubscription*
};

}  // namespace crisisd::cluster
