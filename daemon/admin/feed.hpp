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
// Thread-safety: mark(), admit(), attach(), close_if() and streams() may be called from any
// thread; flush() from one thread at a time (the daemon's loop), and it is the only member that
// calls daemon_access (never with a lock held).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

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

    void flush();

    std::size_t streams();  // open and admitted

private:
    std::size_t count_locked();  // prunes closed streams, then counts

    daemon_access& daemon_;
    metrics& metrics_;
    const std::size_t max_streams_;
    const std::size_t buffer_bytes_;

    std::mutex mutex_;
    std::vector<std::uint64_t> dirty_;              // marked since the last flush, unsorted
    std::vector<std::shared_ptr<client>> live_;     // attached
    std::vector<std::weak_ptr<client>> admitted_;  // admitted, not attached yet
    std::chrono::steady_clock::time_point refusal_logged_{};
};

}  // namespace crisisd::admin
