#include "core/clock.hpp"

#include <time.h>

namespace crisisd::core {

timestamp system_clock::read_wall() {
    return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
}

timestamp system_clock::read_boottime() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return timestamp{std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<duration>(std::chrono::nanoseconds(ts.tv_nsec))};
}

system_clock::system_clock(reader wall, reader boot, duration tolerance)
    : wall_(wall), boot_(boot), tolerance_(tolerance), anchor_wall_(wall()), anchor_boot_(boot()) {}

timestamp system_clock::now() const { return anchor_wall_ + (boot_() - anchor_boot_); }

std::optional<duration> system_clock::take_step() {
    const timestamp boot = boot_();
    const timestamp wall = wall_();
    const duration step = wall - (anchor_wall_ + (boot - anchor_boot_));
    if (step <= tolerance_ && step >= -tolerance_) return std::nullopt;
    anchor_wall_ = wall;
    anchor_boot_ = boot;
    return step;
}

scaled_clock::scaled_clock(timestamp origin, double speed)
    : origin_(origin), wall_origin_(std::chrono::steady_clock::now()), speed_(speed > 0 ? speed : 1.0) {}

timestamp scaled_clock::now() const {
    auto wall = std::chrono::steady_clock::now() - wall_origin_;
    auto scaled = std::chrono::duration<double, std::nano>(wall) * speed_;
    return origin_ + std::chrono::duration_cast<duration>(scaled);
}

std::chrono::nanoseconds scaled_clock::wall_delay(duration d) const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double, std::nano>(d) / speed_);
}

}  // namespace crisisd::core
