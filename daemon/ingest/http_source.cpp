#include "ingest/http_source.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "net/http_server.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_listed_errors = 100;
// How long a body is worked on before the event loop gets a turn: short enough that /healthz
// and pages wait at most this (plus one group commit), long enough that a slice's commit is
// shared by many lines.
constexpr auto slice_budget = std::chrono::milliseconds(10);
constexpr std::size_t lines_between_clock_reads = 16;

// Compares without an early exit, so response timing does not reveal how much of a guessed
// token was right.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
    return diff == 0 && !b.empty();
}

net::http_response_out error(int status, std::string_view message) {
    net::http_response_out r;
    r.status = status;
    r.content_type = "application/json";
    core::json_writer w(r.body);
    w.begin_object().member("error", message).end_object();
    return r;
}

// Where a request is refused whatever its body: wrong path, method or token. Checked on the
// headers, before any body is read, and again for requests without one.
std::optional<net::http_response_out> refusal(const http_source_settings& settings, const net::http_request_in& req) {
    if (req.path() != "/api/v1/mentions") return error(404, "not found; POST NDJSON to /api/v1/mentions");
    if (req.method != "POST") {
        auto r = error(405, "use POST");
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (!settings.token.empty()) {
        auto auth = req.header("Authorization");
        constexpr std::string_view bearer = "Bearer ";
        if (auth.rfind(bearer, 0) != 0 || !same_secret(std::string_view(auth).substr(bearer.size()), settings.token)) {
            auto r = error(401, "missing or wrong bearer token");
            r.headers.emplace_back("WWW-Authenticate", "Bearer");
            return r;
        }
    }
    return std::nullopt;
}

// Listening sockets of HTTP sources by configured address: the running ones, and those a stop()
// left for a source started next on the same address. A parked socket not taken by the end of
// the handler that stopped its source (a reload) is closed. The daemon's thread uses it; the
// mutex is for tests that start and stop sources from another thread than the io thread's.
struct listener_registry {
    std::mutex mutex;  // guards the fields below
    std::map<std::string, int, std::less<>> running;  // listen → how many sources serve it (0 or 1)
    std::map<std::string, int, std::less<>> parked;   // listen → descriptor
};
listener_registry& listeners() {
    static listener_registry registry;
    return registry;
}

}  // namespace

http_source_settings http_settings_of(const source_settings& s) {
    http_source_settings hs;
    hs.name = s.name;
    hs.listen = s.listen;
    hs.token = s.token;
    hs.max_body_bytes = s.max_body_bytes;
    hs.max_line_bytes = s.max_message_bytes;
    hs.behind_proxy = s.behind_proxy;
    return hs;
}

bool http_update_in_place(const source_settings& from, const source_settings& to) {
    if (from.type != "http" || to.type != "http" || from.listen != to.listen) return false;
    auto a = from;
    a.token = to.token;
    a.max_body_bytes = to.max_body_bytes;
    a.behind_proxy = to.behind_proxy;
    return a == to;
}

struct http_source::impl {
    asio::any_io_executor ex;
    // Replaced whole by update(); a request holds the one it started with.
    std::shared_ptr<const http_source_settings> settings;
    line_handler on_line;
    source_events& events;
    flow_control* flow = nullptr;
    std::unique_ptr<net::http_server> server;
    bool serving = false;  // counted in listeners().running

    impl(asio::any_io_executor e, http_source_settings s, line_handler h, source_events& ev)
        : ex(std::move(e)), settings(std::make_shared<const http_source_settings>(std::move(s))), on_line(std::move(h)), events(ev) {}

    net::http_server_options server_options() const {
        net::http_server_options o;
        o.listen = settings->listen;
        o.body_limit = settings->max_body_bytes;
        o.max_connections = settings->max_connections;
        o.max_connections_per_address = settings->behind_proxy ? 0 : settings->max_connections_per_address;
        o.reserve_descriptors = settings->reserve_descriptors;
        o.check_head = [current = settings](const net::http_request_in& head) { return refusal(*current, head); };
        return o;
    }

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& req) {
        const auto config = settings;
        if (auto refused = refusal(*config, req)) co_return std::move(*refused);
        std::uint64_t accepted = 0, rejected = 0;
        std::map<std::string, std::uint64_t, std::less<>> reasons;
        std::vector<std::pair<std::uint64_t, std::string>> errors;
        std::string_view body = req.body;
        std::uint64_t line_no = 0;
        auto slice_started = std::chrono::steady_clock::now();
        std::size_t since_clock_read = 0;
        while (!body.empty()) {
            if (++since_clock_read == lines_between_clock_reads) {
                since_clock_read = 0;
                const auto now = std::chrono::steady_clock::now();
                if (now - slice_started >= slice_budget) {
                    // Let the loop run what waited (health checks, deliveries, the commit of
                    // this slice's steps) before the next slice. `req` outlives this: the
                    // server keeps it until the handler's answer is written.
                    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                    slice_started = std::chrono::steady_clock::now();
                }
            }
            auto end = body.find('\n');
            auto line = body.substr(0, end);
            body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
            ++line_no;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
            // The sender waits for its answer, and the loop serves everything else meanwhile.
            while (flow != nullptr && !flow->has_room()) {
                co_await flow->wait_for_room();
                slice_started = std::chrono::steady_clock::now();
            }
            std::string_view reason;
            if (line.size() > config->max_line_bytes) {
                reason = "oversized";
                events.on_frame_rejected(reason);
            } else {
                reason = on_line(line);
            }
            if (reason.empty()) {
                ++accepted;
                continue;
            }
            ++rejected;
            auto it = reasons.find(reason);
            if (it == reasons.end()) it = reasons.emplace(std::string(reason), 0).first;
            ++it->second;
            if (errors.size() < max_listed_errors) errors.emplace_back(line_no, std::string(reason));
        }
        net::http_response_out r;
        r.status = 202;
        r.content_type = "application/json";
        core::json_writer w(r.body);
        w.begin_object().member("accepted", accepted).member("rejected", rejected);
        w.key("reasons").begin_object();
        for (const auto& [name, n] : reasons) w.member(name, n);
        w.end_object();
        w.key("errors").begin_array();
        for (const auto& [n, why] : errors) w.begin_object().member("line", n).member("reason", why).end_object();
        w.end_array();
        w.end_object();
        co_return r;
    }
};

