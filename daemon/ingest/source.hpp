#pragma once
// What every source reports, whatever its transport: frames for the parser, and events for
// metrics (crisisd_source_connected, reconnects, rejected frames by reason).
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

namespace crisisd::ingest {

// Called with each frame (one websocket message or one file line). The view is valid only
// during the call; copy what you keep.
using frame_handler = std::function<void(std::string_view frame)>;
// Called with several frames at once, in order (all of one socket read a source had room for);
// the views are valid only during the call.
using frames_handler = std::function<void(std::span<const std::string_view> frames)>;

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

// Back-pressure from whatever consumes a source's frames (a frame_queue with the "block"
// overflow policy). Before handing a frame over, a source asks has_room(); while it is false the
// source stops reading its input and co_awaits wait_for_room(), then asks again. Used on the
// consumer's thread (the daemon's single io thread). After wait_for_room() resumes, the source
// must check whether it was stopped before touching this object again: the consumer may be gone.
struct flow_control {
    virtual ~flow_control() = default;
    virtual bool has_room() const = 0;
    // How many frames it takes now without waiting (0 exactly when !has_room()).
    virtual std::size_t room() const { return has_room() ? 1 : 0; }
    virtual boost::asio::awaitable<void> wait_for_room() = 0;
};

}  // namespace crisisd::ingest
