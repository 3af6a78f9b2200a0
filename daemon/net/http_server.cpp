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
#include <sys/resource.h>

#include <atomic>
#include <map>
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

// Request bodies held by every server of the process (see set_request_bytes_in_flight_limit).
std::atomic<std::size_t> bytes_in_flight_limit{64u << 20};
std::atomic<std::size_t> bytes_in_flight{0};
// Connections open on every server of the process: with the lowest free descriptor number, it
// tells how close the process is to RLIMIT_NOFILE without listing /proc/self/fd per accept.
std::atomic<std::size_t> server_connections{0};
std::atomic<std::size_t> open_files_limit{0};

std::size_t current_open_files_limit() {
    auto cached = open_files_limit.load(std::memory_order_relaxed);
    if (cached != 0) return cached;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    cached = rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(rl.rlim_cur);
    open_files_limit.store(cached, std::memory_order_relaxed);
    return cached;
}

// A share of the process-wide body budget, returned when the request is done with its body.
class body_reservation {
public:
    body_reservation() = default;
    explicit body_reservation(std::size_t bytes) : bytes_(bytes) {}
    body_reservation(body_reservation&& o) noexcept : bytes_(std::exchange(o.bytes_, 0)) {}
    body_reservation& operator=(body_reservation&& o) noexcept {
        release();
        bytes_ = std::exchange(o.bytes_, 0);
        return *this;
    }
    ~body_reservation() { release(); }

    static std::optional<body_reservation> take(std::size_t bytes) {
        if (bytes == 0) return body_reservation{};
        const auto limit = bytes_in_flight_limit.load(std::memory_order_relaxed);
        auto now = bytes_in_flight.load(std::memory_order_relaxed);
        do {
            if (now + bytes > limit) return std::nullopt;
        } while (!bytes_in_flight.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
        return body_reservation{bytes};
    }

private:
    void release() {
        if (bytes_ != 0) bytes_in_flight.fetch_sub(bytes_, std::memory_order_relaxed);
        bytes_ = 0;
    }
    std::size_t bytes_ = 0;
};

// Sent, without waiting, to a connection refused before any of it was read (over a cap).
constexpr std::string_view refused_response =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
    "Connection: close\r\nContent-Length: 24\r\n\r\ntoo many connections now\n";

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
    http_handler handler;
    std::shared_ptr<asio::ssl::context> ssl_ctx;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> refused{0};
    connection_set<std::function<void()>> connections;  // each one's closer
    log_throttle refusals;  // on the accept strand
    log_throttle evictions;  // on the accept strand

    http_server_state(asio::any_io_executor e, http_server_options o, http_handler h)
        : ex(std::move(e)),
          strand(asio::make_strand(ex)),
          acceptor(strand),
          handler(std::move(h)),
          options_(std::make_shared<const http_server_options>(std::move(o))) {}

    // The settings in force; a request keeps the ones it started with, update() swaps them.
    std::shared_ptr<const http_server_options> options() const {
        std::lock_guard lock(mutex_);
        return options_;
    }
    void set_options(http_server_options o) {
        auto next = std::make_shared<const http_server_options>(std::move(o));
        std::lock_guard lock(mutex_);
        options_ = std::move(next);
    }

