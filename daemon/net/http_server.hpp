#pragma once
// A small HTTP/1.1 server for the admin API, the console, HTTP ingest and test receivers.
// Handlers see plain structs (no Beast types), return their answer as an awaitable, and may
// turn the answer into a server-sent-events stream. Keep-alive, a request body limit (413),
// optional TLS, a strand per connection.
//
// Thread-safety: start() before the executor runs (or on it); stop(), port(), and the counters
// may be called from any thread. The handler runs on the connection's strand; handlers of
// different connections may run concurrently when the io_context has several threads.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crisisd::net {

namespace detail {
struct http_server_state;
}

struct http_request_in {
    std::string method;  // "GET", "POST", …
    std::string target;  // path and query as sent: "/api/v1/mentions?x=1"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address;  // peer IP, for logs

    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
    std::string_view path() const;                     // target without the query
};

// A live server-sent-events response (text/event-stream). Owned jointly by the server
// connection and whoever pushes events; events pushed after the client left are dropped.
// All members are thread-safe.
class sse_stream {
public:
    virtual ~sse_stream() = default;
    // Queues one event ("event: <event>" when not empty, one "data:" line per line of data).
    // False when the stream is closed or its queue (1024 events) is full: a client that
    // cannot keep up loses events rather than growing memory.
    virtual bool send(std::string_view data, std::string_view event = {}) = 0;
    virtual bool is_open() const = 0;
    // Bytes sent but not yet taken by the socket: the queue and the write in progress. A
    // publisher that bounds each client by bytes reads this instead of counting events.
    virtual std::size_t queued_bytes() const = 0;
    // Ends the response and closes the connection.
    virtual void close() = 0;
    // Called once, on the connection's strand, when the client went away or close() was done.
    virtual void on_close(std::function<void()> callback) = 0;
};

struct http_response_out {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // When set, the response is a server-sent-events stream: status and headers are sent with
    // Content-Type text/event-stream (body and content_type are ignored), then this is called
    // once with the stream; the connection stays open until the client leaves or the stream
    // is closed. A comment line is sent every 15 s so dead clients are noticed.
    std::function<void(std::shared_ptr<sse_stream>)> on_stream;
};

using http_handler = std::function<boost::asio::awaitable<http_response_out>(const http_request_in&)>;

struct http_server_options {
    std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
    std::size_t body_limit = 1 << 20;    // larger request bodies get 413
    std::chrono::milliseconds idle_timeout{60000};  // a keep-alive connection idle this long is closed
    std::string cert_file;  // PEM chain; with key_file, the server speaks HTTPS
    std::string key_file;
};

class http_server {
public:
    http_server(boost::asio::any_io_executor ex, http_server_options options, http_handler handler);
    ~http_server();  // stop()
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and starts accepting. Returns the bind or TLS setup error; nothing is thrown.
    boost::system::error_code start();
    std::uint16_t port() const;  // the bound port (the chosen one for port 0)

    // Closes the listener and every connection (including SSE streams). Idempotent. The
    // closing runs on their strands: it has happened shortly after stop() returns, not before.
    void stop();

    std::uint64_t connections_accepted() const;  // since start
    std::size_t connections_open() const;

private:
    std::shared_ptr<detail::http_server_state> impl_;
};

}  // namespace crisisd::net
