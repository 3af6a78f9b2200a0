#pragma once
// Splitting the URLs and listen addresses crisisd connects to or binds. Plain functions, no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::net {

// http://, https://, ws:// and wss:// URLs. Userinfo and fragments are not supported (crisisd
// never needs them; tokens travel in headers).
struct url_parts {
    std::string scheme;  // lower case: http, https, ws, wss
    std::string host;    // without brackets for IPv6 literals
    std::uint16_t port = 0;  // explicit, or the scheme's default
    std::string target = "/";  // path and query, never empty
    bool tls() const { return scheme == "https" || scheme == "wss"; }
    std::string host_port() const;  // "host:port" (IPv6 in brackets); pool key and Host header
};

std::optional<url_parts> parse_url(std::string_view url);

// "127.0.0.1:9464", "[::1]:0", "localhost:8080". Port 0 means "pick a free one".
struct host_port {
    std::string host;
    std::uint16_t port = 0;
};
std::optional<host_port> parse_host_port(std::string_view text);

// The Host header value for a connection: the port is left out when it is the scheme default.
std::string host_header(const url_parts& url);

}  // namespace crisisd::net
