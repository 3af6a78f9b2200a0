#pragma once
// Loopback ports for the demo: whether a well-known one is free, and a free one to name in the
// config of a listener crisisd opens itself (the demo's Facebook webhook), so the stand-in knows
// where to deliver. Thread-safe (plain socket calls).
#include <cstdint>

namespace crisisd::demo {

bool loopback_port_free(std::uint16_t port);
// A port the kernel had free a moment ago (0 when none could be had). Another process could take
// it before crisisd binds it; the demo then fails to start and says so, it does not misdeliver.
std::uint16_t free_loopback_port();

}  // namespace crisisd::demo