    // Counts a connection from `address` against the caps: its slot (never 0), or 0 (nothing
    // counted, `why` says which limit) when it cannot be let in. At a cap, the longest-idle
    // connection (one waiting for the first byte of a request, fresh or kept alive) that counts
    // against that cap makes room: its closer is put in `evict` for the caller to run once the
    // lock is let go. A connection in the middle of a request is never taken this way; its
    // headers are bounded by header_timeout. A peer whose address is the connection's own local
    // address is a process on this host (a monitor, systemd's health check, a reverse proxy on
    // the same machine): those all share one address, so the per-address cap does not count it.
    std::uint64_t admit(const std::string& address, bool same_host, int fd, const http_server_options& o,
                        std::string& why, std::function<void()>& evict) {
        if (o.reserve_descriptors > 0) {
            const auto limit = current_open_files_limit();
            // Linux hands out the lowest free number, so fd + 1 descriptors are open at least;
            // connections closed below it leave holes that the process-wide count still sees.
            const auto used = std::max(static_cast<std::size_t>(fd) + 1, server_connections.load() + 16);
            if (limit != 0 && used + o.reserve_descriptors > limit) {
                why = std::to_string(used) + " of " + std::to_string(limit) + " descriptors in use, " +
                      std::to_string(o.reserve_descriptors) + " kept for channels and the admin API";
                return 0;
            }
        }
        const bool per_address = o.max_connections_per_address > 0 && !same_host;
        std::lock_guard lock(mutex_);
        if (per_address && count_of(address) >= o.max_connections_per_address) {
            auto victim = longest_idle(&address);
            if (victim == slots_.end()) {
                why = "at its cap of " + std::to_string(o.max_connections_per_address) + " connections from " +
                      address + ", none of them idle";
                return 0;
            }
            evict = take(victim);
            evicted_.fetch_add(1, std::memory_order_relaxed);
        } else if (o.max_connections > 0 && slots_.size() >= o.max_connections) {
            auto victim = longest_idle(nullptr);
            if (victim == slots_.end()) {
                why = "at its cap of " + std::to_string(o.max_connections) + " connections, none of them idle";
                return 0;
            }
            evict = take(victim);
            evicted_.fetch_add(1, std::memory_order_relaxed);
        }
        const auto id = ++next_slot_;
        slots_.emplace(id, slot{address, per_address, std::nullopt, false, {}});
        if (per_address) ++per_address_[address];
        server_connections.fetch_add(1, std::memory_order_relaxed);
        return id;
    }
    // The connection's closer, once it has one (until then it cannot be evicted).
    void attach(std::uint64_t id, std::function<void()> closer) {
        std::lock_guard lock(mutex_);
        if (auto it = slots_.find(id); it != slots_.end()) it->second.close = std::move(closer);
    }
    // Whether the connection waits for the first byte of a request (and since when); `served`:
    // it has answered a request before.
    void set_idle(std::uint64_t id, bool idle, bool served) {
        std::lock_guard lock(mutex_);
        if (auto it = slots_.find(id); it != slots_.end()) {
            it->second.idle_since = idle ? std::optional(std::chrono::steady_clock::now()) : std::nullopt;
            it->second.served = it->second.served || served;
        }
    }
    // Gives the slot back; nothing when it was evicted (given back then).
    void release(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        if (auto it = slots_.find(id); it != slots_.end()) (void)take(it);
    }

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

    std::uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }

private:
    struct slot {
        std::string address;
        bool counted_per_address = false;
        std::optional<std::chrono::steady_clock::time_point> idle_since;
        bool served = false;
        std::function<void()> close;
    };
    using slot_iterator = std::map<std::uint64_t, slot>::iterator;

    std::size_t count_of(const std::string& address) const {
        auto it = per_address_.find(address);
        return it == per_address_.end() ? 0 : it->second;
    }
    // The idle connection (with a closer) to close for a new one: of `address` when given, of
    // any address otherwise. One that never got a request through goes before a kept-alive one
    // that did (a flood of connections then eats itself rather than a client's pool), and of
    // those the one idle longest. A linear walk: it runs only at a cap, and the caps are small.
    slot_iterator longest_idle(const std::string* address) {
        auto best = slots_.end();
        for (auto it = slots_.begin(); it != slots_.end(); ++it) {
            const auto& c = it->second;
            if (!c.idle_since || !c.close) continue;
            if (address && (!c.counted_per_address || c.address != *address)) continue;
            if (best == slots_.end()) {
                best = it;
                continue;
            }
            const auto& b = best->second;
            if (c.served != b.served ? !c.served : *c.idle_since < *b.idle_since) best = it;
        }
        return best;
    }
    // Removes a slot and its counts; returns its closer (for an eviction).
    std::function<void()> take(slot_iterator it) {
        auto& c = it->second;
        if (c.counted_per_address) {
            auto pa = per_address_.find(c.address);
            if (pa != per_address_.end() && --pa->second == 0) per_address_.erase(pa);
        }
        auto closer = std::move(c.close);
        slots_.erase(it);
        server_connections.fetch_sub(1, std::memory_order_relaxed);
        return closer;
    }

    mutable std::mutex mutex_;  // guards the fields below
    std::shared_ptr<const http_server_options> options_;
    std::uint64_t next_slot_ = 0;
    std::map<std::uint64_t, slot> slots_;  // the connections the caps count
    std::map<std::string, std::size_t, std::less<>> per_address_;
    std::atomic<std::uint64_t> evicted_{0};
};

}  // namespace detail

