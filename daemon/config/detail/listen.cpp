#include "config/detail/listen.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace crisisd::config::detail {

bool is_loopback_listen(std::string_view listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.size() == 9) {
        bool localhost = true;
        for (std::size_t i = 0; i < host.size(); ++i) {
            const char c = host[i] >= 'A' && host[i] <= 'Z' ? static_cast<char>(host[i] - 'A' + 'a') : host[i];
            localhost = localhost && c == "localhost"[i];
        }
        if (localhost) return true;
    }
    // inet_pton is strict (no "127.1", no leading zeros), so a name that merely looks numeric
    // is not mistaken for an address.
    const std::string text(host);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return true;
        static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(v6.s6_addr, mapped_prefix, sizeof mapped_prefix) == 0 && v6.s6_addr[12] == 127;
    }
    return false;
}

}  // namespace crisisd::config::detail
