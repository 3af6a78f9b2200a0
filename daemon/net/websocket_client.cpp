#include "net/websocket_client.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

#include "core/base64.hpp"
#include "net/detail/async.hpp"
#include "net/detail/connect.hpp"
#include "net/detail/tls.hpp"
#include "net/detail/websocket_frames.hpp"
#include "net/url.hpp"

namespace crisisd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using detail::frame_reader;
using detail::nothrow;
using detail::ws_opcode;
using steady = std::chrono::steady_clock;

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// One socket read takes up to this much: a couple of hundred typical mentions.
constexpr std::size_t read_chunk = 64 * 1024;
// A sink is handed at most this many messages at once (a full chunk of tiny messages would
// be thousands).
constexpr std::size_t max_batch = 1024;

std::array<std::uint8_t, 4> random_mask() {
    std::array<std::uint8_t, 4> mask{};
    if (RAND_bytes(mask.data(), static_cast<int>(mask.size())) != 1) mask = {0x5a, 0xa5, 0x3c, 0xc3};
    return mask;
}

std::string random_key() {
    std::array<unsigned char, 16> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) nonce.fill(0x42);
    return core::to_base64({reinterpret_cast<const char*>(nonce.data()), nonce.size()});
}

// RFC 6455 4.2.2: the server proves it read our key by returning base64(SHA-1(key + GUID)).
std::string expected_accept(const std::string& key) {
    const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) return {};
    return core::to_base64({reinterpret_cast<const char*>(digest.data()), length});
}

