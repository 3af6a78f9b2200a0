#include "net/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <atomic>
#include <deque>
#include <mutex>
#include <type_traits>

#include "core/log.hpp"
#include "net/detail/async.hpp"
#include "net/detail/headers.hpp"
#include "net/detail/listener.hpp"
#include "net/detail/tls.hpp"
#include "net/url.hpp"

namespace crisisd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using detail::nothrow;

namespace {

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto tls_handshake_timeout = std::chrono::seconds(10);
constexpr auto sse_heartbeat = std::chrono::seconds(15);
constexpr std::size_t sse_queue_limit = 1024;
// After a 413 the rest of the oversized body is read and discarded (up to this much, for up to
// drain_timeout) so the client sees the answer instead of a reset connection.
constexpr std::size_t drain_limit = 64 * 1024 * 1024;
constexpr auto drain_timeout = std::chrono::seconds(5);

class sse_sink final : public sse_stream, public std::enable_shared_from_this<sse_sink> {
public:
    explicit sse_sink(asio::any_io_executor strand) : strand_(strand), wake_(strand) {}

    bool send(std::string_view data, std::string_view event) override {
        std::string text;
        text.reserve(data.size() + event.size() + 16);
        if (!event.empty()) {
            text += "event: ";
            text += event;
            text += '\n';
        }
        // Each line of data becomes its own data: field; the client joins them with '\n'.
        std::size_t start = 0;
        for (;;) {
            auto end = data.find('\n', start);
            auto line = data.substr(start, end == std::string_view::npos ? end : end - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            text += "data: ";
            text += line;
            text += '\n';
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
        text += '\n';
        {
            std::lock_guard lock(mutex_);
            if (closed_ || queue_.size() >= sse_queue_limit) return false;
            queued_ += text.size();
            queue_.push_back(std::move(text));
        }
        wake();
        return true;
    }

    bool is_open() const override {
        std::lock_guard lock(mutex_);
        return !closed_;
    }

    std::size_t queued_bytes() const override {
        std::lock_guard lock(mutex_);
        return queued_ + writing_;
    }

    void close() override {
        {
            std::lock_guard lock(mutex_);
            if (closed_) return;
            closed_ = true;
        }
        wake();
    }

    void on_close(std::function<void()> callback) override {
        bool run_now = false;
        {
            std::lock_guard lock(mutex_);
            if (finished_)
                run_now = true;
            else
                callback_ = std::move(callback);
        }
        if (run_now && callback) asio::post(strand_, std::move(callback));
    }

    // Connection side, on the strand. Called again only once the previous batch is written,
    // so what it hands out is the write in progress until then.
    std::string take() {
        std::lock_guard lock(mutex_);
        std::string out;
        out.reserve(queued_);
        for (auto& item : queue_) out += item;
        queue_.clear();
        queued_ = 0;
        writing_ = out.size();
        return out;
    }

    void finish() {
        std::function<void()> callback;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            finished_ = true;
            callback = std::move(callback_);
            queue_.clear();
            queued_ = writing_ = 0;
        }
        if (callback) {
            try {
                callback();
            } catch (const std::exception& e) {
                core::log_error(std::string("sse on_close callback: ") + e.what());
            }
        }
    }

    asio::steady_timer& timer() { return wake_; }

private:
    void wake() {
        asio::post(strand_, [self = shared_from_this()] { self->wake_.cancel(); });
    }

    asio::any_io_executor strand_;
    asio::steady_timer wake_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;
    std::size_t queued_ = 0;   // bytes in queue_
    std::size_t writing_ = 0;  // bytes of the batch take() handed out last
    bool closed_ = false;
    bool finished_ = false;
    std::function<void()> callback_;
};

}  // namespace

std::string http_request_in::header(std::string_view name) const { return detail::find_header(headers, name); }

std::string_view http_request_in::path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
}

namespace detail {

struct http_server_state : std::enable_shared_from_this<http_server_state> {
    asio::any_io_executor ex;
    asio::strand<asio::any_io_executor> strand;
    tcp::acceptor acceptor;
    http_server_options options;
    http_handler handler;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<std::uint64_t> accepted{0};
    connection_set<std::function<void()>> connections;  // each one's closer

    http_server_state(asio::any_io_executor e, http_server_options o, http_handler h)
        : ex(std::move(e)),
          strand(asio::make_strand(ex)),
          acceptor(strand),
          options(std::move(o)),
          handler(std::move(h)) {}

    void stop() {
        auto to_close = connections.close();
        if (!to_close) return;
        asio::post(strand, [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor.close(ignored);
        });
        for (auto& closer : *to_close) closer();
    }

