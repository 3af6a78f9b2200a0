#pragma once
// A small HTTP/1.1 server for the admin API, the console, HTTP ingest and test receivers.
// Handlers see plain structs (no Beast types), return their answer as an awaitable, and may
// turn the answer into a server-sent-events stream. Keep-alive, a request body limit (413),
// optional TLS, a strand per connection.
//
// What a flood of clients can take is bounded: connections per listener and per peer address
// (at a cap the longest-idle connection makes room for the new one),
// the time to send a request's headers, the descriptors left to the rest of the process, and
// the request bodies held in memory by all servers together. A request's headers can be judged
// (check_head, for a token) before its body is read, so an unauthenticated upload costs no memory.
// Refusals before a request is read are a canned 503 and a close; they and accept errors are
// logged at a bounded rate.
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
#include <optional>
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

// Judges a request by its headers, before the body is read (for requests that have one).
// nullopt lets it through; a response is sent instead of reading the body, which is then
// discarded unread and the connection closed. Runs on the connection's strand; must not block.
using http_head_check = std::function<std::optional<http_response_out>(const http_request_in& head)>;

struct http_server_options {
    std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
    std::size_t body_limit = 1 << 20;    // larger request bodies get 413
    std::chrono::milliseconds idle_timeout{60000};  // a keep-alive connection idle this long is closed
    // From a connection's first byte (or its accept) to the end of a request's headers: a client
    // that trickles its headers (slowloris) is cut off after this.
    std::chrono::milliseconds header_timeout{10000};
    // Connections open at once, on this listener and from one peer address; 0: no cap. At a cap
    // an idle connection (waiting for a request to begin) is closed to make room: one that never
    // sent a request before a kept-alive one, then the one idle longest; when none is idle, the
    // new connection is answered 503 and closed at once. A peer connecting from
    // the connection's own local address (this host: loopback clients, a proxy on the same
    // machine) shares that address with every local client, so only the listener cap counts it.
    std::size_t max_connections = 512;
    std::size_t max_connections_per_address = 64;
    // Descriptors (of RLIMIT_NOFILE) this listener leaves to the rest of the process: a new
    // connection that would leave fewer free is refused like one over a cap. Give a listener
    // strangers can reach a larger reserve than the admin listener, so channels (pages) and the
    // admin API still get descriptors when ingest is flooded.
    std::size_t reserve_descriptors = 0;
    http_head_check check_head;  // optional
    std::string cert_file;  // PEM chain; with key_file, the server speaks HTTPS
    std::string key_file;
};

// The request bodies all servers of the process may hold at once (bytes; default 64 MiB). A
// request whose declared length (or, when chunked, whose body_limit) does not fit gets 503 with
// Retry-After instead of being read. Thread-safe; set it before servers start.
void set_request_bytes_in_flight_limit(std::size_t bytes);
std::size_t request_bytes_in_flight();

// Whether `listen` (host:port) could be bound now: binds a throwaway socket and closes it.
// For checking a new listener's address before committing to it (a reload).
boost::system::error_code check_listen_address(boost::asio::any_io_executor ex, const std::string& listen);

// Raises the soft RLIMIT_NOFILE to the hard one (listeners reserve descriptors out of it).
// Returns the soft limit now in force, or 0 when it could not be read. Call once at start.
std::size_t raise_open_files_limit();

class http_server {
public:
    http_server(boost::asio::any_io_executor ex, http_server_options options, http_handler handler);
    ~http_server();  // stop()
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and starts accepting. Returns the bind or TLS setup error; nothing is thrown.
    boost::system::error_code start();
    // Starts accepting on `listening_fd` (a socket already bound and listening, as
    // stop_keeping_listener() handed it out) instead of binding; the server owns it from now on.
    boost::system::error_code start_on(int listening_fd);
    std::uint16_t port() const;  // the bound port (the chosen one for port 0)

    // Closes the listener and every connection (including SSE streams). Idempotent. The
    // closing runs on their strands: it has happened shortly after stop() returns, not before.
    void stop();
    // Like stop(), but the listening socket stays open and bound, with the connections not yet
    // accepted waiting in its queue: its descriptor is returned (-1 when not listening) for
    // another server's start_on(), so a restarted listener never lets its address go. Call it
    // from the thread that runs the executor, with no other thread running it (the daemon's).
    int stop_keeping_listener();

    std::uint64_t connections_accepted() const;  // since start
    std::size_t connections_open() const;
    std::uint64_t connections_refused() const;  // at a cap or the descriptor reserve, since start
    std::uint64_t connections_evicted() const;  // idle ones closed to make room at a cap, since start

    // Swaps the settings that apply to new requests and connections (token checks, limits,
    // timeouts) without closing the listener. `listen`, cert_file and key_file are ignored:
    // a different address needs a new server. Thread-safe.
    void update(http_server_options options);

private:
    std::shared_ptr<detail::http_server_state> impl_;
};

}  // namespace crisisd::net
