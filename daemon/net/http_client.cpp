#include "net/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <map>

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

namespace {

// Idle connections older than this are dropped instead of reused: servers commonly close idle
// keep-alive connections after 60 s or less, and a request sent into a connection the server is
// closing at that moment can fail after the server has read it.
constexpr auto idle_limit = std::chrono::seconds(30);
constexpr std::size_t max_idle_per_host = 4;
constexpr std::uint64_t response_body_limit = 16 * 1024 * 1024;

struct connection {
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    steady::time_point idle_since;

    beast::tcp_stream& tcp() { return secure ? secure->next_layer() : *plain; }
    void close() {
        boost::system::error_code ignored;
        tcp().socket().close(ignored);
    }
};

struct exchange_result {
    http::response<http::string_body> response;
    boost::system::error_code ec;
    bool got_bytes = false;  // some of the response arrived before the error
};

std::string describe(const boost::system::error_code& ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof)
        return "connection closed before a response";
    return detail::describe_io_error(ec);
}

template <class Stream>
asio::awaitable<exchange_result> exchange(Stream& stream, connection& conn,
                                          const http::request<http::string_body>& request,
                                          steady::time_point deadline) {
    exchange_result out;
    conn.tcp().expires_at(deadline);
    auto [write_ec, written] = co_await http::async_write(stream, request, nothrow);
    (void)written;
    if (write_ec) {
        out.ec = write_ec;
        co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(response_body_limit);
    if (request.method() == http::verb::head) parser.skip(true);
    auto [read_ec, read] = co_await http::async_read(stream, conn.buffer, parser, nothrow);
    (void)read;
    if (read_ec) {
        out.ec = read_ec;
        out.got_bytes = parser.got_some() || conn.buffer.size() > 0;
        co_return out;
    }
    out.response = parser.release();
    co_return out;
}

}  // namespace

std::string http_response::header(std::string_view name) const { return detail::find_header(headers, name); }

struct http_client::impl {
    asio::any_io_executor ex;
    tls_options tls;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::string ssl_ctx_error;
    bool ssl_ctx_made = false;
    std::map<std::string, std::vector<std::unique_ptr<connection>>> idle;

    impl(asio::any_io_executor e, tls_options t) : ex(std::move(e)), tls(std::move(t)) {}

    asio::ssl::context* context(std::string& error) {
        if (!ssl_ctx_made) {
            ssl_ctx = detail::make_client_context(tls.ca_file, ssl_ctx_error);
            ssl_ctx_made = true;
        }
        if (!ssl_ctx) error = ssl_ctx_error;
        return ssl_ctx.get();
    }

    std::unique_ptr<connection> take_idle(const std::string& key) {
        auto it = idle.find(key);
        if (it == idle.end()) return nullptr;
        auto& list = it->second;
        auto now = steady::now();
        while (!list.empty()) {
            auto conn = std::move(list.back());
            list.pop_back();
            if (conn->tcp().socket().is_open() && now - conn->idle_since < idle_limit) return conn;
            conn->close();
        }
        return nullptr;
    }

    void put_idle(const std::string& key, std::unique_ptr<connection> conn) {
        auto& list = idle[key];
        if (list.size() >= max_idle_per_host) {
            conn->close();
            return;
        }
        conn->idle_since = steady::now();
        list.push_back(std::move(conn));
    }

