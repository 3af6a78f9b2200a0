#pragma once
// Reconnect delays: exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): attempt n waits a uniformly random time in [0, min(max, initial * 2^n)],
// so many clients that lost the same server do not come back in lockstep. No clock and no
// I/O; the caller sleeps. Not thread-safe (one per connection).
#include <chrono>
#include <cstdint>
#include <random>

namespace crisisd::net {

class backoff {
public:
    using duration = std::chrono::microseconds;

    backoff(duration initial, duration max, std::uint64_t seed);

    // The delay before the next attempt; each call doubles the ceiling until it reaches max.
    duration next();
    // The ceiling the next call draws from (for logs and tests).
    duration ceiling() const;
    // After a connection proved healthy: start again from initial.
    void reset() { attempt_ = 0; }
    unsigned attempts() const { return attempt_; }

private:
    duration initial_;
    duration max_;
    unsigned attempt_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace crisisd::net