http_source::http_source(asio::any_io_executor ex, http_source_settings settings, line_handler on_line,
                         source_events& events)
    : impl_(std::make_unique<impl>(ex, std::move(settings), std::move(on_line), events)) {
    auto* state = impl_.get();
    impl_->server = std::make_unique<net::http_server>(
        std::move(ex), impl_->server_options(),
        [state](const net::http_request_in& req) -> asio::awaitable<net::http_response_out> {
            return state->handle(req);
        });
}

http_source::~http_source() { stop(); }

void http_source::set_flow_control(flow_control* flow) { impl_->flow = flow; }

std::string http_source::start() {
    auto& s = *impl_;
    auto& registry = listeners();
    std::lock_guard lock(registry.mutex);
    const auto& listen = s.settings->listen;
    boost::system::error_code ec;
    if (auto parked = registry.parked.find(listen); parked != registry.parked.end()) {
        const int fd = parked->second;
        registry.parked.erase(parked);
        ec = s.server->start_on(fd);
        if (ec) ::close(fd);
    } else {
        ec = s.server->start();
    }
    if (ec) return "ingest listener " + listen + ": " + ec.message();
    s.serving = true;
    ++registry.running[listen];
    core::log_info("source " + s.settings->name + ": HTTP ingest on " + listen + " (port " +
                   std::to_string(s.server->port()) + ")");
    s.events.on_connected(true);
    return "";
}

void http_source::stop() {
    auto& s = *impl_;
    if (!s.server) return;
    if (!s.serving) {
        s.server->stop();
        return;
    }
    s.serving = false;
    auto& registry = listeners();
    std::lock_guard lock(registry.mutex);
    const auto listen = s.settings->listen;
    if (auto it = registry.running.find(listen); it != registry.running.end() && --it->second <= 0)
        registry.running.erase(it);
    // Like the other sources, a stopped one reports no disconnect: it is gone (a reload removes
    // its gauge) or replaced by one that reports itself.
    const int fd = s.server->stop_keeping_listener();
    if (fd < 0) return;
    // Parked for a source started on the same address in this same handler (a reload stops,
    // then starts); closed afterwards if none took it, so the address is not held for nothing.
    // The closing is the posted handler's destructor, so it also happens when the io_context
    // goes away without running it.
    if (auto old = registry.parked.find(listen); old != registry.parked.end()) ::close(old->second);
    registry.parked[listen] = fd;
    struct close_if_unclaimed {
        std::string listen;
        int fd;
        close_if_unclaimed(std::string l, int f) : listen(std::move(l)), fd(f) {}
        close_if_unclaimed(const close_if_unclaimed&) = delete;
        close_if_unclaimed& operator=(const close_if_unclaimed&) = delete;
        ~close_if_unclaimed() {
            auto& r = listeners();
            std::lock_guard later(r.mutex);
            if (auto it = r.parked.find(listen); it != r.parked.end() && it->second == fd) {
                ::close(fd);
                r.parked.erase(it);
            }
        }
    };
    asio::post(s.ex, [closer = std::make_shared<close_if_unclaimed>(listen, fd)] {});
}

std::uint16_t http_source::port() const { return impl_->server->port(); }

std::string http_source::update(const http_source_settings& settings) {
    auto& s = *impl_;
    if (settings.listen != s.settings->listen)
        return "listen address changed (" + s.settings->listen + " → " + settings.listen + ")";
    s.settings = std::make_shared<const http_source_settings>(settings);
    s.server->update(s.server_options());
    return "";
}

std::string http_source::check_listen(asio::any_io_executor ex, const std::string& listen) {
    auto& registry = listeners();
    {
        std::lock_guard lock(registry.mutex);
        if (registry.running.contains(listen) || registry.parked.contains(listen)) return "";
    }
    if (auto ec = net::check_listen_address(std::move(ex), listen))
        return "ingest listener " + listen + ": " + ec.message();
    return "";
}

}  // namespace crisisd::ingest
