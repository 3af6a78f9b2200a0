#pragma once
// HTTP ingest: `POST /api/v1/mentions` with an NDJSON body (one frame per line) on its own
// listener. Needs `Authorization: Bearer <token>` when a token is configured; bodies over
// max_body_bytes get 413 before any line is processed. Each line goes to the line handler,
// which answers "" when it took the line or the reason it did not; the reply is 202 with
// {"accepted":N,"rejected":M,"reasons":{"missing_id":1,…},"errors":[{"line":3,"reason":…},…]}
// (errors lists the first 100, 1-based line numbers). A token proves who may post, not who wrote:
// the lines' authors and any "source" field stay claims (see ingest/settings.hpp), and a line
// over the source's max_rate is answered "rate_limited".
//
// Thread-safety: the handler runs on the connection's strand of the given executor (with a
// one-thread io_context, the daemon's thread). start()/stop() from that thread or before it runs.
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/source.hpp"

namespace crisisd::ingest {

struct http_source_settings {
    std::string name;
    std::string listen = "127.0.0.1:9465";
    std::string token;                        // empty: no authentication (config allows it on loopback only)
    std::size_t max_body_bytes = 8 << 20;     // whole request
    std::size_t max_line_bytes = 1 << 20;     // longer lines are rejected as "oversized"
};

class http_source {
public:
    using line_handler = std::function<std::string_view(std::string_view line)>;

    http_source(boost::asio::any_io_executor ex, http_source_settings settings, line_handler on_line,
                source_events& events);
    ~http_source();  // stop()
    http_source(const http_source&) = delete;
    http_source& operator=(const http_source&) = delete;

    // Binds the listener; "" or the error.
    std::string start();
    void stop();
    std::uint16_t port() const;  // the bound port (useful with port 0)

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
