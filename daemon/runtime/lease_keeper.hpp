#pragma once
// The lease thread of a replica (issue 15): keeps this replica's partition leases renewed and
// tells the runtime which partitions it gained and lost. libnats calls block for up to the
// request timeout, so the leases are ticked on a thread of their own, never on the runtime's
// executor; what a round changed is posted to the executor, where the runtime starts or stops the
// partitions' work.
//
// Why a round's changes are posted and fencing is not: gaining a partition can wait for the
// runtime's next turn (the partition's work starts a little later), losing one cannot. Whatever
// acts on a partition asks leases().may_send() itself, at the moment it acts, and that answer
// comes from the lease's deadline in memory, so a stalled executor never lets a stale owner act.
//
// Thread-safety: start() and stop() from the runtime's thread; leases() and status() from any
// thread (partition_leases' may_send/owned/deadline are thread-safe, the counters are atomic).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/nats_connection.hpp"
#include "cluster/partition_leases.hpp"
#include "cluster/settings.hpp"
#include "runtime/driver.hpp"

namespace crisisd::runtime {

// What /metrics shows of the leases.
struct lease_status {
    int partitions = 0;           // the cluster's partition count
    int owned = 0;                // partitions this replica may act on now
    std::vector<int> owned_partitions;   // which
    int members = 0;              // live replicas seen in the last round (0: unknown)
    // Seconds until the soonest deadline among the owned partitions (0 when none is owned): how
    // long this replica could keep acting if NATS stopped answering now.
    double lease_remaining_seconds = 0;
    long renew_failures = 0;      // renewals that got no answer, since start
    long acquisitions = 0;        // leases taken (first takes, takeovers, take-backs), since start
    long losses = 0;              // leases lost (taken over, or not renewed in time), since start
    long rounds = 0;              // ticks done
    bool connected = false;       // the NATS client has a live connection
};

class lease_keeper {
public:
    // Runs on the executor after a round that acquired, lost or released partitions.
    using change_handler = std::function<void(const cluster::lease_round&)>;

    // Connects to NATS and opens the lease bucket (blocking: call before the event loop runs);
    // nullptr and `error` when either fails.
    static std::unique_ptr<lease_keeper> open(const cluster::cluster_settings& settings, executor& ex,
                                              change_handler on_change, std::string& error);
    ~lease_keeper();
    lease_keeper(const lease_keeper&) = delete;
    lease_keeper& operator=(const lease_keeper&) = delete;

    // Replaces the change handler; before start() only.
    void set_change_handler(change_handler on_change) { on_change_ = std::move(on_change); }
    // Starts the lease thread: the first round runs at once.
    void start();
    // Stops the thread; with `release`, gives every lease up first (a graceful shutdown, once the
    // work under them has stopped), so peers take them over without waiting for the TTL. Blocks
    // for up to one request timeout per held partition.
    void stop(bool release);

    cluster::partition_leases& leases() { return *leases_; }
    const cluster::partition_leases& leases() const { return *leases_; }
    cluster::nats_connection& connection() { return *conn_; }
    lease_status status() const;

private:
    lease_keeper(std::unique_ptr<cluster::nats_connection> conn, const cluster::cluster_settings& settings,
                 executor& ex, change_handler on_change);
    void run();
    void report(const cluster::lease_round& round);

    std::unique_ptr<cluster::nats_connection> conn_;
    std::unique_ptr<cluster::partition_leases> leases_;
    executor& ex_;
    change_handler on_change_;
    std::thread thread_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_ = false;   // guarded by m_
    bool release_ = false;   // guarded by m_
    std::atomic<int> members_{0};
    std::atomic<long> renew_failures_{0};
    std::atomic<long> losses_{0};
    std::atomic<long> rounds_{0};
};

}  // namespace crisisd::runtime
