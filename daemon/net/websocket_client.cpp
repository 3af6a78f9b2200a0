#include "net/websocket_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <array>

#include "net/detail/async.hpp"
#include "net/detail/connect.hpp"
#include "net/detail/tls.hpp"
#include "net/url.hpp"

namespace crisisd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using detail::nothrow;
using steady = std::chrono::steady_clock;

namespace {

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// Messages are read in pieces of the scratch buffer's size; oversized ones are drained in user
// space that way too. Past this hard limit a
// message is not worth draining and Beast fails the connection (message_too_big) instead.
constexpr std::size_t min_hard_limit = 64 * 1024 * 1024;

}  // namespace

struct websocket_client::impl {
    asio::any_io_executor ex;
    websocket_client_options options;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::unique_ptr<plain_ws> plain;
    std::unique_ptr<tls_ws> secure;
    int status = 0;
    std::array<char, 16 * 1024> scratch{};

    impl(asio::any_io_executor e, websocket_client_options o) : ex(std::move(e)), options(std::move(o)) {}

    template <class WS>
    asio::awaitable<std::string> upgrade(WS& ws, const url_parts& url, steady::time_point deadline) {
        beast::get_lowest_layer(ws).expires_never();
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
        timeouts.handshake_timeout = std::max<steady::duration>(deadline - steady::now(),
                                                                std::chrono::milliseconds(1));
        // suggested(client) has no idle limit; a stream that went silent because the network
        // did must still be noticed, so pings are on.
        if (options.idle_timeout.count() > 0) {
            timeouts.idle_timeout = options.idle_timeout;
            timeouts.keep_alive_pings = true;
        }
        ws.set_option(timeouts);
        ws.set_option(websocket::stream_base::decorator(
            [headers = options.headers](websocket::request_type& request) {
                request.set(beast::http::field::user_agent, "crisisd/0.1");
                for (const auto& [name, value] : headers) request.set(name, value);
            }));
        ws.read_message_max(std::max(min_hard_limit, options.max_message_bytes * 4));
        if (options.permessage_deflate) {
            websocket::permessage_deflate deflate;
            deflate.client_enable = true;
            ws.set_option(deflate);
        }
        websocket::response_type response;
        auto [ec] = co_await ws.async_handshake(response, host_header(url), url.target, nothrow);
        if (!ec) co_return std::string{};
        if (ec == websocket::error::upgrade_declined) {
            status = static_cast<int>(response.result_int());
            co_return "upgrade declined: HTTP " + std::to_string(status);
        }
        co_return detail::describe_io_error(ec);
    }

    template <class WS>
    asio::awaitable<read_result> read_from(WS& ws, std::string& message) {
        read_result out;
        message.clear();
        bool oversized = false;
        for (;;) {
            std::size_t n = 0;
            boost::system::error_code ec;
            if (oversized) {
                auto [read_ec, read_n] = co_await ws.async_read_some(asio::buffer(scratch), nothrow);
                ec = read_ec;
                n = read_n;
            } else {
                // Read through the scratch buffer and append, never past max + 1 bytes: one byte
                // more than allowed is enough to know it is too big. (Resizing the message to
                // make room first would zero-fill a whole chunk for every ~300-byte frame.)
                auto room = std::min(scratch.size(), options.max_message_bytes + 1 - message.size());
                auto [read_ec, read_n] = co_await ws.async_read_some(asio::buffer(scratch.data(), room), nothrow);
                ec = read_ec;
                n = read_n;
                message.append(scratch.data(), n);
                if (message.size() > options.max_message_bytes) {
                    oversized = true;
                    message.clear();
                }
            }
            if (ec) {
                message.clear();
                if (ec == websocket::error::message_too_big) {
                    out.status = read_status::oversized;
                    out.error = "message over the hard size limit";
                    co_return out;
                }
                out.status = read_status::closed;
                if (ec == websocket::error::closed) {
                    auto reason = ws.reason();
                    out.error = "closed by server (code " + std::to_string(reason.code) +
                                (reason.reason.empty() ? "" : ", " + std::string(reason.reason.data(), reason.reason.size())) + ")";
                } else if (ec == websocket::error::bad_frame_payload) {
                    out.invalid_utf8 = true;
                    out.error = "a text message was not valid UTF-8";
                } else {
                    out.error = detail::describe_io_error(ec);
                }
                co_return out;
            }
            if (ws.is_message_done()) {
                out.status = oversized ? read_status::oversized : read_status::message;
                out.binary = !ws.got_text();
                co_return out;
            }
        }
    }
};

websocket_client::websocket_client(asio::any_io_executor ex, websocket_client_options options)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(options))) {}

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
            s.secure = std::make_unique<tls_ws>(s.ex, *s.ssl_ctx);
        } else {
            s.plain = std::make_unique<plain_ws>(s.ex);
        }
        auto& tcp_layer = s.secure ? beast::get_lowest_layer(*s.secure) : beast::get_lowest_layer(*s.plain);
        tcp_layer.expires_at(deadline);
        auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(results, nothrow);
        (void)endpoint;
        if (connect_ec) co_return detail::describe_io_error(connect_ec);
        boost::system::error_code ignored;
        tcp_layer.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        if (s.secure) {
            auto* handle = s.secure->next_layer().native_handle();
            if (!detail::prepare_client_ssl(handle, url->host))
                co_return "tls: cannot set up host name verification for " + url->host;
            auto [handshake_ec] =
                co_await s.secure->next_layer().async_handshake(asio::ssl::stream_base::client, nothrow);
            if (handshake_ec)
                co_return handshake_ec == beast::error::timeout
                    ? std::string("timeout")
                    : detail::describe_tls_error(handshake_ec, handle);
            co_return co_await s.upgrade(*s.secure, *url, deadline);
        }
        co_return co_await s.upgrade(*s.plain, *url, deadline);
    } catch (const std::exception& e) {
        co_return std::string("internal: ") + e.what();
    }
}

asio::awaitable<websocket_client::read_result> websocket_client::read(std::string& message) {
    auto& s = *impl_;
    try {
        if (s.secure) co_return co_await s.read_from(*s.secure, message);
        if (s.plain) co_return co_await s.read_from(*s.plain, message);
        co_return read_result{read_status::closed, "not connected", false};
    } catch (const std::exception& e) {
        co_return read_result{read_status::closed, std::string("internal: ") + e.what(), false};
    }
}

asio::awaitable<std::string> websocket_client::write(std::string text) {
    auto& s = *impl_;
    try {
        boost::system::error_code ec = asio::error::not_connected;
        if (s.secure) {
            s.secure->text(true);
            std::tie(ec, std::ignore) = co_await s.secure->async_write(asio::buffer(text), nothrow);
        } else if (s.plain) {
            s.plain->text(true);
            std::tie(ec, std::ignore) = co_await s.plain->async_write(asio::buffer(text), nothrow);
        }
        co_return ec ? detail::describe_io_error(ec) : std::string{};
    } catch (const std::exception& e) {
        co_return std::string("internal: ") + e.what();
    }
}

void websocket_client::close() {
    auto& s = *impl_;
    if (s.secure) beast::get_lowest_layer(*s.secure).close();
    if (s.plain) beast::get_lowest_layer(*s.plain).close();
}

}  // namespace crisisd::net