namespace {

template <class Stream>
struct session {
    Stream stream;
    beast::flat_buffer buffer;
    std::shared_ptr<detail::http_server_state> server;
    std::string remote;
    std::uint64_t slot;    // its place under the caps (http_server_state::admit)
    std::uint64_t id = 0;  // in the server's connection set

    session(Stream s, std::shared_ptr<detail::http_server_state> srv, std::string r, std::uint64_t sl)
        : stream(std::move(s)), server(std::move(srv)), remote(std::move(r)), slot(sl) {}
    // Admitted against the caps by begin_session; given back when the last reference goes.
    ~session() { server->release(slot); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

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

// Answers a request refused before its body was read (and so closes the connection): the
// body still on its way is read and discarded, so the client sees the answer, not a reset.
template <class Stream>
asio::awaitable<void> refuse_request(std::shared_ptr<session<Stream>> s, unsigned version, http_response_out out) {
    http::response<http::string_body> res{http::status::ok, version};
    res.result(static_cast<unsigned>(out.status));
    res.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res.set(name, value);
    res.body() = std::move(out.body);
    res.keep_alive(false);
    res.prepare_payload();
    s->tcp().expires_after(write_timeout);
    auto [ec, n] = co_await http::async_write(s->stream, res, nothrow);
    (void)n;
    if (!ec) co_await drain_after_reject(s);
}

// A read that failed: 413 for a body over the limit, 400 for a malformed request, nothing for a
// connection that went away or timed out. True when the client ended the connection cleanly.
template <class Stream>
asio::awaitable<bool> answer_read_error(std::shared_ptr<session<Stream>> s, unsigned version,
                                        boost::system::error_code read_ec) {
    if (read_ec == http::error::body_limit) {
        // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
        http_response_out too_large{413, "text/plain; charset=utf-8", {}, "request body too large\n", {}};
        co_await refuse_request(s, version, std::move(too_large));
        co_return false;
    }
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
    co_return read_ec == http::error::end_of_stream;
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
    bool first = true;
    // The first request's headers are due header_timeout after the accept, however the bytes
    // trickle in; later ones header_timeout after their first byte.
    const auto first_headers_due = std::chrono::steady_clock::now() + server.options()->header_timeout;
    for (;;) {
        const auto options = server.options();  // this request's; update() may swap them meanwhile
        http::request_parser<http::string_body> parser;
        parser.body_limit(options->body_limit);
        if (s->buffer.size() == 0) {
            // Waiting for a request to begin (a fresh connection, or a keep-alive one between
            // requests), the connection is idle: a cap may close it to let a new one in.
            if (first) s->tcp().expires_at(first_headers_due);
            else s->tcp().expires_after(options->idle_timeout);
            server.set_idle(s->slot, true, !first);
            auto [ec, n] = co_await s->stream.async_read_some(s->buffer.prepare(4096), nothrow);
            server.set_idle(s->slot, false, false);
            s->buffer.commit(n);
            if (ec) {
                graceful = ec == asio::error::eof;
                break;
            }
        }
        if (first) s->tcp().expires_at(first_headers_due);
        else s->tcp().expires_after(options->header_timeout);
        first = false;
        auto [head_ec, head_n] = co_await http::async_read_header(s->stream, s->buffer, parser, nothrow);
        (void)head_n;
        if (head_ec) {
            graceful = co_await answer_read_error(s, parser.get().version(), head_ec);
            break;
        }
        const auto& head = parser.get();
        http_request_in in;
        in.method = std::string(head.method_string());
        in.target = std::string(head.target());
        for (const auto& field : head)
            in.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        in.remote_address = s->remote;

        body_reservation reserved;
        if (!parser.is_done()) {
            // A body follows. It is judged by the headers first (a token), then must fit the
            // process's budget of bodies in memory, and only then is it read.
            std::optional<http_response_out> refusal;
            if (options->check_head) {
                try {
                    refusal = options->check_head(in);
                } catch (const std::exception& e) {
                    core::log_error("http head check for " + in.method + " " + in.target + ": " + e.what());
                    refusal = http_response_out{500, "text/plain; charset=utf-8", {}, "internal error\n", {}};
                }
            }
            if (!refusal) {
                const std::uint64_t declared = parser.content_length().value_or(options->body_limit);
                if (auto taken = body_reservation::take(static_cast<std::size_t>(declared))) {
                    reserved = std::move(*taken);
                } else {
                    refusal = http_response_out{503, "text/plain; charset=utf-8", {{"Retry-After", "1"}},
                                                "busy: too many request bodies in flight; try again\n", {}};
                }
            }
            if (refusal) {
                co_await refuse_request(s, head.version(), std::move(*refusal));
                graceful = false;
                break;
            }
            if (beast::iequals(head[http::field::expect], "100-continue")) {
                // The client waits for this before sending a large body (curl does, for a while).
                static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                s->tcp().expires_after(write_timeout);
                auto [ec, n] = co_await asio::async_write(s->stream, asio::buffer(go_on), nothrow);
                (void)n;
                if (ec) {
                    graceful = false;
                    break;
                }
            }
            s->tcp().expires_after(options->idle_timeout);
            auto [body_ec, body_n] = co_await http::async_read(s->stream, s->buffer, parser, nothrow);
            (void)body_n;
            if (body_ec) {
                graceful = co_await answer_read_error(s, parser.get().version(), body_ec);
                break;
            }
        }
        auto request = parser.release();
        in.body = std::move(request.body());

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
    auto& socket = beast::get_lowest_layer(stream).socket();
    boost::system::error_code remote_ec, local_ec;
    const auto peer = socket.remote_endpoint(remote_ec).address();
    const bool same_host = !remote_ec && socket.local_endpoint(local_ec).address() == peer && !local_ec;
    auto remote = peer.to_string();
    std::string why;
    std::function<void()> evict;
    const auto place = admit(remote, same_host, socket.native_handle(), *options(), why, evict);
    if (evict) {
        evictions.warn("http listener " + std::to_string(bound_port.load()) +
                       " closes idle connections to make room for new ones (at a connection cap)");
        evict();
    }
    if (place == 0) {
        // Refused before anything is read: a canned answer if the socket takes it at once (no
        // waiting on a client we cannot afford), then the descriptor is given back.
        refused.fetch_add(1, std::memory_order_relaxed);
        refusals.warn("http listener " + std::to_string(bound_port.load()) + " refuses connections: " + why);
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
            socket.write_some(asio::buffer(refused_response), ignored);
        socket.close(ignored);
        return;
    }
    auto s = std::make_shared<session<Stream>>(std::move(stream), shared_from_this(), std::move(remote), place);
    std::weak_ptr<session<Stream>> weak = s;
    auto closer = [weak] {
        if (auto live = weak.lock())
            asio::post(live->tcp().get_executor(), [live] { live->tcp().close(); });
    };
    s->id = connections.add(closer);
    if (s->id == 0) return;  // stopped meanwhile; the stream closes with s
    attach(place, closer);
    asio::co_spawn(s->tcp().get_executor(), run_session(s), detail::log_completion{"http session"});
}

http_server::http_server(asio::any_io_executor ex, http_server_options options, http_handler handler)
    : impl_(std::make_shared<detail::http_server_state>(std::move(ex), std::move(options), std::move(handler))) {}

http_server::~http_server() { stop(); }

namespace {

// host:port → an endpoint; a host name ("localhost") is resolved, blocking: only at start-up
// and reload.
tcp::endpoint resolve_listen(asio::any_io_executor ex, const std::string& listen, boost::system::error_code& ec) {
    auto where = parse_host_port(listen);
    if (!where) {
        ec = asio::error::invalid_argument;
        return {};
    }
    auto address = asio::ip::make_address(where->host, ec);
    if (!ec) return tcp::endpoint(address, where->port);
    tcp::resolver resolver(ex);
    auto results = resolver.resolve(where->host, std::to_string(where->port), ec);
    if (ec) return {};
    if (results.empty()) {
        ec = asio::error::host_not_found;
        return {};
    }
    ec = {};
    return results.begin()->endpoint();
}

}  // namespace

boost::system::error_code http_server::start() { return start_on(-1); }

boost::system::error_code http_server::start_on(int listening_fd) {
    boost::system::error_code ec;
    auto& s = *impl_;
    const auto options = s.options();
    if (!options->cert_file.empty() || !options->key_file.empty()) {
        s.ssl_ctx = detail::make_server_context(options->cert_file, options->key_file, ec);
        if (ec) return ec;
    }
    const auto endpoint = resolve_listen(s.ex, options->listen, ec);
    if (ec) return ec;
    if (listening_fd >= 0) {
        s.acceptor.assign(endpoint.protocol(), listening_fd, ec);
        if (ec) return ec;
        boost::system::error_code ignored;
        s.bound_port = s.acceptor.local_endpoint(ignored).port();
    } else {
        s.bound_port = detail::listen_on(s.acceptor, endpoint, ec);
        if (ec) return ec;
    }
    asio::co_spawn(s.strand,
                   detail::accept_connections(s.acceptor, s.ex, s.ssl_ctx, "http server",
                                              [self = impl_](auto stream) { self->begin_session(std::move(stream)); }),
                   detail::log_completion{"http accept loop"});
    return {};
}

int http_server::stop_keeping_listener() {
    auto& s = *impl_;
    int fd = -1;
    if (s.acceptor.is_open()) {
        // release() cancels the pending accept (the loop ends) and gives up the descriptor.
        boost::system::error_code ec;
        fd = s.acceptor.release(ec);
        if (ec) fd = -1;
    }
    s.stop();
    return fd;
}

boost::system::error_code check_listen_address(asio::any_io_executor ex, const std::string& listen) {
    boost::system::error_code ec;
    const auto endpoint = resolve_listen(ex, listen, ec);
    if (ec) return ec;
    tcp::acceptor probe(ex);
    detail::listen_on(probe, endpoint, ec);
    boost::system::error_code ignored;
    probe.close(ignored);
    return ec;
}

std::uint16_t http_server::port() const { return impl_->bound_port.load(); }

void http_server::stop() { impl_->stop(); }

std::uint64_t http_server::connections_accepted() const { return impl_->accepted.load(); }

std::size_t http_server::connections_open() const { return impl_->connections.size(); }

std::uint64_t http_server::connections_refused() const { return impl_->refused.load(); }

std::uint64_t http_server::connections_evicted() const { return impl_->evicted(); }

void http_server::update(http_server_options options) {
    auto current = impl_->options();
    options.listen = current->listen;
    options.cert_file = current->cert_file;
    options.key_file = current->key_file;
    impl_->set_options(std::move(options));
}

void set_request_bytes_in_flight_limit(std::size_t bytes) { bytes_in_flight_limit.store(bytes); }

std::size_t request_bytes_in_flight() { return bytes_in_flight.load(); }

std::size_t raise_open_files_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        // Under the systemd unit (LimitNOFILE sets both) there is nothing to raise, and its
        // seccomp filter refuses setrlimit anyway: keeping the soft limit is fine then.
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    open_files_limit.store(0);  // read again on next use
    return rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

}  // namespace crisisd::net
