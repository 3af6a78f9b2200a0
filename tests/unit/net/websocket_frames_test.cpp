// RFC 6455 / 7692 framing as a client sees it, without sockets: what frame_reader makes of the
// bytes a server sends, fed whole and in the smallest pieces.
#include <gtest/gtest.h>
#include <zlib.h>

#include <vector>

#include "net/detail/websocket_frames.hpp"

namespace crisisd::net::detail {
namespace {

using kind = frame_reader::kind;

// A server frame: unmasked, with the given first byte (FIN, RSV, opcode) and payload.
std::string server_frame(std::uint8_t first, std::string_view payload) {
    std::string f(1, static_cast<char>(first));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        f += static_cast<char>(n);
    } else if (n <= 0xFFFF) {
        f += static_cast<char>(126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(127);
        for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((n >> shift) & 0xFF);
    }
    return f + std::string(payload);
}
std::string text(std::string_view payload) { return server_frame(0x81, payload); }

struct seen {
    seen(kind k, std::string p, std::uint16_t c = 0, std::string e = {})
        : what(k), payload(std::move(p)), code(c), error(std::move(e)) {}
    kind what;
    std::string payload;
    std::uint16_t code;
    std::string error;
    bool operator==(const seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const seen& s) {
    return os << "{kind " << static_cast<int>(s.what) << ", " << s.payload.size() << " bytes \""
              << s.payload.substr(0, 40) << "\", code " << s.code << ", error \"" << s.error << "\"}";
}

// Every event the reader produces from `bytes`, fed `piece` bytes at a time the way socket
// reads would deliver them (an unconsumed tail is kept and more appended).
std::vector<seen> events(frame_reader& reader, const std::string& bytes, std::size_t piece) {
    std::vector<seen> out;
    std::string buffered;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        buffered += bytes.substr(at, piece);
        std::string_view in = buffered;
        for (;;) {
            auto e = reader.next(in);
            if (e.kind == kind::need_more) break;
            out.emplace_back(e.kind, std::string(e.payload), e.close_code, std::string(e.error));
            if (e.kind == kind::error) return out;
        }
        buffered.erase(0, buffered.size() - in.size());
    }
    return out;
}

TEST(websocket_frames, reads_messages_of_every_length_form_whole_or_byte_by_byte) {
    const std::string medium(300, 'm'), large(70000, 'L');
    const std::string stream = text("hello") + text(medium) + server_frame(0x82, large) + text("");
    const std::vector<seen> expected{{kind::message, "hello"}, {kind::message, medium}, {kind::message, large},
                                     {kind::message, ""}};
    for (std::size_t piece : {stream.size(), std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        frame_reader reader({});
        EXPECT_EQ(events(reader, stream, piece), expected) << "pieces of " << piece;
    }
}

TEST(websocket_frames, joins_fragments_and_answers_a_ping_between_them) {
    // "Hel" (text, not final), a ping, "lo" (continuation), " world" (final continuation).
    const std::string stream =
        server_frame(0x01, "Hel") + server_frame(0x89, "are you there") + server_frame(0x00, "lo") +
        server_frame(0x80, " world") + text("next");
    for (std::size_t piece : {stream.size(), std::size_t{1}}) {
        frame_reader reader({});
        EXPECT_EQ(events(reader, stream, piece),
                  (std::vector<seen>{{kind::ping, "are you there"}, {kind::message, "Hello world"}, {kind::message, "next"}}));
    }
}

TEST(websocket_frames, drops_an_oversized_message_and_goes_on_with_the_next) {
    frame_reader_options options;
    options.max_message_bytes = 10;
    const std::string stream = text(std::string(10, 'a')) + text(std::string(11, 'b')) +
                               server_frame(0x01, "123456") + server_frame(0x80, "789012") + text("ok");
    for (std::size_t piece : {stream.size(), std::size_t{1}}) {
        frame_reader reader(options);
        EXPECT_EQ(events(reader, stream, piece),
                  (std::vector<seen>{{kind::message, std::string(10, 'a')}, {kind::oversized, ""}, {kind::oversized, ""},
                                     {kind::message, "ok"}}));
    }
}

TEST(websocket_frames, reports_the_close_code_and_reason) {
    frame_reader reader({});
    EXPECT_EQ(events(reader, server_frame(0x88, std::string("\x03\xe9going away", 12)), 100),
              (std::vector<seen>{{kind::close, "going away", 1001}}));
    frame_reader bare({});
    EXPECT_EQ(events(bare, server_frame(0x88, ""), 100), (std::vector<seen>{{kind::close, "", 1005}}));
}

TEST(websocket_frames, fails_on_protocol_violations) {
    auto first_error = [](const std::string& bytes) {
        frame_reader reader({});
        auto got = events(reader, bytes, bytes.size());
        return got.empty() ? std::string("(none)") : got.back().error;
    };
    std::string masked = text("x");
    masked[1] = static_cast<char>(masked[1] | 0x80);
    EXPECT_EQ(first_error(masked + "abcd"), "the server masked a frame");
    EXPECT_EQ(first_error(server_frame(0x83, "x")), "reserved data opcode");
    EXPECT_EQ(first_error(server_frame(0x80, "x")), "continuation frame without a message");
    EXPECT_EQ(first_error(server_frame(0x01, "a") + text("b")), "new message before the previous one ended");
    EXPECT_EQ(first_error(server_frame(0x89, std::string(126, 'p'))), "control frame over 125 bytes");
    EXPECT_EQ(first_error(server_frame(0x09, "p")), "fragmented control frame");
    EXPECT_EQ(first_error(server_frame(0xC1, "x")), "compressed frame without permessage-deflate");
    EXPECT_EQ(first_error(server_frame(0xA1, "x")), "reserved bits set in a frame header");
}

// What a permessage-deflate server sends for each message: raw deflate, flushed, with the
// final 00 00 ff ff removed; the compressor keeps its window across messages.
class deflater {
public:
    deflater() { deflateInit2(&z_, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY); }
    ~deflater() { deflateEnd(&z_); }
    std::string message(std::string_view plain) {
        std::string out(plain.size() + 64, '\0');
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
        z_.avail_in = static_cast<uInt>(plain.size());
        z_.next_out = reinterpret_cast<Bytef*>(out.data());
        z_.avail_out = static_cast<uInt>(out.size());
        deflate(&z_, Z_SYNC_FLUSH);
        out.resize(out.size() - z_.avail_out);
        EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
        out.resize(out.size() - 4);
        return out;
    }

private:
    z_stream z_{};
};

TEST(websocket_frames, inflates_compressed_messages_with_the_window_carried_over) {
    deflater server;
    const std::string first = R"({"kind":"commit","commit":{"record":{"text":"acme is down again"}}})";
    const std::string second = R"({"kind":"commit","commit":{"record":{"text":"acme is down again!!"}}})";
    const std::string c1 = server.message(first), c2 = server.message(second);
    EXPECT_LT(c2.size(), second.size() / 2) << "the second message leans on the first one's window";
    // The second one split over two frames; an uncompressed message in between.
    const std::string stream = server_frame(0xC1, c1) + text("plain") + server_frame(0x41, c2.substr(0, 5)) +
                               server_frame(0x80, c2.substr(5));
    frame_reader_options options;
    options.deflate = true;
    for (std::size_t piece : {stream.size(), std::size_t{1}}) {
        frame_reader reader(options);
        EXPECT_EQ(events(reader, stream, piece),
                  (std::vector<seen>{{kind::message, first}, {kind::message, "plain"}, {kind::message, second}}));
    }
}

TEST(websocket_frames, a_compressed_message_over_the_limit_is_dropped_and_the_stream_stays_in_step) {
    deflater server;
    const std::string big(5000, 'z');  // compresses to a few bytes, inflates past the limit
    const std::string stream = server_frame(0xC1, server.message(big)) + server_frame(0xC1, server.message("small one"));
    frame_reader_options options;
    options.deflate = true;
    options.max_message_bytes = 1000;
    frame_reader reader(options);
    EXPECT_EQ(events(reader, stream, stream.size()), (std::vector<seen>{{kind::oversized, ""}, {kind::message, "small one"}}));
    frame_reader garbage(options);
    EXPECT_EQ(events(garbage, server_frame(0xC1, "\xff\xff\xff\xff"), 100).back().error, "invalid compressed data");
}

TEST(websocket_frames, client_frames_are_masked_with_the_right_length_form) {
    const std::array<std::uint8_t, 4> mask{1, 2, 3, 4};
    for (std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126}, std::size_t{65535}, std::size_t{65536}}) {
        const std::string payload(n, 'q');
        const auto frame = encode_client_frame(ws_opcode::text, payload, mask);
        const std::size_t header = n < 126 ? 6 : n <= 0xFFFF ? 8 : 14;
        ASSERT_EQ(frame.size(), header + n);
        EXPECT_EQ(static_cast<std::uint8_t>(frame[0]), 0x81);
        EXPECT_EQ(static_cast<std::uint8_t>(frame[1]) & 0x80, 0x80) << "mask bit";
        std::string unmasked;
        for (std::size_t i = 0; i < n; ++i)
            unmasked += static_cast<char>(static_cast<std::uint8_t>(frame[header + i]) ^ mask[i % 4]);
        EXPECT_EQ(unmasked, payload);
    }
    EXPECT_EQ(close_payload(1000, "bye"), std::string("\x03\xe8" "bye", 5));
}

}  // namespace
}  // namespace crisisd::net::detail