    template <class Stream>
    void begin_session(Stream stream);
};

}  // namespace detail

namespace {

template <class Stream>
struct session {
    Stream stream;
    beast::flat_buffer buffer;
    std::shared_ptr<detail::http_server_state> server;
    std::string remote;
    std::uint64_t id = 0;

    session(Stream s, std::shared_ptr<detail::http_server_state> srv, std::string r)
        : stream(std::move(s)), server(std::move(srv)), remote(std::move(r)) {}

    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
};

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

template <class Stream>
asio::awaitable<void> drain_after_reject(std::shared_ptr<session<Stream>> s) {
    if constexpr (!is_tls<Stream>) {
        boost::system::error_code ignored;
        s->tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    s->tcp().expires_after(drain_timeout);
    std::array<char, 16384> scratch;
    std::size_t total = 0;
    while (total < drain_limit) {
        auto [ec, n] = co_await s->stream.async_read_some(asio::buffer(scratch), nothrow);
        if (ec) break;
        total += n;
    }
}

template <class Stream>
asio::awaitable<void> stream_events(std::shared_ptr<session<Stream>> s, unsigned version,
                                    http_response_out out) {
    http::response<http::empty_body> head{http::status::ok, version};
    head.result(static_cast<unsigned>(out.status));
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    for (const auto& [name, value] : out.headers) head.set(name, value);
    // No length and no chunking: the event stream ends when the connection does.
    head.keep_alive(false);
    s->tcp().expires_after(write_timeout);
    auto [head_ec, head_n] = co_await http::async_write(s->stream, head, nothrow);
    (void)head_n;
    auto sink = std::make_shared<sse_sink>(s->tcp().get_executor());
    if (head_ec) {
        sink->finish();
        co_return;
    }
    try {
        out.on_stream(sink);
    } catch (const std::exception& e) {
        core::log_error(std::string("sse on_stream callback: ") + e.what());
        sink->close();
    }
    // The client sends nothing more; a read that completes means it went away. It runs
    // beside the writes below (one read and one write in flight is allowed).
    s->tcp().expires_never();
    asio::co_spawn(
        s->tcp().get_executor(),
        [s, sink]() -> asio::awaitable<void> {
            std::array<char, 512> scratch;
            for (;;) {
                auto [ec, n] = co_await s->stream.async_read_some(asio::buffer(scratch), nothrow);
                (void)n;
                if (ec) break;
            }
            sink->close();
        },
        detail::log_completion{"sse reader"});
    for (;;) {
        auto batch = sink->take();
        if (batch.empty()) {
            if (!sink->is_open()) break;
            sink->timer().expires_after(sse_heartbeat);
            auto [wait_ec] = co_await sink->timer().async_wait(nothrow);
            if (wait_ec) continue;  // woken by send() or close()
            batch = ":\n\n";
        }
        s->tcp().expires_after(write_timeout);
        auto [ec, n] = co_await asio::async_write(s->stream, asio::buffer(batch), nothrow);
        (void)n;
        if (ec) break;
    }
    sink->finish();
    s->tcp().close();
}

template <class Stream>
asio::awaitable<void> run_session(std::shared_ptr<session<Stream>> s) {
    auto& server = *s->server;
    if constexpr (is_tls<Stream>) {
        s->tcp().expires_after(tls_handshake_timeout);
        auto [ec] = co_await s->stream.async_handshake(asio::ssl::stream_base::server, nothrow);
        if (ec) {
            server.connections.remove(s->id);
            co_return;
        }
    }
    bool graceful = true;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(server.options.body_limit);
        s->tcp().expires_after(server.options.idle_timeout);
        auto [read_ec, read_n] = co_await http::async_read(s->stream, s->buffer, parser, nothrow);
        (void)read_n;
        if (read_ec == http::error::body_limit) {
            http::response<http::string_body> res{http::status::payload_too_large, parser.get().version()};
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            res.body() = "request body too large\n";
            res.keep_alive(false);
            res.prepare_payload();
            s->tcp().expires_after(write_timeout);
            auto [ec, n] = co_await http::async_write(s->stream, res, nothrow);
            (void)n;
            if (!ec) co_await drain_after_reject(s);
            graceful = false;
            break;
        }
        if (read_ec) {
            if (read_ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                read_ec != http::error::end_of_stream) {
                // A malformed request: say so once, then close.
                http::response<http::string_body> res{http::status::bad_request, 11};
                res.set(http::field::content_type, "text/plain; charset=utf-8");
                res.body() = "bad request: " + read_ec.message() + "\n";
                res.keep_alive(false);
                res.prepare_payload();
                s->tcp().expires_after(write_timeout);
                co_await http::async_write(s->stream, res, nothrow);
            }
            graceful = read_ec == http::error::end_of_stream;
            break;
        }
        auto request = parser.release();
        http_request_in in;
        in.method = std::string(request.method_string());
        in.target = std::string(request.target());
        for (const auto& field : request)
            in.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        in.body = std::move(request.body());
        in.remote_address = s->remote;

        http_response_out out;
        try {
            out = co_await server.handler(in);
        } catch (const std::exception& e) {
            core::log_error("http handler for " + in.method + " " + in.target + ": " + e.what());
            out = http_response_out{};
            out.status = 500;
            out.body = "internal error\n";
        }
        if (out.on_stream) {
            co_await stream_events(s, request.version(), std::move(out));
            server.connections.remove(s->id);
            co_return;
        }
        const bool keep_alive = request.keep_alive();
        http::response<http::string_body> res{http::status::ok, request.version()};
        res.result(static_cast<unsigned>(out.status));
        res.set(http::field::content_type, out.content_type);
        for (const auto& [name, value] : out.headers) res.set(name, value);
        res.body() = std::move(out.body);
        res.keep_alive(keep_alive);
        res.prepare_payload();
        if (request.method() == http::verb::head) res.body().clear();
        s->tcp().expires_after(write_timeout);
        auto [write_ec, write_n] = co_await http::async_write(s->stream, res, nothrow);
        (void)write_n;
        if (write_ec) {
            graceful = false;
            break;
        }
        if (!keep_alive) break;
    }
    if (graceful) {
        if constexpr (is_tls<Stream>) {
            s->tcp().expires_after(std::chrono::seconds(5));
            co_await s->stream.async_shutdown(nothrow);
        } else {
            boost::system::error_code ignored;
            s->tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }
    s->tcp().close();
    server.connections.remove(s->id);
}

}  // namespace

template <class Stream>
void detail::http_server_state::begin_session(Stream stream) {
    accepted.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code remote_ec;
    auto remote = beast::get_lowest_layer(stream).socket().remote_endpoint(remote_ec).address().to_string();
    auto s = std::make_shared<session<Stream>>(std::move(stream), shared_from_this(), std::move(remote));
    std::weak_ptr<session<Stream>> weak = s;
    s->id = connections.add([weak] {
        if (auto live = weak.lock())
            asio::post(live->tcp().get_executor(), [live] { live->tcp().close(); });
    });
    if (s->id == 0) return;  // stopped meanwhile; the stream closes with s
    asio::co_spawn(s->tcp().get_executor(), run_session(s), detail::log_completion{"http session"});
}

http_server::http_server(asio::any_io_executor ex, http_server_options options, http_handler handler)
    : impl_(std::make_shared<detail::http_server_state>(std::move(ex), std::move(options), std::move(handler))) {}

http_server::~http_server() { stop(); }

boost::system::error_code http_server::start() {
    boost::system::error_code ec;
    auto& s = *impl_;
    auto where = parse_host_port(s.options.listen);
    if (!where) return asio::error::invalid_argument;
    if (!s.options.cert_file.empty() || !s.options.key_file.empty()) {
        s.ssl_ctx = detail::make_server_context(s.options.cert_file, s.options.key_file, ec);
        if (ec) return ec;
    }
    tcp::endpoint endpoint;
    auto address = asio::ip::make_address(where->host, ec);
    if (ec) {
        // A host name ("localhost"): resolved once, at startup, so blocking is fine here.
        tcp::resolver resolver(s.ex);
        auto results = resolver.resolve(where->host, std::to_string(where->port), ec);
        if (ec) return ec;
        if (results.empty()) return asio::error::host_not_found;
        endpoint = results.begin()->endpoint();
    } else {
        endpoint = tcp::endpoint(address, where->port);
    }
    s.bound_port = detail::listen_on(s.acceptor, endpoint, ec);
    if (ec) return ec;
    asio::co_spawn(s.strand,
                   detail::accept_connections(s.acceptor, s.ex, s.ssl_ctx, "http server",
                                              [self = impl_](auto stream) { self->begin_session(std::move(stream)); }),
                   detail::log_completion{"http accept loop"});
    return {};
}

std::uint16_t http_server::port() const { return impl_->bound_port.load(); }

void http_server::stop() { impl_->stop(); }

std::uint64_t http_server::connections_accepted() const { return impl_->accepted.load(); }

std::size_t http_server::connections_open() const { return impl_->connections.size(); }

}  // namespace crisisd::net
