#include "net/detail/connect.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include "net/detail/async.hpp"

namespace crisisd::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<tcp::resolver::results_type> resolve(asio::any_io_executor ex, const std::string& host,
                                                     std::uint16_t port,
                                                     std::chrono::steady_clock::time_point deadline,
                                                     std::string& error) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec)
        co_return tcp::resolver::results_type::create(tcp::endpoint(address, port), host,
                                                      std::to_string(port));
    // The resolver has no deadline of its own; a timer cancels it. Resolver and flag live in
    // shared state because the timer's handler may already be queued when the resolve
    // completes and this frame goes away.
    struct state {
        tcp::resolver resolver;
        bool timed_out = false;
        explicit state(asio::any_io_executor e) : resolver(std::move(e)) {}
    };
    auto shared = std::make_shared<state>(ex);
    asio::steady_timer timer(ex);
    timer.expires_at(deadline);
    timer.async_wait([shared](boost::system::error_code wait_ec) {
        if (wait_ec) return;
        shared->timed_out = true;
        shared->resolver.cancel();
    });
    auto [resolve_ec, results] =
        co_await shared->resolver.async_resolve(host, std::to_string(port), nothrow);
    timer.cancel();
    if (shared->timed_out)
        error = "timeout";
    else if (resolve_ec)
        error = "resolve " + host + ": " + resolve_ec.message();
    co_return results;
}

std::string describe_io_error(const boost::system::error_code& ec) {
    namespace beast = boost::beast;
    if (ec == beast::error::timeout) return "timeout";
    if (ec == asio::error::connection_refused) return "connection refused";
    if (ec == asio::error::connection_reset) return "connection reset";
    if (ec == beast::http::error::end_of_stream || ec == asio::error::eof)
        return "connection closed by peer";
    if (ec == beast::http::error::body_limit) return "response body too large";
    if (ec.category() == asio::error::get_ssl_category()) return "tls: " + ec.message();
    return ec.message();
}

}  // namespace crisisd::net::detail
