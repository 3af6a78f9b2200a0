#include "net/http_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "net/detail/async.hpp"
#include "net/detail/connect.hpp"
#include "net/detail/headers.hpp"
#include "net/detail/tls.hpp"
#include "net/url.hpp"

namespace crisisd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using detail::nothrow;
using steady = std::chrono::steady_clock;

struct http_stream::impl {
    asio::any_io_executor ex;
    http_stream_options options;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    std::vector<std::pair<std::string, std::string>> headers;
    int status = 0;
    bool closed = false;
    char piece[64 * 1024];

    impl(asio::any_io_executor e, http_stream_options o) : ex(std::move(e)), options(std::move(o)) {
        // A stream has no end to wait for: the body is unbounded, each piece is bounded by
        // the buffer handed to the parser.
        parser.body_limit(boost::none);
        // Beast reads at most the buffer's free capacity (at least 512 bytes) from the socket:
        // a buffer left at its first size read a busy X stream a post or two per wakeup, each
        // paying a syscall, a timer reset and a round through the executor. Room for 64 KiB
        // takes what the socket holds in one read.
        buffer.reserve(sizeof piece);
    }

    beast::tcp_stream& tcp_layer() { return secure ? secure->next_layer() : *plain; }

    std::string describe(const boost::system::error_code& ec) const {
        if (closed || ec == asio::error::operation_aborted) return "closed";
        if (ec == beast::error::timeout) return "stalled";
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message)
            return "end of stream";
        return detail::describe_io_error(ec);
    }

    // One read into the parser's body buffer; the bytes it produced.
    template <class Stream>
    asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_piece(Stream& stream) {
        parser.get().body().data = piece;
        parser.get().body().size = sizeof piece;
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, nothrow);
        (void)n;
        if (ec == http::error::need_buffer) ec = {};
        co_return std::pair{ec, sizeof piece - parser.get().body().size};
    }
};

http_stream::http_stream(asio::any_io_executor ex, http_stream_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

http_stream::~http_stream() { close(); }

int http_stream::status() const { return impl_->status; }

std::string http_stream::header(std::string_view name) const { return detail::find_header(impl_->headers, name); }

void http_stream::close() {
    auto& s = *impl_;
    s.closed = true;
    if (!s.plain && !s.secure) return;
    boost::system::error_code ignored;
    s.tcp_layer().socket().close(ignored);
}

asio::awaitable<std::string> http_stream::open() {
    auto self = impl_;  // the object may be destroyed while a coroutine of it is suspended
    auto& s = *self;
    try {
        auto url = parse_url(s.options.url);
        if (!url || url->scheme == "ws" || url->scheme == "wss") co_return "invalid url: " + s.options.url;
        const auto deadline = steady::now() + s.options.connect_timeout;
        std::string error;
        auto results = co_await detail::resolve(s.ex, url->host, url->port, deadline, error);
        if (!error.empty()) co_return error;
        if (s.closed) co_return "closed";
        if (url->tls()) {
            s.ssl_ctx = detail::make_client_context(s.options.tls.ca_file, error);
            if (!s.ssl_ctx) co_return error;
            s.secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(s.ex, *s.ssl_ctx);
        } else {
            s.plain = std::make_unique<beast::tcp_stream>(s.ex);
        }
        s.tcp_layer().expires_at(deadline);
        auto [connect_ec, endpoint] = co_await s.tcp_layer().async_connect(results, nothrow);
        (void)endpoint;
        if (connect_ec) co_return s.closed ? std::string("closed") : detail::describe_io_error(connect_ec);
        boost::system::error_code ignored;
        s.tcp_layer().socket().set_option(tcp::no_delay(true), ignored);
        if (s.secure) {
            if (!detail::prepare_client_ssl(s.secure->native_handle(), url->host))
                co_return "tls: cannot set up host name verification for " + url->host;
            auto [ec] = co_await s.secure->async_handshake(asio::ssl::stream_base::client, nothrow);
            if (ec)
                co_return ec == beast::error::timeout ? std::string("timeout")
                                                      : detail::describe_tls_error(ec, s.secure->native_handle());
        }
        http::request<http::empty_body> request{http::verb::get, url->target, 11};
        request.set(http::field::host, host_header(*url));
        request.set(http::field::user_agent, "crisisd/0.1");
        for (const auto& [name, value] : s.options.headers) request.set(name, value);
        boost::system::error_code ec;
        if (s.secure) {
            std::tie(ec, std::ignore) = co_await http::async_write(*s.secure, request, nothrow);
            if (!ec) std::tie(ec, std::ignore) = co_await http::async_read_header(*s.secure, s.buffer, s.parser, nothrow);
        } else {
            std::tie(ec, std::ignore) = co_await http::async_write(*s.plain, request, nothrow);
            if (!ec) std::tie(ec, std::ignore) = co_await http::async_read_header(*s.plain, s.buffer, s.parser, nothrow);
        }
        if (ec) co_return ec == beast::error::timeout ? std::string("timeout") : s.describe(ec);
        const auto& head = s.parser.get();
        s.status = static_cast<int>(head.result_int());
        for (const auto& field : head) s.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        co_return std::string{};
    } catch (const std::exception& e) {
        co_return std::string("internal: ") + e.what();
    }
}

asio::awaitable<std::string> http_stream::read_some(std::string& out) {
    auto self = impl_;
    auto& s = *self;
    if (s.closed) co_return "closed";
    if (!s.plain && !s.secure) co_return "not open";
    try {
        while (true) {
            if (s.parser.is_done()) co_return "end of stream";
            s.tcp_layer().expires_after(s.options.stall_timeout);
            std::pair<boost::system::error_code, std::size_t> r;
            if (s.secure)
                r = co_await s.read_piece(*s.secure);
            else
                r = co_await s.read_piece(*s.plain);
            if (r.second > 0) {
                out.append(s.piece, r.second);
                co_return std::string{};
            }
            if (r.first) co_return s.describe(r.first);
            // A chunk header or trailer without body bytes: read on.
        }
    } catch (const std::exception& e) {
        co_return std::string("internal: ") + e.what();
    }
}

asio::awaitable<std::string> http_stream::read_body() {
    std::string body;
    while (body.size() < impl_->options.max_error_body) {
        auto why = co_await read_some(body);
        if (!why.empty()) break;
    }
    if (body.size() > impl_->options.max_error_body) body.resize(impl_->options.max_error_body);
    co_return body;
}

}  // namespace crisisd::net