struct deflate_answer {
    bool accepted = false;
    bool server_no_context_takeover = false;
    std::string error;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool has_token(std::string_view list, std::string_view token) {
    // Comma-separated header tokens, compared without case ("Upgrade", "keep-alive, Upgrade").
    while (!list.empty()) {
        auto comma = list.find(',');
        if (beast::iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

// The server's Sec-WebSocket-Extensions answer to our permessage-deflate offer (RFC 7692 7.1):
// the extension name, then parameters separated by ';'. Only server_no_context_takeover
// matters to a client that inflates and never compresses what it sends.
deflate_answer read_extensions(std::string_view header, bool offered) {
    deflate_answer out;
    if (trim(header).empty()) return out;
    if (header.find(',') != std::string_view::npos) {
        out.error = "the server accepted more than one extension: " + std::string(header);
        return out;
    }
    bool first = true;
    while (!header.empty()) {
        const auto semicolon = header.find(';');
        const auto item = trim(header.substr(0, semicolon));
        const auto name = trim(item.substr(0, item.find('=')));
        if (first) {
            if (!offered || !beast::iequals(name, "permessage-deflate")) {
                out.error = "the server chose an extension that was not offered: " + std::string(item);
                return out;
            }
            out.accepted = true;
            first = false;
        } else if (beast::iequals(name, "server_no_context_takeover")) {
            out.server_no_context_takeover = true;
        }
        if (semicolon == std::string_view::npos) break;
        header.remove_prefix(semicolon + 1);
    }
    return out;
}

}  // namespace

struct websocket_client::impl : std::enable_shared_from_this<impl> {
    asio::any_io_executor ex;
    websocket_client_options options;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<tls_stream> secure;
    int status = 0;
    bool open = false;  // upgraded and not yet closed

    // Reading: bytes from the socket wait in `in` between [begin, end) until frames are whole.
    std::vector<char> in = std::vector<char>(read_chunk);
    std::size_t begin = 0, end = 0;
    std::unique_ptr<frame_reader> frames;

    // Writing: whole frames in order, one async_write at a time.
    std::deque<std::string> outgoing;
    bool writing = false;
    asio::steady_timer flushed;  // cancelled when `outgoing` empties

    // Keepalive: a ping after idle/2 of silence, the connection fails after idle.
    asio::steady_timer keepalive;
    steady::time_point last_received{};
    bool idle_expired = false;

    impl(asio::any_io_executor e, websocket_client_options o)
        : ex(std::move(e)), options(std::move(o)), flushed(ex), keepalive(ex) {}

    beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    template <class Stream>
    asio::awaitable<std::string> upgrade(Stream& stream, const url_parts& url) {
        const std::string key = random_key();
        http::request<http::empty_body> request{http::verb::get, url.target, 11};
        request.set(http::field::host, host_header(url));
        request.set(http::field::upgrade, "websocket");
        request.set(http::field::connection, "Upgrade");
        request.set(http::field::sec_websocket_key, key);
        request.set(http::field::sec_websocket_version, "13");
        request.set(http::field::user_agent, "crisisd/0.1");
        if (options.permessage_deflate)
            request.set(http::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits");
        for (const auto& [name, value] : options.headers) request.set(name, value);
        auto [write_ec, written] = co_await http::async_write(stream, request, nothrow);
        (void)written;
        if (write_ec) co_return detail::describe_io_error(write_ec);

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024);
        auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, nothrow);
        (void)read;
        if (read_ec) co_return detail::describe_io_error(read_ec);
        const auto& response = parser.get();
        if (response.result() != http::status::switching_protocols) {
            status = static_cast<int>(response.result_int());
            co_return "upgrade declined: HTTP " + std::to_string(status);
        }
        if (!beast::iequals(response[http::field::upgrade], "websocket") ||
            !has_token(response[http::field::connection], "upgrade"))
            co_return "upgrade answer without Upgrade: websocket";
        if (response[http::field::sec_websocket_accept] != expected_accept(key))
            co_return "upgrade answer with a wrong Sec-WebSocket-Accept";
        auto deflate = read_extensions(response[http::field::sec_websocket_extensions], options.permessage_deflate);
        if (!deflate.error.empty()) co_return deflate.error;

        detail::frame_reader_options fo;
        fo.max_message_bytes = options.max_message_bytes;
        fo.deflate = deflate.accepted;
        fo.server_no_context_takeover = deflate.server_no_context_takeover;
        frames = std::make_unique<frame_reader>(fo);
        // A server may send its first frames right behind the 101: they are ours to parse.
        const auto early = buffer.data();
        if (early.size() > in.size()) in.resize(early.size());
        std::memcpy(in.data(), early.data(), early.size());
        begin = 0;
        end = early.size();
        open = true;
        co_return std::string{};
    }

    // --- writing ---
    void send(ws_opcode opcode, std::string_view payload) {
        if (!open) return;
        outgoing.push_back(detail::encode_client_frame(opcode, payload, random_mask()));
        if (!writing) write_next();
    }

    void write_next() {
        writing = true;
        auto done = [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->outgoing.pop_front();
            if (ec) {
                self->outgoing.clear();
                self->writing = false;
                self->flushed.cancel();
                self->shut();  // the read in progress sees it and reports the connection closed
                return;
            }
            if (!self->outgoing.empty()) return self->write_next();
            self->writing = false;
            self->flushed.cancel();
        };
        if (secure) asio::async_write(*secure, asio::buffer(outgoing.front()), std::move(done));
        else asio::async_write(*plain, asio::buffer(outgoing.front()), std::move(done));
    }

    asio::awaitable<void> flush(steady::duration limit) {
        if (!writing) co_return;
        flushed.expires_after(limit);
        co_await flushed.async_wait(nothrow);
    }

    // --- keepalive ---
    void arm_keepalive() {
        if (options.idle_timeout.count() <= 0) return;
        const auto half = std::chrono::duration_cast<steady::duration>(options.idle_timeout) / 2;
        const auto silent = steady::now() - last_received;
        keepalive.expires_after(silent < half ? half - silent : half);
        keepalive.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || !self->open) return;
            const auto idle = std::chrono::duration_cast<steady::duration>(self->options.idle_timeout);
            const auto quiet = steady::now() - self->last_received;
            if (quiet >= idle) {
                self->idle_expired = true;
                self->shut();
                return;
            }
            if (quiet >= idle / 2) self->send(ws_opcode::ping, {});
            self->arm_keepalive();
        });
    }

    void shut() {
        open = false;
        keepalive.cancel();
        boost::system::error_code ignored;
        if (secure || plain) tcp().socket().close(ignored);
    }

    // --- reading ---
    // Sends a close frame with `code` and gives it a moment to leave (the connection is over
    // either way), then drops the connection.
    asio::awaitable<void> end_with_close(std::uint16_t code) {
        send(ws_opcode::close, detail::close_payload(code));
        co_await flush(std::chrono::milliseconds(200));
        shut();
    }

    // What deliver() found in the buffered bytes.
    struct delivery {
        enum kind { nothing, some, stopped_at_oversized, close, error } kind = nothing;
        std::uint16_t close_code = 0;
        std::string text;  // the close reason or the protocol error
    };

    // Messages waiting to be handed to a sink: views into `in` (whole single-frame messages
    // lie there untouched until the next socket read), flushed before anything whose bytes
    // live elsewhere or that must keep its place in the order.
    std::vector<message> batch;

    // Hands the sink every whole message in [begin, end), up to its room, without suspending.
    // Consumed bytes are gone from the buffer whatever happens (no rewinding: the frame
    // reader's state moves with them), which is why the sink's room is asked first.
    delivery deliver(message_sink& sink) {
        delivery out;
        std::size_t room = sink.room();
        bool handed = false;
        auto flush = [&] {
            if (batch.empty()) return;
            sink.take(batch);
            room -= batch.size();
            batch.clear();
            handed = true;
        };
        // Whether a payload lies in `in` (std::less: pointers into different objects compare
        // only through it).
        const auto in_buffer = [lo = in.data(), hi = in.data() + end](std::string_view p) {
            return !std::less<const char*>{}(p.data(), lo) && !std::less<const char*>{}(hi, p.data() + p.size());
        };
        while (room > batch.size()) {
            std::string_view pending(in.data() + begin, end - begin);
            auto event = frames->next(pending);
            begin = end - pending.size();
            switch (event.kind) {
                case frame_reader::kind::message:
                    if (in_buffer(event.payload)) {
                        batch.push_back({event.payload, event.binary});
                        if (batch.size() == max_batch) flush();
                        continue;
                    }
                    // Assembled from fragments or inflated: it lives in the frame reader, and
                    // the next frame may overwrite it.
                    flush();
                    sink.take(std::span<const message>(&batch.emplace_back(message{event.payload, event.binary}), 1));
                    batch.clear();
                    --room;
                    handed = true;
                    continue;
                case frame_reader::kind::oversized:
                    flush();
                    if (!sink.oversized()) {
                        out.kind = delivery::stopped_at_oversized;
                        return out;
                    }
                    continue;
                case frame_reader::kind::ping:
                    send(ws_opcode::pong, event.payload);
                    continue;
                case frame_reader::kind::pong:
                    continue;
                case frame_reader::kind::close:
                    flush();
                    out.kind = delivery::close;
                    out.close_code = event.close_code;
                    out.text = event.payload;
                    return out;
                case frame_reader::kind::error:
                    flush();
                    out.kind = delivery::error;
                    out.text = event.error;
                    return out;
                case frame_reader::kind::need_more:
                    flush();
                    out.kind = handed ? delivery::some : delivery::nothing;
                    return out;
            }
        }
        flush();
        out.kind = delivery::some;  // the sink is full; the rest waits in the buffer
        return out;
    }

    template <class Stream>
    asio::awaitable<read_result> read_from(Stream& stream, message_sink& sink) {
        read_result out;
        // Taken before the first suspension and held to the end (see read_batch()).
        std::shared_ptr<impl> keep;
        for (;;) {
            auto found = deliver(sink);
            switch (found.kind) {
                case delivery::some:
                    out.status = read_status::message;
                    co_return out;
                case delivery::stopped_at_oversized:
                    out.status = read_status::oversized;
                    co_return out;
                case delivery::close:
                    out.error = "closed by server (code " + std::to_string(found.close_code) +
                                (found.text.empty() ? "" : ", " + found.text) + ")";
                    // Echo the server's code, as RFC 6455 asks; 1005 means it sent none.
                    if (!keep) keep = shared_from_this();
                    co_await end_with_close(found.close_code == 1005 ? 1000 : found.close_code);
                    out.status = read_status::closed;
                    co_return out;
                case delivery::error:
                    out.error = "protocol error: " + found.text;
                    if (!keep) keep = shared_from_this();
                    co_await end_with_close(1002);
                    out.status = read_status::closed;
                    co_return out;
                case delivery::nothing:
                    break;
            }
            // Make room: keep the unread tail at the front, then fill the rest from the socket.
            if (begin == end) {
                begin = end = 0;
            } else if (in.size() - end < read_chunk / 4) {
                std::memmove(in.data(), in.data() + begin, end - begin);
                end -= begin;
                begin = 0;
            }
            if (end == in.size()) in.resize(in.size() * 2);  // one frame header larger than the buffer: never, but safe
            if (!keep) keep = shared_from_this();
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(in.data() + end, in.size() - end), nothrow);
            if (ec) {
                out.status = read_status::closed;
                out.error = idle_expired ? "idle timeout: nothing received for " +
                                               std::to_string(options.idle_timeout.count()) + " ms"
                                         : detail::describe_io_error(ec);
                shut();
                co_return out;
            }
            end += n;
            last_received = steady::now();
        }
    }
};

