#include "ingest/rate_limiter.hpp"

#include <algorithm>

namespace crisisd::ingest {

bool rate_limiter::admit(time_point now) {
    if (limit_.count == 0) return true;
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    // A time before the last one (two callers' readings out of order) refills nothing.
    if (now > last_) {
        const double per = std::chrono::duration<double>(limit_.per).count();
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        const auto capacity = static_cast<double>(limit_.count);
        tokens_ = std::min(capacity, tokens_ + elapsed / per * capacity);
        last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

}  // namespace crisisd::ingest
