#include "demo/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

namespace crisisd::demo {
namespace {

// Binds 127.0.0.1:port (0: any) and returns the port bound, or 0.
std::uint16_t bind_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::uint16_t bound = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        bound = ntohs(a.sin_port);
    ::close(fd);
    return bound;
}

}  // namespace

bool loopback_port_free(std::uint16_t port) { return bind_loopback(port) == port; }
// Below Linux's ephemeral range (32768–60999 by default), so no outgoing connection can take the
// port between this check and crisisd's bind; only a process binding it on purpose could.
std::uint16_t free_loopback_port() {
    std::random_device seed;
    std::uniform_int_distribution<int> below_ephemeral(20000, 32000);
    for (int attempt = 0; attempt < 50; ++attempt) {
        const auto port = static_cast<std::uint16_t>(below_ephemeral(seed));
        if (loopback_port_free(port)) return port;
    }
    return bind_loopback(0);
}

}  // namespace crisisd::demo
