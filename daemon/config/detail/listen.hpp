#pragma once
// What a listener's `listen: host:port` exposes. Shared by every section that opens a listener
// (sources of type http, admin), so "loopback" means the same thing everywhere. Pure.
#include <string_view>

namespace crisisd::config::detail {

// Whether host:port binds only the loopback interface: an IPv4 address in 127.0.0.0/8, ::1
// (also written [::1], or as the IPv4-mapped ::ffff:127.x.y.z) or the name "localhost". Every
// other host — 0.0.0.0, ::, an interface address, any other name (it may resolve anywhere) —
// is beyond loopback. The port is not looked at; a string without ':' is not loopback.
bool is_loopback_listen(std::string_view listen);

}  // namespace crisisd::config::detail
