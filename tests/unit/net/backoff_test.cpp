#include "net/backoff.hpp"

#include <gtest/gtest.h>

#include <set>

namespace crisisd::net {
namespace {

using std::chrono::milliseconds;

TEST(backoff, ceiling_doubles_up_to_max) {
    backoff b(milliseconds(500), milliseconds(4000), 1);
    EXPECT_EQ(b.ceiling(), milliseconds(500));
    b.next();
    EXPECT_EQ(b.ceiling(), milliseconds(1000));
    b.next();
    EXPECT_EQ(b.ceiling(), milliseconds(2000));
    b.next();
    EXPECT_EQ(b.ceiling(), milliseconds(4000));
    for (int i = 0; i < 100; ++i) b.next();  // a server that stays down for a long time
    EXPECT_EQ(b.ceiling(), milliseconds(4000));
}

TEST(backoff, delays_are_jittered_within_the_ceiling) {
    backoff b(milliseconds(100), milliseconds(60000), 42);
    std::set<backoff::duration::rep> seen;
    for (int i = 0; i < 12; ++i) {
        auto top = b.ceiling();
        auto d = b.next();
        EXPECT_GE(d.count(), 0);
        EXPECT_LE(d, top);
        seen.insert(d.count());
    }
    EXPECT_GT(seen.size(), 6u) << "full jitter spreads clients out";
}

TEST(backoff, reset_starts_again_from_initial) {
    backoff b(milliseconds(500), milliseconds(60000), 7);
    for (int i = 0; i < 5; ++i) b.next();
    EXPECT_GT(b.ceiling(), milliseconds(500));
    b.reset();
    EXPECT_EQ(b.ceiling(), milliseconds(500));
    EXPECT_LE(b.next(), milliseconds(500));
}

TEST(backoff, same_seed_gives_same_sequence) {
    backoff a(milliseconds(10), milliseconds(1000), 99);
    backoff b(milliseconds(10), milliseconds(1000), 99);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
}

}  // namespace
}  // namespace crisisd::net
