#pragma once
// The lease bucket as partition_leases uses it: compare-and-set writes that tell a lost race
// (conflict) from an unreachable cluster (unavailable), and a snapshot of every key. Writes go
// straight to the bucket's stream subject with JetStream's expected-last-subject-sequence check
// rather than through kvStore_Create/Update, because those do not report which of the two
// happened, and the difference decides between "someone else owns it" and "keep trying".
// Thread-safety: as nats_connection (calls block up to the request timeout).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster::detail {

enum class kv_outcome { ok, conflict, unavailable };

struct kv_write_result {
    kv_outcome outcome = kv_outcome::unavailable;
    std::uint64_t revision = 0;   // the new revision when ok
    std::string error;            // why, when not ok
    bool too_large = false;       // unavailable because the value exceeds the servers' max_payload
};

struct kv_entry {
    std::string key;
    std::string value;
    std::uint64_t revision = 0;
    bool deleted = false;   // a delete or purge marker: the key is free, at this revision
};

class kv_bucket {
public:
    // Creates the bucket (history 1, max age = ttl, the given replicas) or binds to it when it
    // exists with the same ttl; a bucket with another ttl is refused, since fencing is only
    // sound when the bucket drops a lease exactly when its owners think it does.
    static std::unique_ptr<kv_bucket> open(nats_connection& conn, const lease_settings& s, std::string& error);
    // The same for a bucket of another purpose (the member directory, the statement caps):
    // `description` is what the servers show for it.
    static std::unique_ptr<kv_bucket> open(nats_connection& conn, const std::string& bucket, std::chrono::milliseconds ttl,
                                           int replicas, const char* description, std::string& error);
    // A bucket whose entries never expire (history 1): the partitions' state, the pull sources'
    // resume points.
    static std::unique_ptr<kv_bucket> open_durable(nats_connection& conn, const std::string& bucket, int replicas,
                                                   std::string& error,
                                                   const char* description = "crisisd partition state");
    ~kv_bucket();

    // Writes `value` if the key's latest revision is `expected` (0: the key has no entry at all).
    kv_write_result write(const std::string& key, const std::string& value, std::uint64_t expected);
    // Writes unconditionally.
    kv_write_result put(const std::string& key, const std::string& value);
    // The latest entry of every key present (deleted markers included); false on failure.
    bool snapshot(std::vector<kv_entry>& out, std::string& error);
    // The latest revision of one key: 0 when absent, nullopt-like false on failure.
    bool revision(const std::string& key, std::uint64_t& out, std::string& error);
    // The latest entry of one key (revision 0 when absent); false on failure.
    bool get(const std::string& key, kv_entry& out, std::string& error);
    // The latest value and revision of one key (revision 0 and no value when absent or deleted);
    // false on failure.
    bool get(const std::string& key, std::string& value, std::uint64_t& revision, std::string& error);

private:
    kv_bucket(nats_connection& conn, std::string bucket, void* kv);
    kv_write_result publish(const std::string& key, const std::string& value, bool check, std::uint64_t expected);

    nats_connection& conn_;
    std::string bucket_;
    void* kv_;   // kvStore*, kept opaque so this header needs no nats.h
    std::chrono::milliseconds timeout_;
};

}  // namespace crisisd::cluster::detail