    asio::awaitable<std::unique_ptr<connection>> connect(const url_parts& url,
                                                         steady::time_point deadline,
                                                         std::string& error) {
        auto results = co_await detail::resolve(ex, url.host, url.port, deadline, error);
        if (!error.empty()) co_return nullptr;
        auto conn = std::make_unique<connection>();
        asio::ssl::context* ctx = nullptr;
        if (url.tls()) {
            ctx = context(error);
            if (ctx == nullptr) co_return nullptr;
            conn->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *ctx);
        } else {
            conn->plain = std::make_unique<beast::tcp_stream>(ex);
        }
        auto& tcp_layer = conn->tcp();
        tcp_layer.expires_at(deadline);
        auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(results, nothrow);
        (void)endpoint;
        if (connect_ec) {
            error = describe(connect_ec);
            co_return nullptr;
        }
        boost::system::error_code ignored;
        tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
        if (conn->secure) {
            if (!detail::prepare_client_ssl(conn->secure->native_handle(), url.host)) {
                error = "tls: cannot set up host name verification for " + url.host;
                co_return nullptr;
            }
            auto [handshake_ec] =
                co_await conn->secure->async_handshake(asio::ssl::stream_base::client, nothrow);
            if (handshake_ec) {
                error = handshake_ec == beast::error::timeout
                            ? "timeout"
                            : detail::describe_tls_error(handshake_ec, conn->secure->native_handle());
                co_return nullptr;
            }
        }
        co_return conn;
    }
};

http_client::http_client(asio::any_io_executor ex, tls_options tls)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(tls))) {}

http_client::~http_client() {
    for (auto& [key, list] : impl_->idle)
        for (auto& conn : list) conn->close();
}

asio::awaitable<http_response> http_client::send(http_request request) {
    auto self = impl_;  // the client may be destroyed while a request is in flight
    http_response out;
    try {
        auto url = parse_url(request.url);
        if (!url || url->scheme == "ws" || url->scheme == "wss") {
            out.error = "invalid url: " + request.url;
            co_return out;
        }
        auto deadline = steady::now() + request.timeout;
        http::request<http::string_body> message;
        message.version(11);
        auto verb = http::string_to_verb(request.method);
        if (verb == http::verb::unknown)
            message.method_string(request.method);
        else
            message.method(verb);
        message.target(url->target);
        message.set(http::field::host, host_header(*url));
        message.set(http::field::user_agent, "crisisd/0.1");
        for (const auto& [name, value] : request.headers) message.set(name, value);
        message.body() = std::move(request.body);
        if (!message.body().empty() || verb == http::verb::post || verb == http::verb::put ||
            verb == http::verb::patch)
            message.prepare_payload();

        const auto key = url->host_port();
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto conn = self->take_idle(key);
            const bool reused = conn != nullptr;
            if (!conn) {
                conn = co_await self->connect(*url, deadline, out.error);
                if (!conn) co_return out;
            }
            // Two statements, not a conditional expression: GCC 12 miscompiles co_await
            // inside ?: (the result object is left dangling).
            exchange_result result;
            if (conn->secure)
                result = co_await exchange(*conn->secure, *conn, message, deadline);
            else
                result = co_await exchange(*conn->plain, *conn, message, deadline);
            if (!result.ec) {
                out.status = result.response.result_int();
                for (const auto& field : result.response)
                    out.headers.emplace_back(std::string(field.name_string()),
                                             std::string(field.value()));
                out.body = std::move(result.response.body());
                if (result.response.keep_alive() && message.keep_alive())
                    self->put_idle(key, std::move(conn));
                else
                    conn->close();
                co_return out;
            }
            conn->close();
            // A pooled connection the server has closed meanwhile fails on first use. Only then
            // is a retry safe: nothing came back, so the server cannot have answered (and the
            // request is sent again at most once).
            if (reused && !result.got_bytes && result.ec != beast::error::timeout &&
                steady::now() < deadline)
                continue;
            out.error = describe(result.ec);
            co_return out;
        }
    } catch (const std::exception& e) {
        out.status = 0;
        out.error = std::string("internal: ") + e.what();
    }
    co_return out;
}

asio::awaitable<void> http_client::warm_up(std::string url) {
    auto self = impl_;
    try {
        auto parsed = parse_url(url);
        if (!parsed || parsed->scheme == "ws" || parsed->scheme == "wss") co_return;
        std::string error;
        auto conn =
            co_await self->connect(*parsed, steady::now() + std::chrono::seconds(10), error);
        if (conn) self->put_idle(parsed->host_port(), std::move(conn));
    } catch (const std::exception& e) {
        core::log_warning(std::string("http warm_up: ") + e.what());
    }
}

}  // namespace crisisd::net
