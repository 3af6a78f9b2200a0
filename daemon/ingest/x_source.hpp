#pragma once
// X's filtered stream (API v2, GET /2/tweets/search/stream): one long HTTP/1.1 response whose
// body is one JSON object per line, with a bare newline as keep-alive about every 20 s. At start
// the source makes the live rule set (GET/POST /2/tweets/search/stream/rules) equal to the
// configured one, adding and deleting exactly the difference; then it keeps the stream open and
// hands every post line to on_frame (the parse module's "x" format reads it).
//
// Reconnects as X documents (tests/data/x/README.md): at once after a connection that was
// healthy; after failures linearly for network errors (connect failed, dropped, stalled),
// exponentially for HTTP errors, and exponentially from a longer start for 429 (never before
// x-rate-limit-reset). A stream silent past stall_timeout is dropped and made anew. In-stream
// error objects are counted (on_frame_rejected("stream_error")) and logged; operational-
// disconnect ends the connection. On a reconnect it asks for backfill_minutes of posts it may
// have missed; the consumer de-duplicates them by post id. 400/401/403/404 mean the settings
// are wrong: reported through on_fatal, no retry loop.
//
// Thread-safety: as websocket_source: callbacks run on a strand of the given executor; start()
// and stop() from any thread; destroy after stop() on the executor's thread.
#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "ingest/settings.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

class x_source {
public:
    x_source(boost::asio::any_io_executor ex, source_settings settings, frame_handler on_frame, source_events& events);
    ~x_source();  // stop()
    x_source(const x_source&) = delete;
    x_source& operator=(const x_source&) = delete;

    // Back-pressure as websocket_source::set_flow_control. Set before start().
    void set_flow_control(flow_control* flow);
    // Set before start(): the first connection asks for backfill too, as a reconnect does. For a
    // source that moved from another replica of a cluster, whose stream ended moments ago.
    void backfill_first_connection();

    void start();
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
