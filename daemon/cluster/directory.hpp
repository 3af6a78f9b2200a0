#pragma once
// The cluster directory: which replicas are alive, where their admin APIs answer, and which
// replica holds each partition's lease. It is what lets any replica's API show the whole cluster
// and send a command to the owner of the incident's partition (issue 15).
//
// Design, and why:
// - Members announce themselves in a key-value bucket of their own (`crisisd_members` by default,
//   history 1, max age = ttl), key = replica name, value = "<start time> <admin base URL>". Each
//   replica rewrites its entry every round; one that stops renewing drops out after ttl, as its
//   leases do. The lease bucket's own `m.<name>` keys carry the process incarnation, which the
//   lease protocol compares: adding a URL there would tie the API to the lease protocol, so the
//   API's addresses live apart.
// - Owners are read from the lease bucket (`p.<n>` = "<replica> <incarnation>"): the same entries
//   fencing trusts, so a command goes where the partition's work runs. The answer is at most one
//   round old: a command that reaches a replica that has just lost the partition is refused there
//   (the owner applies commands only to partitions it holds) and can be sent again.
// - Pure parts (the member value, the owner of a lease value) are free functions, unit-tested.
//
// Thread-safety: refresh() blocks on NATS and is called from one thread at a time (the directory
// thread, never the event loop); members(), owner() and the rest read a snapshot under a mutex,
// from any thread, without blocking on NATS.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/nats_connection.hpp"
#include "cluster/settings.hpp"

namespace crisisd::cluster {

namespace detail {
class kv_bucket;
}

struct member {
    std::string name;
    std::string admin_url;        // "http://127.0.0.1:9464", as peers reach it
    std::int64_t started = 0;     // unix seconds, when the process started
};

// The bucket value of a member entry, and back (nullopt when it is not one).
std::string member_value(const member& m);
std::optional<member> parse_member(std::string_view name, std::string_view value);
// The replica named by a lease value ("<replica> <incarnation>"); "" for a free lease.
std::string lease_holder(std::string_view value);

struct directory_settings {
    std::string bucket = "crisisd_members";
    std::chrono::milliseconds ttl{6000};
    int replicas = 3;
};

class directory {
public:
    // Opens (creating when absent) the member bucket and binds the lease bucket; nullptr and
    // `error` on failure. `conn` must outlive the directory. Blocking.
    static std::unique_ptr<directory> open(nats_connection& conn, member self, const directory_settings& settings,
                                           const lease_settings& leases, std::string& error);
    ~directory();
    directory(const directory&) = delete;
    directory& operator=(const directory&) = delete;

    // One round: writes this replica's entry, then reads the members and the partition owners.
    // Keeps the previous view when a read fails; false and `error` then. Blocking.
    bool refresh(std::string& error);
    // Removes this replica's entry (graceful shutdown). Blocking.
    void leave();

    // Every live member, this one included, by name.
    std::vector<member> members() const;
    // The replica holding `partition`'s lease at the last round; nullopt when free or unknown.
    std::optional<std::string> owner(int partition) const;
    std::optional<member> find(std::string_view name) const;
    const member& self() const noexcept { return self_; }
    int partitions() const noexcept { return partitions_; }
    bool fresh() const;   // at least one round has read the buckets

private:
    directory(member self, int partitions);

    member self_;
    int partitions_;
    std::unique_ptr<detail::kv_bucket> members_bucket_;
    std::unique_ptr<detail::kv_bucket> lease_bucket_;
    mutable std::mutex m_;
    std::vector<member> members_;          // guarded by m_
    std::vector<std::string> owners_;      // by partition, "" free; guarded by m_
    bool fresh_ = false;                   // guarded by m_
};

}  // namespace crisisd::cluster
