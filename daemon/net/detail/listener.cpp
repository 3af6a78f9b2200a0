#include "net/detail/listener.hpp"

namespace crisisd::net::detail {

std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint,
                        boost::system::error_code& ec) {
    namespace asio = boost::asio;
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return 0;
    // Not checked: without the option, bind fails on a port still in TIME_WAIT and says so.
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    acceptor.bind(endpoint, ec);
    if (ec) return 0;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return 0;
    boost::system::error_code ignored;
    return acceptor.local_endpoint(ignored).port();
}

}  // namespace crisisd::net::detail
