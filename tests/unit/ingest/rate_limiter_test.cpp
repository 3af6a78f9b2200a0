// A source's max_rate: a token bucket on the monotonic time passed in (no clock inside).
#include "ingest/rate_limiter.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using crisisd::ingest::rate_limit;
using crisisd::ingest::rate_limiter;

namespace {
const rate_limiter::time_point t0 = rate_limiter::time_point{} + 1000s;
}

TEST(rate_limiter, unlimited_admits_everything) {
    rate_limiter l(rate_limit{});
    for (int i = 0; i < 100000; ++i) ASSERT_TRUE(l.admit(t0));
}

TEST(rate_limiter, a_burst_up_to_the_count_passes_then_the_rate_refills) {
    rate_limiter l(rate_limit{5, 1min});
    int admitted = 0;
    for (int i = 0; i < 10; ++i) admitted += l.admit(t0);
    EXPECT_EQ(admitted, 5);
    EXPECT_FALSE(l.admit(t0 + 11s));  // 5 per minute: one token every 12 s
    EXPECT_TRUE(l.admit(t0 + 12s));
    EXPECT_FALSE(l.admit(t0 + 13s));
    // A long quiet refills to the count, never beyond.
    admitted = 0;
    for (int i = 0; i < 10; ++i) admitted += l.admit(t0 + 1h);
    EXPECT_EQ(admitted, 5);
}

TEST(rate_limiter, sustained_rate_is_the_configured_one) {
    rate_limiter l(rate_limit{200, 1s});
    int admitted = 0;
    // 1000 per second offered for 10 s: the first second's burst of 200, then 200 a second.
    for (int i = 0; i < 10000; ++i) admitted += l.admit(t0 + i * 1ms);
    EXPECT_NEAR(admitted, 200 + 2000, 2);
}

TEST(rate_limiter, time_running_backwards_refills_nothing) {
    rate_limiter l(rate_limit{1, 1s});
    EXPECT_TRUE(l.admit(t0));
    EXPECT_FALSE(l.admit(t0 - 5s));
    EXPECT_FALSE(l.admit(t0 + 500ms));
    EXPECT_TRUE(l.admit(t0 + 1s));
}
