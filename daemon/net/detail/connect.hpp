#pragma once
// Name resolution with a deadline and readable connect errors, shared by the HTTP and
// websocket clients. Internal (heavy Asio headers).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

namespace crisisd::net::detail {

// IP literals skip the resolver. On failure `error` is set ("timeout", "resolve host: …").
boost::asio::awaitable<boost::asio::ip::tcp::resolver::results_type> resolve(
    boost::asio::any_io_executor ex, const std::string& host, std::uint16_t port,
    std::chrono::steady_clock::time_point deadline, std::string& error);

// "timeout", "connection refused", "connection reset", …
std::string describe_io_error(const boost::system::error_code& ec);

}  // namespace crisisd::net::detail
