#pragma once
// Loopback ports for the demo: whether a well-known one is free, and a free one to name in the
// config of a listener crisisd opens itself (the demo's Facebook webhook), so the stand-in knows
// where to deliver. Thread-safe (plain socket calls).
#include <cstdint>

namespace crisisd::demo {

bool loopback_port_free(std::uint16_t port);
// A port that was free a moment ago, outside the kernel's ephemeral range (0 when none could be
// had). A process that binds it on purpose before crisisd does makes the demo fail to start,
// saying so; nothing is misdelivered.
std::uint16_t free_loopback_port();

}  // namespace crisisd::demo
