#pragma once
// The clock interface. The shell reads time through it; the pure core gets the value passed in.
// A scaled clock lets the demo play a twenty-minute story in seconds through the same code.
#include <optional>

#include "core/time.hpp"

namespace crisisd::core {

class clock {
public:
    virtual ~clock() = default;
    virtual timestamp now() const = 0;
    // Wall-clock time to wait until this clock has advanced by d (d / speed for a scaled clock).
    virtual std::chrono::nanoseconds wall_delay(duration d) const { return d; }
    // When the clock this one follows was set since the last call: by how much now() stepped.
    // The caller moves everything it holds by the same amount (pipeline::shift). Only the
    // system clock steps; simulated ones never do.
    virtual std::optional<duration> take_step() { return std::nullopt; }
};

// The daemon's clock. Between steps it runs on CLOCK_BOOTTIME — which nobody can set and which
// counts time suspended — from the wall time it was anchored at, so windows, waits, retries and
// caps measured on it never jump. take_step() compares it with the wall clock; when they differ by
// more than `tolerance` (the first NTP sync after boot, an operator's `date -s`, a VM restored
// from a snapshot), it re-anchors to the wall clock and returns the step. Leap seconds (1 s) and
// slewing (which moves both clocks alike) stay under the tolerance. Not thread-safe: one owner.
class system_clock final : public clock {
public:
    using reader = timestamp (*)();
    // Readers of the wall clock and of CLOCK_BOOTTIME (as a duration since an arbitrary start);
    // tests pass their own.
    system_clock(reader wall = &read_wall, reader boot = &read_boottime,
                 duration tolerance = std::chrono::seconds(2));
    timestamp now() const override;
    std::optional<duration> take_step() override;

    static timestamp read_wall();
    static timestamp read_boottime();

private:
    reader wall_;
    reader boot_;
    duration tolerance_;
    timestamp anchor_wall_;
    timestamp anchor_boot_;
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
