#pragma once
// The clock interface. The shell reads time through it; the pure core gets the value passed in.
// A scaled clock lets the demo play a twenty-minute story in seconds through the same code.
#include "core/time.hpp"

namespace crisisd::core {

class clock {
public:
    virtual ~clock() = default;
    virtual timestamp now() const = 0;
    // Wall-clock time to wait until this clock has advanced by d (d / speed for a scaled clock).
    virtual std::chrono::nanoseconds wall_delay(duration d) const { return d; }
};

class system_clock final : public clock {
public:
    timestamp now() const override;
};

// Runs `speed` times faster than the wall clock, starting at `origin` when constructed.
class scaled_clock final : public clock {
public:
    scaled_clock(timestamp origin, double speed);
    timestamp now() const override;
    std::chrono::nanoseconds wall_delay(duration d) const override;
    double speed() const noexcept { return speed_; }

private:
    timestamp origin_;
    std::chrono::steady_clock::time_point wall_origin_;
    double speed_;
};

}  // namespace crisisd::core