websocket_client::websocket_client(asio::any_io_executor ex, websocket_client_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

websocket_client::~websocket_client() { close(); }

int websocket_client::upgrade_status() const { return impl_->status; }

asio::awaitable<std::string> websocket_client::connect() {
    auto& s = *impl_;
    try {
        auto url = parse_url(s.options.url);
        if (!url || (url->scheme != "ws" && url->scheme != "wss"))
            co_return "invalid url: " + s.options.url;
        const auto deadline = steady::now() + s.options.connect_timeout;
        std::string error;
        auto results = co_await detail::resolve(s.ex, url->host, url->port, deadline, error);
        if (!error.empty()) co_return error;
        if (url->tls()) {
            s.ssl_ctx = detail::make_client_context(s.options.tls.ca_file, error);
            if (!s.ssl_ctx) co_return error;
            s.secure = std::make_unique<tls_stream>(s.ex, *s.ssl_ctx);
        } else {
            s.plain = std::make_unique<beast::tcp_stream>(s.ex);
        }
        auto& tcp_layer = s.tcp();
        tcp_layer.expires_at(deadline);
        auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(results, nothrow);
        (void)endpoint;
        if (connect_ec) co_return detail::describe_io_error(connect_ec);
        boost::system::error_code ignored;
        tcp_layer.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        std::string result;
        if (s.secure) {
            auto* handle = s.secure->native_handle();
            if (!detail::prepare_client_ssl(handle, url->host))
                co_return "tls: cannot set up host name verification for " + url->host;
            auto [handshake_ec] = co_await s.secure->async_handshake(asio::ssl::stream_base::client, nothrow);
            if (handshake_ec)
                co_return handshake_ec == beast::error::timeout ? std::string("timeout")
                                                                : detail::describe_tls_error(handshake_ec, handle);
            result = co_await s.upgrade(*s.secure, *url);
        } else {
            result = co_await s.upgrade(*s.plain, *url);
        }
        // From here the keepalive, not a deadline, notices a dead connection.
        tcp_layer.expires_never();
        if (result.empty()) {
            s.last_received = steady::now();
            s.arm_keepalive();
        }
        co_return result;
    } catch (const std::exception& e) {
        co_return std::string("internal: ") + e.what();
    }
}

namespace {
// read(): one message at a time, copied out.
struct one_message final : websocket_client::message_sink {
    std::string& message;
    bool binary = false;
    bool done = false;
    explicit one_message(std::string& m) : message(m) {}
    std::size_t room() override { return done ? 0 : 1; }
    void take(std::span<const websocket_client::message> batch) override {
        message.assign(batch.front().payload);
        binary = batch.front().binary;
        done = true;
    }
    bool oversized() override { return false; }
};
}  // namespace

asio::awaitable<websocket_client::read_result> websocket_client::read(std::string& into) {
    one_message sink(into);
    auto result = co_await read_batch(sink);
    result.binary = sink.binary;
    if (result.status != read_status::message) into.clear();
    co_return result;
}

asio::awaitable<websocket_client::read_result> websocket_client::read_batch(message_sink& sink) {
    // No reference count taken here: copying impl_ for each call is an atomic increment and
    // decrement. read_from() holds a reference across its suspensions instead, so a client
    // destroyed meanwhile does not free what the read is using.
    impl* const self = impl_.get();
    try {
        if (!self->frames || (!self->open && self->begin == self->end))
            co_return read_result{read_status::closed, "not connected"};
        if (self->secure) co_return co_await self->read_from(*self->secure, sink);
        co_return co_await self->read_from(*self->plain, sink);
    } catch (const std::exception& e) {
        co_return read_result{read_status::closed, std::string("internal: ") + e.what()};
    }
}

asio::awaitable<std::string> websocket_client::write(std::string text) {
    auto& s = *impl_;
    if (!s.open) co_return std::string("not connected");
    s.send(ws_opcode::text, text);
    co_return std::string{};
}

void websocket_client::close() { impl_->shut(); }

}  // namespace crisisd::net
