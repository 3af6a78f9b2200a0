#pragma once
// A websocket stream of mentions (Jetstream, Mastodon streaming, a generic producer): keeps
// one connection up, hands every text or binary message to on_frame (or, batched per socket
// read, to a frames handler), and reconnects with
// exponential backoff and full jitter (reconnect_initial doubling up to reconnect_max; back to
// initial after a connection that delivered messages or stayed up 30 s). Oversized messages
// are skipped and reported as on_frame_rejected("oversized"); the stream keeps flowing.
// A text message that is not valid UTF-8 is handed on like any other: the parser rejects it
// (reason invalid_utf8) and the connection stays up.
// A 401/403 on upgrade is a configuration error: reported through on_fatal, no retry loop.
//
// Thread-safety: on_frame and the events run on a strand of the given executor. start() and
// stop() may be called from any thread; after stop() returns no further callbacks start.
// Destroy it after stop() on the executor's thread, or once the io_context has stopped.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/settings.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

class websocket_source {
public:
    websocket_source(boost::asio::any_io_executor ex, source_settings settings, frame_handler on_frame,
                     source_events& events);
    ~websocket_source();  // stop()
    websocket_source(const websocket_source&) = delete;
    websocket_source& operator=(const websocket_source&) = delete;

    // Asked before every connection attempt for the URL to use (default: settings.url), so a
    // format can resume with a cursor (Jetstream `cursor=`). Set before start().
    void set_url_provider(std::function<std::string()> provider);
    // Text messages sent after every successful connect (Mastodon subscribe frames, a Nostr
    // REQ). Set before start().
    void set_subscribe_messages(std::vector<std::string> messages);
    // Back-pressure: with one set, a message waits (and the socket is not read) until it has
    // room, then goes to on_frame. Must outlive the source's reading. Set before start().
    void set_flow_control(flow_control* flow);
    // Takes all the messages of one socket read (as many as the flow control has room for) in
    // one call instead of on_frame per message: the per-frame costs of handing over (the
    // arrival time, the queue's bookkeeping) are paid once per read. Set before start().
    void set_frames_handler(frames_handler on_frames);

    void start();
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
