#pragma once
// A JSONL file (or stdin for path "-"), one frame per line, for replay and pipelines
// (`tail -F log | crisisd …`). A reader thread reads ahead in bounded batches and hands them to
// the executor, so on_frame runs on the executor like every other source's, and a slow
// consumer holds the reader back instead of filling memory. Lines over max_message_bytes are
// skipped (on_frame_rejected("oversized")) without ever being held whole; empty lines and a
// trailing '\r' are dropped. on_end runs once, on the executor, after the last frame: with an
// empty string at end of input, or with the error that stopped reading.
//
// Thread-safety: start() and stop() from any thread (not from inside a callback: stop()
// joins the reader). No callback starts after stop() returns.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "ingest/settings.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

class file_source {
public:
    using end_handler = std::function<void(const std::string& error)>;

    file_source(boost::asio::any_io_executor ex, source_settings settings, frame_handler on_frame,
                end_handler on_end, source_events& events);
    ~file_source();  // stop()
    file_source(const file_source&) = delete;
    file_source& operator=(const file_source&) = delete;

    // Back-pressure: with one set, a line waits until it has room before going to on_frame, and
    // the reader stops reading meanwhile (its batches stay unprocessed). Must outlive the
    // source's reading. Set before start().
    void set_flow_control(flow_control* flow);

    void start();
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
