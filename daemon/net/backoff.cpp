#include "net/backoff.hpp"

#include <algorithm>

namespace crisisd::net {

backoff::backoff(duration initial, duration max, std::uint64_t seed)
    : initial_(std::max(initial, duration{1})), max_(std::max(max, initial_)), rng_(seed) {}

backoff::duration backoff::ceiling() const {
    // Doubling stops once max is reached, so the shift never overflows however long a server
    // stays down.
    duration ceiling = initial_;
    for (unsigned i = 0; i < attempt_ && ceiling < max_; ++i) ceiling *= 2;
    return std::min(ceiling, max_);
}

backoff::duration backoff::next() {
    auto top = ceiling();
    ++attempt_;
    std::uniform_int_distribution<duration::rep> pick(0, top.count());
    return duration{pick(rng_)};
}

}  // namespace crisisd::net
