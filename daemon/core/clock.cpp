#include "core/clock.hpp"

namespace crisisd::core {

timestamp system_clock::now() const {
    return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
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
