#pragma once
// One long-lived HTTP/1.1 GET whose response body is read as it arrives (X's filtered stream,
// any chunked or close-delimited stream): connect (http:// or https:// with certificate and
// host-name verification), send the request, read the status and headers, then hand out the
// body in pieces. A read that sees no byte for `stall_timeout` fails with "stalled", so a
// connection that died silently is noticed by its missing keep-alives. Not a pooled client:
// one object is one connection, closed when destroyed.
//
// Lives on one executor (a strand); not thread-safe. close() from that executor cancels a
// pending read, which then returns "closed".
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_client.hpp"

namespace crisisd::net {

struct http_stream_options {
    std::string url;  // http://… or https://…
    std::vector<std::pair<std::string, std::string>> headers;
    tls_options tls;
    std::chrono::milliseconds connect_timeout{10000};  // resolve, connect, TLS, request, headers
    std::chrono::milliseconds stall_timeout{30000};    // most time between two bytes of the body
    std::size_t max_error_body = 64 * 1024;            // read_body() keeps at most this much
};

class http_stream {
public:
    http_stream(boost::asio::any_io_executor ex, http_stream_options options);
    ~http_stream();
    http_stream(const http_stream&) = delete;
    http_stream& operator=(const http_stream&) = delete;

    // Connects, sends the GET and reads the response head. "" once a response arrived (of any
    // status: see status()), else why not ("timeout", "connection refused", "tls: …").
    boost::asio::awaitable<std::string> open();
    int status() const;
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent

    // The next piece of the body, appended to `out`. "" with at least one byte appended;
    // otherwise why the body ended: "end of stream" (the server finished it), "stalled",
    // "closed" (close() was called), or a transport error.
    boost::asio::awaitable<std::string> read_some(std::string& out);
    // The rest of a (short) body, at most max_error_body bytes, for an error response.
    boost::asio::awaitable<std::string> read_body();

    void close();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::net
