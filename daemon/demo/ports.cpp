#include "demo/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
std::uint16_t free_loopback_port() { return bind_loopback(0); }

}  // namespace crisisd::demo
