// Fuzz target for the websocket framing crisisd reads from servers (net/detail/websocket_frames):
// any bytes, cut into any pieces, must give events or a protocol error, never a crash, a
// message over the limit, or a reader that stops consuming.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/detail/websocket_frames.hpp"

using crisisd::net::detail::frame_reader;

// The first byte picks the options (compression, a small or large message limit) and the size
// of the pieces the rest arrives in, as socket reads would cut it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    crisisd::net::detail::frame_reader_options options;
    options.deflate = (data[0] & 1) != 0;
    options.server_no_context_takeover = (data[0] & 2) != 0;
    options.max_message_bytes = (data[0] & 4) != 0 ? 64 : 1 << 16;
    const std::size_t piece = 1 + (data[0] >> 3) * 7;
    frame_reader reader(options);
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string buffered;
    for (std::size_t at = 0; at < input.size(); at += piece) {
        buffered.append(input.substr(at, piece));
        std::string_view in = buffered;
        for (;;) {
            const std::size_t before = in.size();
            auto e = reader.next(in);
            if (in.size() > before) std::abort();
            if (e.kind == frame_reader::kind::error) return 0;  // the connection would end here
            if (e.kind == frame_reader::kind::message && e.payload.size() > options.max_message_bytes) std::abort();
            if (e.kind == frame_reader::kind::need_more) {
                // Whatever is left must be a partial header: at most 14 bytes, or a control
                // frame (at most 127 bytes) waiting for its payload.
                if (in.size() > 2 + 8 + 125) std::abort();
                break;
            }
        }
        buffered.erase(0, buffered.size() - in.size());
    }
    return 0;
}
