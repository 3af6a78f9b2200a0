#pragma once
// What every source reports, whatever its transport: frames for the parser, and events for
// metrics (crisisd_source_connected, reconnects, rejected frames by reason).
#include <functional>
#include <string_view>

namespace crisisd::ingest {

// Called with each frame (one websocket message or one file line). The view is valid only
// during the call; copy what you keep.
using frame_handler = std::function<void(std::string_view frame)>;

// Implemented by the metrics side (a probe). Called on the source's executor.
struct source_events {
    virtual ~source_events() = default;
    virtual void on_connected(bool up) = 0;
    virtual void on_frame_rejected(std::string_view reason) = 0;  // "oversized", …
    virtual void on_reconnect() = 0;
    // The source gave up for good: a configuration problem (HTTP 401/403 on upgrade, a file
    // that cannot be opened). Retrying would not help, so it says why once and stops.
    virtual void on_fatal(std::string_view /*message*/) {}
};

}  // namespace crisisd::ingest
