#pragma once
// Pull sources held by a lease (issue 15, cluster mode). A source that connects out (a
// websocket, X's filtered stream, a feed) must be run by exactly one replica at a time: platforms
// limit connections per account, and N replicas polling one feed is N times the load for nothing.
// Push sources (HTTP ingest, Facebook webhooks) and file sources run on every replica.
//
// Design, and why:
// - The partition-lease machinery (cluster/partition_leases.hpp) does the holding, with the same
//   rules: create-if-absent, renewal by compare-and-set, expiry by the bucket's age, fair share
//   over the live replicas, and a deadline before the age runs out. Its "partitions" are the pull
//   sources, by their names sorted; its bucket is the lease bucket's name with a hash of that
//   list, so replicas whose configs name different pull sources never share an index for two
//   different sources (while a rolling change is half done, a source may run on one replica of
//   each list: at worst two connections, and the mention stream's Nats-Msg-Id drops the copies).
// - The fence is the lease's deadline in memory: reconcile(), run after every round and on the
//   daemon's tick, stops a source whose deadline has passed even while NATS does not answer.
// - A round blocks on NATS, so it runs on a thread of its own; what it changed reaches the
//   sources through the executor.
// - Where a moved source resumes (source_cursor.hpp): on taking a source the lease thread reads
//   its entry in `crisisd_source_cursors` (cluster/source_cursors.hpp) and claims it by writing it
//   back under this replica's name; only then does reconcile() hand the entry to the source set
//   (cursor_hooks::import) and start the source. While held, every round asks the runtime's
//   thread for the source's resume point and the front's count of routed messages at that
//   moment, and writes the point by compare-and-set once the front has published that far. A
//   refused write means another replica claimed the source: this one writes no more until it
//   takes the source again.
//
// Thread-safety: open(), start(), stop(), reconcile() and held() on the runtime's thread; the
// lease thread only ticks the leases and posts reconcile().
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/nats_connection.hpp"
#include "cluster/partition_leases.hpp"
#include "cluster/settings.hpp"
#include "ingest/settings.hpp"
#include "runtime/driver.hpp"
#include "sources/source_cursor.hpp"

namespace crisisd::cluster {
class source_cursors;
}

namespace crisisd::sources {

// Whether a source connects out and so is held by one replica of a cluster.
bool is_pull_source(const ingest::source_settings& s);

class source_leases {
public:
    // Runs on the executor when this replica gains (true) or loses (false) a source.
    using hold_handler = std::function<void(const std::string& source, bool held)>;

    using cursor_hooks = sources::cursor_hooks;   // source_cursor.hpp

    // Connects to NATS and opens the sources' lease bucket and the resume points' bucket
    // (blocking: before the event loop runs); nullptr and `error` when any fails. `names` are
    // the pull sources.
    static std::unique_ptr<source_leases> open(const cluster::cluster_settings& settings,
                                               std::vector<std::string> names, runtime::executor& ex,
                                               hold_handler on_hold, cursor_hooks cursors, std::string& error);
    ~source_leases();
    source_leases(const source_leases&) = delete;
    source_leases& operator=(const source_leases&) = delete;

    void start();
    // Stops the lease thread; with `release` (graceful shutdown, once the sources are stopped and
    // the front has published what it took) writes the held sources' last resume points and
    // hands every held source to a peer at once instead of after the lease time. Runtime thread.
    void stop(bool release);
    // Starts or stops sources to match the leases now (their deadlines, by the monotonic clock).
    void reconcile();
    // The pull sources, sorted, and whether this replica runs the i-th now.
    const std::vector<std::string>& names() const { return names_; }
    bool held(std::size_t i) const { return running_[i]; }
    // The bucket holding the sources' leases (for logs and tests).
    static std::string bucket_for(const std::string& lease_bucket, const std::vector<std::string>& sorted_names);

private:
    // One source's shared resume point as this replica's current hold of it sees it.
    struct cursor_slot {
        bool claimed = false;                    // read and claimed for the current hold
        std::optional<source_cursor> found;      // what the read found, until reconcile imports it
        bool imported = false;                   // reconcile handed it to the sources
        bool fenced = false;                     // a write was refused: another replica claimed it
        std::uint64_t revision = 0;              // the entry's, as this replica last read or wrote it
        std::string written;                     // the value last written
        std::optional<source_cursor> pending;    // the latest collected point, and the front's
        std::uint64_t mark = 0;                  // routed count when it was collected
        std::uint64_t writes = 0;                // writes not yet reported to cursor_hooks::written
    };

    source_leases(std::unique_ptr<cluster::nats_connection> conn, const cluster::cluster_settings& settings,
                  std::vector<std::string> names, runtime::executor& ex, hold_handler on_hold, cursor_hooks cursors);
    void run();
    // Lease thread: claims what was taken, writes what was collected and published.
    void share_cursors(bool final);
    bool claim(std::size_t i);
    void write_pending(std::size_t i, std::unique_lock<std::mutex>& lock);
    // Runtime thread: asks the sources for their resume points.
    void collect();

    std::unique_ptr<cluster::nats_connection> conn_;
    std::string replica_;
    std::vector<std::string> names_;   // sorted: index = the lease's "partition"
    std::unique_ptr<cluster::partition_leases> leases_;
    std::unique_ptr<cluster::source_cursors> cursors_;
    runtime::executor& ex_;
    hold_handler on_hold_;
    cursor_hooks hooks_;
    std::vector<bool> running_;   // what on_hold_ was last told (runtime's thread only)
    std::thread thread_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<cursor_slot> slots_;   // guarded by m_
    bool stop_ = false;      // guarded by m_
    bool release_ = false;   // guarded by m_
};

}  // namespace crisisd::sources
