#pragma once
// Where a partition's state lives in JetStream (issue 15): one entry per partition, key "p<n>",
// in a key-value bucket (default `crisisd_state`, R3, history 1, no expiry). The runtime decides
// what the value holds (runtime/partition_state.hpp); this stores bytes.
//
// Why a key-value bucket and not a stream per partition: the state is replaced whole on every
// write, so only the newest value matters (history 1 keeps one per partition, whatever the
// traffic), a new owner reads it with one request instead of replaying, and every write is a
// compare-and-set on the entry's revision (JetStream's expected last subject sequence). That is
// the fence for the state itself: a stale owner that still believes in its lease writes against
// the revision it last saw, and once the new owner has written, the stale write is refused.
//
// A value is limited by the servers' max_payload (1 MiB by default): a partition holding more
// (thousands of open incidents with long histories) cannot be written, and its owner stops
// sending until it can (nothing is sent that is not written). More partitions make each smaller;
// the runtime leaves finished resolved incidents out first (runtime/partition_state.hpp).
//
// Thread-safety: as nats_connection (calls block up to the request timeout; not on the event loop).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster {

namespace detail {
class kv_bucket;
}

class partition_store {
public:
    static std::unique_ptr<partition_store> open(nats_connection& conn, int replicas, std::string& error,
                                                 const std::string& bucket = "crisisd_state");
    ~partition_store();
    partition_store(const partition_store&) = delete;
    partition_store& operator=(const partition_store&) = delete;

    static std::string key(int partition) { return "p" + std::to_string(partition); }

    struct loaded {
        bool ok = false;          // false: NATS did not answer (try again)
        std::string value;        // empty when the partition has no state yet
        std::uint64_t revision = 0;
        std::string error;
    };
    loaded load(int partition);

    // too_large: the value exceeds the servers' max_payload (max_payload()); the same value will
    // never be taken, only a smaller one.
    enum class outcome { ok, conflict, unavailable, too_large };
    struct written {
        outcome result = outcome::unavailable;
        std::uint64_t revision = 0;   // the new revision when ok
        std::string error;
    };
    // Writes `value` if the entry's revision is still `expected` (0: no entry yet).
    written write(int partition, std::string_view value, std::uint64_t expected);
    // The largest value a write can carry: the servers' max_payload less room for the headers.
    std::size_t value_limit() const;

private:
    partition_store(nats_connection& conn, std::unique_ptr<detail::kv_bucket> kv);
    nats_connection& conn_;
    std::unique_ptr<detail::kv_bucket> kv_;
};

}  // namespace crisisd::cluster
