#include "net/detail/websocket_frames.hpp"

#include <algorithm>

namespace crisisd::net::detail {

namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// RFC 7692 7.2.2: a message's compressed data ends with an empty stored block whose last four
// bytes the sender removes; the receiver puts them back before inflating the end.
constexpr std::string_view deflate_tail{"\x00\x00\xff\xff", 4};

}  // namespace

std::string encode_client_frame(ws_opcode opcode, std::string_view payload, std::array<std::uint8_t, 4> mask) {
    std::string frame;
    frame.reserve(payload.size() + 14);
    frame.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        frame.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xFFFF) {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(n >> 8));
        frame.push_back(static_cast<char>(n & 0xFF));
    } else {
        frame.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    for (auto b : mask) frame.push_back(static_cast<char>(b));
    for (std::size_t i = 0; i < payload.size(); ++i)
        frame.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]));
    return frame;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xFF));
    p.append(reason.substr(0, 123));  // a control frame carries at most 125 bytes
    return p;
}

frame_reader::frame_reader(frame_reader_options options) : options_(options) {}

frame_reader::~frame_reader() {
    if (inflater_ready_) inflateEnd(&inflater_);
}

frame_reader::event frame_reader::next(std::string_view& in) {
    auto fail = [](std::string_view why) {
        event e;
        e.kind = kind::error;
        e.error = why;
        return e;
    };
    for (;;) {
        if (in_frame_) {
            auto e = data_bytes(in);
            if (e.kind != kind::need_more || in_frame_) return e;
            continue;  // a non-final frame ended: its continuation follows
        }
        if (in.size() < 2) return {};
        const std::uint8_t b0 = byte_at(in, 0), b1 = byte_at(in, 1);
        const bool fin = (b0 & 0x80) != 0;
        const bool rsv1 = (b0 & 0x40) != 0;
        const std::uint8_t opcode = b0 & 0x0F;
        const std::uint8_t len7 = b1 & 0x7F;
        const std::size_t header = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        if (in.size() < header) return {};
        if ((b1 & 0x80) != 0) return fail("the server masked a frame");
        if ((b0 & 0x30) != 0) return fail("reserved bits set in a frame header");
        std::uint64_t length = len7;
        if (len7 == 126) {
            length = static_cast<std::uint64_t>(byte_at(in, 2)) << 8 | byte_at(in, 3);
        } else if (len7 == 127) {
            length = 0;
            for (std::size_t i = 2; i < 10; ++i) length = length << 8 | byte_at(in, i);
            if (length >> 63 != 0) return fail("frame length over 2^63");
        }

        if ((opcode & 0x08) != 0) {
            if (opcode > 10) return fail("reserved control opcode");
            if (!fin) return fail("fragmented control frame");
            if (length > 125) return fail("control frame over 125 bytes");
            if (rsv1) return fail("compressed control frame");
            if (in.size() < header + length) return {};
            event e;
            e.payload = in.substr(header, length);
            in.remove_prefix(header + length);
            if (opcode == static_cast<std::uint8_t>(ws_opcode::ping)) {
                e.kind = kind::ping;
            } else if (opcode == static_cast<std::uint8_t>(ws_opcode::pong)) {
                e.kind = kind::pong;
            } else {
                if (e.payload.size() == 1) return fail("close frame with a one-byte payload");
                e.kind = kind::close;
                e.close_code = 1005;  // "no status received"
                if (e.payload.size() >= 2) {
                    e.close_code = static_cast<std::uint16_t>(byte_at(e.payload, 0) << 8 | byte_at(e.payload, 1));
                    e.payload.remove_prefix(2);
                }
            }
            return e;
        }

        if (opcode > 2) return fail("reserved data opcode");
        if (opcode == 0) {
            if (!in_message_) return fail("continuation frame without a message");
            if (rsv1) return fail("compression bit on a continuation frame");
        } else {
            if (in_message_) return fail("new message before the previous one ended");
            if (rsv1 && !options_.deflate) return fail("compressed frame without permessage-deflate");
            // The common case: a whole uncompressed message in one frame, all of it buffered.
            // It is handed over where it lies, without a copy.
            if (fin && !rsv1 && length <= options_.max_message_bytes && in.size() - header >= length) {
                event e;
                e.kind = kind::message;
                e.binary = opcode == static_cast<std::uint8_t>(ws_opcode::binary);
                e.payload = in.substr(header, length);
                in.remove_prefix(header + length);
                return e;
            }
            in_message_ = true;
            message_binary_ = opcode == static_cast<std::uint8_t>(ws_opcode::binary);
            message_compressed_ = rsv1;
            message_oversized_ = false;
            message_.clear();
        }
        in.remove_prefix(header);
        in_frame_ = true;
        frame_fin_ = fin;
        frame_left_ = length;
    }
}

frame_reader::event frame_reader::data_bytes(std::string_view& in) {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(frame_left_, in.size()));
    const std::string_view chunk = in.substr(0, take);
    in.remove_prefix(take);
    frame_left_ -= take;
    if (message_compressed_) {
        if (!inflate_into(chunk)) {
            event e;
            e.kind = kind::error;
            e.error = "invalid compressed data";
            return e;
        }
    } else if (!message_oversized_) {
        if (message_.size() + chunk.size() > options_.max_message_bytes) {
            message_oversized_ = true;
            message_.clear();
        } else {
            message_.append(chunk);
        }
    }
    if (frame_left_ > 0) return {};
    in_frame_ = false;
    if (!frame_fin_) return {};
    return finish_message();
}

frame_reader::event frame_reader::finish_message() {
    in_message_ = false;
    event e;
    if (message_compressed_) {
        if (!inflate_into(deflate_tail)) {
            e.kind = kind::error;
            e.error = "invalid compressed data";
            return e;
        }
        if (options_.server_no_context_takeover) inflateReset(&inflater_);
    }
    if (message_oversized_) {
        message_.clear();
        e.kind = kind::oversized;
        return e;
    }
    e.kind = kind::message;
    e.binary = message_binary_;
    e.payload = message_;
    return e;
}

bool frame_reader::inflate_into(std::string_view compressed) {
    if (!inflater_ready_) {
        // Raw deflate (no zlib header), the largest window: whatever window the server chose
        // fits in it.
        if (inflateInit2(&inflater_, -15) != Z_OK) return false;
        inflater_ready_ = true;
    }
    // zlib's interface is not const-correct; it only reads next_in.
    inflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    inflater_.avail_in = static_cast<uInt>(compressed.size());
    for (;;) {
        inflater_.next_out = spill_.data();
        inflater_.avail_out = static_cast<uInt>(spill_.size());
        const int rc = inflate(&inflater_, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return false;
        const std::size_t produced = spill_.size() - inflater_.avail_out;
        if (!message_oversized_) {
            if (message_.size() + produced > options_.max_message_bytes) {
                message_oversized_ = true;
                message_.clear();
            } else {
                message_.append(reinterpret_cast<const char*>(spill_.data()), produced);
            }
        }
        if (rc == Z_STREAM_END) {
            // The server ended its deflate stream (a final block): the next data starts afresh.
            inflateReset(&inflater_);
            if (inflater_.avail_in == 0) return true;
            continue;
        }
        if (inflater_.avail_out != 0 || rc == Z_BUF_ERROR) {
            if (inflater_.avail_in == 0) return true;
            if (produced == 0 && rc == Z_BUF_ERROR) return false;  // no progress possible
        }
    }
}

}  // namespace crisisd::net::detail
