#pragma once
// HTTP ingest: `POST /api/v1/mentions` with an NDJSON body (one frame per line) on its own
// listener. Needs `Authorization: Bearer <token>` when a token is configured, checked on the
// headers before the body is read (an unauthenticated upload gets 401 and is discarded unread);
// bodies over max_body_bytes get 413 before any line is processed. Each line goes to the line
// handler, which answers "" when it took the line or the reason it did not; the reply is 202 with
// {"accepted":N,"rejected":M,"reasons":{"missing_id":1,…},"errors":[{"line":3,"reason":…},…]}
// (errors lists the first 100, 1-based line numbers). A token proves who may post, not who wrote:
// the lines' authors and any "source" field stay claims (see ingest/settings.hpp), and a line
// over the source's max_rate is answered "rate_limited".
//
// A body is handled in slices of a few milliseconds that yield to the event loop in between,
// so a 1,000-line storm does not hold up /healthz, pages or other sources. The listener caps its
// connections (in all, per peer address) and leaves descriptors to the rest of the process, so
// idle connections cannot starve the channels or the admin API (see net/http_server.hpp).
//
// A reload keeps the listener: update() swaps token and limits in place, and a source stopped
// and started again on the same address hands its listening socket over (nothing is refused in
// between, and "Address already in use" cannot happen).
//
// Thread-safety: the handler runs on the connection's strand of the given executor (with a
// one-thread io_context, the daemon's thread). start(), stop() and update() from that thread, or
// before it runs.
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/settings.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

struct http_source_settings {
    std::string name;
    std::string listen = "127.0.0.1:9465";
    std::string token;                        // empty: no authentication (config allows it on loopback only)
    std::size_t max_body_bytes = 8 << 20;     // whole request
    std::size_t max_line_bytes = 1 << 20;     // longer lines are rejected as "oversized"
    // Connections at once, in all and from one address (behind a proxy every client shares
    // the proxy's address, so only the listener's cap applies there).
    std::size_t max_connections = 256;
    std::size_t max_connections_per_address = 32;
    bool behind_proxy = false;
    // Descriptors left to channels and the admin API: new connections are refused before then.
    std::size_t reserve_descriptors = 64;
};

// What a source's configuration means for its listener.
http_source_settings http_settings_of(const source_settings& s);

// True when `from` and `to` are the same HTTP source on the same address and differ at most in
// what http_source::update() swaps in place (token, body limit, behind_proxy).
bool http_update_in_place(const source_settings& from, const source_settings& to);

class http_source {
public:
    using line_handler = std::function<std::string_view(std::string_view line)>;

    http_source(boost::asio::any_io_executor ex, http_source_settings settings, line_handler on_line,
                source_events& events);
    ~http_source();  // stop()
    http_source(const http_source&) = delete;
    http_source& operator=(const http_source&) = delete;

    // Binds the listener (or takes over the one a stopped source on the same address left);
    // "" or the error.
    std::string start();
    void stop();
    std::uint16_t port() const;  // the bound port (useful with port 0)
    // Back-pressure from what takes the lines (a cluster front whose stream is behind): a request
    // waits between lines while it has no room, and answers when all are taken. Null: none.
    void set_flow_control(flow_control* flow);

    // New token and limits for requests from now on (a request under way finishes with the
    // ones it started with); the listener and its connections stay. "" or why not (a
    // different address needs a new source).
    std::string update(const http_source_settings& settings);

    // "" when `listen` can be served: it is the address of a running HTTP source (which a
    // restart would hand over), or it can be bound now. For checking a reload before applying it.
    static std::string check_listen(boost::asio::any_io_executor ex, const std::string& listen);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
