#pragma once
// Partition leases: which replica owns which partition of the matched-mention stream, and when
// an owner may still act on one. The owner of a partition runs detection, incidents and delivery
// for its keys; everything else in a replica only publishes.
//
// Design, and why:
// - One JetStream key-value bucket (history 1, max age = ttl, R3) holds `p.<n>` for each
//   partition, valued "<replica> <incarnation>", and `m.<replica>` for each live replica.
//   A free partition is taken by a write that expects no entry (create-if-absent) or that expects
//   the revision of a released ("") entry or delete marker; a held one is renewed by a write that
//   expects its last revision (compare-and-set). Nothing renews a dead replica's entries, so the
//   bucket's max age drops them after ttl and they are free again: expiry needs no clock of ours
//   and no coordinator.
// - Members are the `m.` keys, written every round with the same max age; a replica that stops
//   renewing disappears from everyone's member list after ttl, the same moment its leases become
//   free. Fair share (fair_share.hpp) runs on that list: each member takes its share of free
//   partitions and gives up its surplus, released by compare-and-set to "" so a release can never
//   clobber a lease that meanwhile went to someone else.
// - Fencing (fencing.hpp): an owner acts only until its last successful renewal's send time + ttl
//   - safety margin, by the monotonic clock, and only for work planned under the current epoch
//   (the revision that acquired the lease). A replica cut off from NATS falls silent before its
//   leases can lapse; when it returns its compare-and-set fails against the new owner's revision.
// - The incarnation (random per process) tells this process's writes from a previous process with
//   the same name. An entry carrying this incarnation that we no longer count as ours (a renewal
//   answered too late, a deadline passed while NATS was slow) is ours to take back by
//   compare-and-set: nobody else can have held it while it carried our value. It comes back as a
//   new epoch. An entry of an earlier incarnation is left to expire: that process may still be
//   alive (two replicas misconfigured with one name) and acting until its own deadline.
// - A renewal failing with a conflict loses the lease unless the round's snapshot shows our own
//   value at a later revision: within the deadline the entry cannot have expired, so that is a
//   renewal of ours whose answer was lost, and the lease (and its epoch) is kept. One failing for
//   want of an answer (leader election, lost connection) keeps it until the deadline, then drops it.
//
// Thread-safety: tick() and release_all() block on NATS requests and must be called from one
// thread at a time (the runtime's lease thread). confirm() blocks too but may run on any thread; a
// renewal racing with it can make it answer false (the safe side). may_send(), epoch(), deadline(),
// owned() and the counters may be called from any thread and never block on NATS.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/fencing.hpp"
#include "cluster/nats_connection.hpp"
#include "cluster/settings.hpp"

namespace crisisd::cluster {

namespace detail {
class kv_bucket;
}

// What one round changed, for logs, metrics and the runtime (which starts or stops work).
struct lease_round {
    std::vector<int> acquired;   // now ours, each under a new epoch: load the partition's state first
    std::vector<int> lost;       // no longer ours (taken, or not renewed in time): stop at once
    std::vector<int> released;   // given up for fair share
    int members = 0;             // live replicas seen (0 when the bucket could not be read)
    int renew_failures = 0;      // renewals without an answer this round
    // Another live process writes this replica's member key: two replicas were given one name.
    // Leases stay exclusive (each process only renews its own incarnation's writes), but fair
    // share counts them as one member; the runtime should log this as a configuration error.
    bool name_in_use = false;
    std::string error;           // the last NATS error of the round, if any
};

class partition_leases {
public:
    // `conn` must outlive this object. Call open() before anything else.
    partition_leases(nats_connection& conn, std::string replica_name, lease_settings settings);
    ~partition_leases();
    partition_leases(const partition_leases&) = delete;
    partition_leases& operator=(const partition_leases&) = delete;

    // Creates or binds the bucket; false and `error` when it cannot.
    bool open(std::string& error);

    // One round: renew membership and every held lease, then take or give up partitions towards
    // the fair share. Call every settings().renew_interval. Blocking.
    lease_round tick();

    // Gives up every lease (graceful shutdown, once the work under them has stopped). Blocking.
    void release_all();

    // May this replica act on `partition` now, for work planned under `epoch` (0: any)?
    bool may_send(int partition, mono_time now, std::uint64_t epoch = 0) const;
    bool may_send(int partition) const { return may_send(partition, mono_clock::now()); }
    // The epoch of the lease on `partition` while it is held (and not past its deadline).
    std::optional<std::uint64_t> epoch(int partition, mono_time now) const;
    // Until when the current lease on `partition` may be acted on, if held.
    std::optional<mono_time> deadline(int partition) const;
    // Partitions this replica may act on now.
    std::vector<int> owned(mono_time now) const;

    // Asks the bucket whether our lease on `partition` is still the latest write (one round
    // trip), for the moments where the local deadline is not enough: right before a public
    // statement. False when it is not, or when NATS does not answer.
    bool confirm(int partition);

    const std::string& name() const noexcept { return name_; }
    const std::string& incarnation() const noexcept { return incarnation_; }
    const lease_settings& settings() const noexcept { return settings_; }
    // Leases acquired since start (first takes, takeovers and take-backs), for a metric.
    long acquisitions() const noexcept { return acquisitions_.load(); }

private:
    static std::string partition_key(int p) { return "p." + std::to_string(p); }
    void drop(int p, std::vector<int>& into);
    bool take(int p, std::uint64_t expected, lease_round& round);

    nats_connection& conn_;
    std::string name_;
    std::string incarnation_;
    std::string value_;   // name_ + ' ' + incarnation_
    lease_settings settings_;
    std::unique_ptr<detail::kv_bucket> bucket_;
    std::uint64_t member_revision_ = 0;   // our last write of m.<name>; 0: none known (tick thread only)

    mutable std::mutex m_;
    std::vector<std::optional<held_lease>> held_;   // by partition; guarded by m_
    std::atomic<long> acquisitions_{0};
};

}  // namespace crisisd::cluster
