#pragma once
// An HTTP/1.1 client for outbound deliveries (webhooks and the like): http:// and https://
// with certificate and host-name verification, a timeout per request, and keep-alive
// connections reused per host. Lives on one executor (strand); not thread-safe.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace crisisd::net {

struct http_request {
    std::string method = "POST";
    std::string url;  // http://host[:port]/path or https://…
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10000};
};

struct http_response {
    int status = 0;  // 0 when the request failed before a response (see error)
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;  // empty on a response; else "timeout", "connection refused", "tls: …"
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

struct tls_options {
    std::string ca_file;  // extra trust anchor (PEM); the system store is always used too
};

class http_client {
public:
    http_client(boost::asio::any_io_executor ex, tls_options tls = {});
    ~http_client();

    // Never throws for network or protocol errors: they come back in http_response::error.
    boost::asio::awaitable<http_response> send(http_request request);

    // Opens (and keeps) a connection to the host of url ahead of need, so the first real
    // request does not wait for TCP and TLS handshakes. Errors are ignored.
    boost::asio::awaitable<void> warm_up(std::string url);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::net
