#pragma once
// The console's live feed: what the event streams of GET /api/v1/events carry.
//
// A console gets the live list when it connects and then only what changed:
//
//   event: incidents   {"incidents":[…],"now":"…"}               the incidents not resolved, newest first
//   event: changes     {"incidents":[…],"removed":[ids],"now":"…"} incidents that changed since the last
//                                                                 flush (a resolved one once, with its
//                                                                 state); ids the daemon no longer holds
//   event: now         {"now":"…"}                                 after 5 s without another event
//
// In cluster mode incidents carry "replica", changes events carry "replica" (whose incidents and
// removals they are) and a peer's relayed changes carry no "now".
//
// The daemon notes changed incidents as they happen (mark(), cheap) and calls flush() once per
// tick: each changed incident is rendered once for every client, however often it changed, and
// the live list at most once per flush for all clients that need it. Incidents are rendered
// without their chart (daemon_access::incident_feed_json), whose points change every tick.
//
// Each client is bounded in bytes (admin_settings::event_stream_buffer), with latest-snapshot
// semantics: a change is queued only while what the client has not read yet leaves room for it.
// Otherwise the client is behind; nothing more is queued for it, and once it has read everything
// it gets the live list again (a resync) instead of the changes it missed. A client that never
// reads costs one bound (or one list) of memory, never a backlog. At most max_event_streams
// streams are open (admitted but not yet attached ones count); admit() refuses more.
//
// In cluster mode (enable_cluster, admin/cluster_feed.hpp has the model) the feed carries every
// replica's incidents: each incident names its "replica", and so does each changes event (a
// removal counts only for that replica's copy). Every flush renders this replica's changes,
// whether or not a console listens here, and publishes them to its peers; the peers' messages
// (peer_message) are relayed as changes events of their own, each once; the live list holds every
// replica's unresolved incidents. A replica publishes its whole live list every full_round_interval
// and when a peer says hello, so what a lost message left out heals.
//
// Thread-safety: mark(), admit(), attach(), close_if(), streams() and peer_message() may be called
// from any thread; enable_cluster() before the first flush; flush() from one thread at a time
// (the daemon's loop), and it is the only member that calls daemon_access and cluster_access
// (never with a lock held).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "admin/cluster.hpp"
#include "admin/tokens.hpp"
#include "net/http_server.hpp"

namespace crisisd::admin {

class daemon_access;
class metrics;

class feed {
public:
    // A place among the streams, held from admission until the stream ends; dropping it unused
    // (the response never became a stream) gives the place back.
    struct client;

    feed(daemon_access& daemon, metrics& m, std::size_t max_streams, std::size_t buffer_bytes);
    ~feed();

    void mark(std::uint64_t id);
    void mark(std::span<const std::uint64_t> ids);

    // A place for a stream opened with the token `digest`, or null when max_streams are open.
    std::shared_ptr<client> admit(const token_digest& digest);
    // The stream became live: it gets the live list at the next flush.
    void attach(const std::shared_ptr<client>& c, std::shared_ptr<net::sse_stream> stream);
    // Closes the streams whose token `keep` no longer accepts (a revoked token).
    void close_if_not(const std::function<bool(const token_digest&)>& keep);

    // Cluster mode: `cluster` (which outlives the feed) names this replica, its peers and the
    // owners; cluster_access::publish_feed sends this replica's messages to the peers.
    void enable_cluster(cluster_access& cluster);
    // A message from the peers' feed subject, for the next flush. At most max_peer_backlog bytes
    // wait; beyond that messages are dropped, and the next flush asks every peer for a full round.
    static constexpr std::size_t max_peer_backlog = 8 * 1024 * 1024;
    static constexpr std::chrono::seconds full_round_interval{10};
    void peer_message(std::string_view message);

    void flush();

    std::size_t streams();  // open and admitted

private:
    struct relay;  // cluster mode's state (feed.cpp)

    std::size_t count_locked();  // prunes closed streams, then counts
    // Cluster mode's part of a flush: peers' messages read, this replica's published. Returns the
    // changes event bodies to relay to the consoles.
    std::vector<std::string> relay_round(const std::vector<std::string>& rendered,
                                         const std::vector<std::uint64_t>& removed);

    daemon_access& daemon_;
    metrics& metrics_;
    const std::size_t max_streams_;
    const std::size_t buffer_bytes_;

    std::mutex mutex_;
    std::vector<std::uint64_t> dirty_;              // marked since the last flush, unsorted
    std::vector<std::shared_ptr<client>> live_;     // attached
    std::vector<std::weak_ptr<client>> admitted_;  // admitted, not attached yet
    std::chrono::steady_clock::time_point refusal_logged_{};
    std::unique_ptr<relay> relay_;            // set once by enable_cluster, before any flush
    std::vector<std::string> inbox_;          // peers' messages since the last flush
    std::size_t inbox_bytes_ = 0;
    bool inbox_dropped_ = false;
};

}  // namespace crisisd::admin
