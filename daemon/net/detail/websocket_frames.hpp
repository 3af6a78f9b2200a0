#pragma once
// The client side of RFC 6455 framing, without any I/O: frame_reader turns the bytes a server
// sends into whole messages and control frames; encode_client_frame builds the masked frames a
// client sends. websocket_client does the socket work around them.
//
// Why not Beast's websocket stream: it completes every message read through the scheduler (a
// post per message) and reads the socket in small pieces. A stream of 300-byte mentions then
// spends more time in Asio than in parsing and scoring them (the hand-written reader was
// measured 4x faster). Here one socket read of 64 KiB yields a couple of hundred messages,
// handed over in a plain loop: websocket_client::read_batch gives all of them to the source at
// once, which took the daemon's websocket read path from ~2,060 to ~1,000 instructions per
// mention (callgrind, mixed stream of ~410-byte frames) against one coroutine round per message.
//
// Text messages are not UTF-8-checked here: every mention parser validates the JSON it reads
// (simdjson) and rejects invalid UTF-8 with its own reason, so one bad message costs that
// message, not the connection.
#include <zlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crisisd::net::detail {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// A whole masked client frame (FIN set) carrying `payload`.
std::string encode_client_frame(ws_opcode opcode, std::string_view payload, std::array<std::uint8_t, 4> mask);
// The payload of a close frame: the status code, big-endian, then the reason.
std::string close_payload(std::uint16_t code, std::string_view reason = {});

struct frame_reader_options {
    std::size_t max_message_bytes = 1 << 20;  // larger messages are drained and reported oversized
    bool deflate = false;                     // permessage-deflate was negotiated
    bool server_no_context_takeover = false;  // the server resets its compressor per message
};

class frame_reader {
public:
    explicit frame_reader(frame_reader_options options);
    ~frame_reader();
    frame_reader(const frame_reader&) = delete;
    frame_reader& operator=(const frame_reader&) = delete;

    enum class kind {
        need_more,  // `in` holds no complete event yet (what it had was consumed or kept)
        message,    // payload: one whole text or binary message
        oversized,  // a message over max_message_bytes was read to its end and dropped
        ping,       // payload: the ping's data, to echo in a pong
        pong,
        close,      // close_code / payload (the reason); 1005 when the frame carried no code
        error,      // a protocol violation (error says which): fail the connection
    };
    struct event {
        enum kind kind = kind::need_more;
        std::string_view payload;  // valid until the next call or until `in`'s bytes change
        bool binary = false;
        std::uint16_t close_code = 0;
        std::string_view error;
    };

    // Consumes bytes from the front of `in` up to the end of the next event, or all of them
    // when no event completes (a partial header stays in `in` until more bytes arrive).
    event next(std::string_view& in);

private:
    event data_bytes(std::string_view& in);
    event finish_message();
    bool inflate_into(std::string_view compressed);

    frame_reader_options options_;
    // The frame being read.
    bool in_frame_ = false;
    bool frame_fin_ = false;
    std::uint64_t frame_left_ = 0;  // payload bytes of the current data frame not yet consumed
    // The message being assembled (across frames, or a frame split across reads).
    bool in_message_ = false;
    bool message_binary_ = false;
    bool message_compressed_ = false;
    bool message_oversized_ = false;
    std::string message_;
    // permessage-deflate.
    z_stream inflater_{};
    bool inflater_ready_ = false;
    std::array<unsigned char, 16 * 1024> spill_{};  // inflated bytes of an oversized message
};

}  // namespace crisisd::net::detail
