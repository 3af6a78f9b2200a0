#pragma once
// A source's `max_rate` as a token bucket: `count` tokens, refilled evenly over `per`, one taken
// per mention; a mention finding the bucket empty is rejected ("rate_limited"). Starts full.
// Pure: the caller passes the monotonic time in, so a wall-clock step changes nothing and tests
// need no sleeping. Not thread-safe: one owner (the source's runtime on the io thread).
#include <chrono>
#include <string_view>

#include "ingest/settings.hpp"

namespace crisisd::ingest {

class rate_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // The reject reason; a metric label value like parse::reject_reason's names.
    static constexpr std::string_view reason = "rate_limited";

    explicit rate_limiter(rate_limit limit) : limit_(limit), tokens_(static_cast<double>(limit.count)) {}

    // Whether one more mention may pass at `now`. Always true when unlimited.
    bool admit(time_point now);

private:
    rate_limit limit_;
    double tokens_;
    time_point last_{};
    bool started_ = false;
};

}  // namespace crisisd::ingest
