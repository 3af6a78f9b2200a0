// What a partition's owner remembers of the mentions it processed (issue 15): a mention sent
// twice is dropped, and the stream sequence from which the last `keep` mentions can be read back
// moves on only as far as still holds them.
#include "runtime/cluster_intake.hpp"

#include <gtest/gtest.h>

using namespace crisisd;

TEST(recent_mentions, a_mention_seen_before_is_dropped_by_its_source_and_id) {
    runtime::recent_mentions r(8);
    EXPECT_TRUE(r.first_time("ingest", "m1"));
    EXPECT_FALSE(r.first_time("ingest", "m1"));
    EXPECT_TRUE(r.first_time("other", "m1"));   // another source's mention 1
    // ("a", "b:c") and ("a:b", "c") are different mentions.
    EXPECT_TRUE(r.first_time("a", "bc"));
    EXPECT_TRUE(r.first_time("ab", "c"));
}

TEST(recent_mentions, the_window_starts_at_the_oldest_message_still_needed) {
    runtime::recent_mentions r(10);
    EXPECT_EQ(r.from(), 0u);
    r.message_done(5, 4);
    r.message_done(9, 4);
    EXPECT_EQ(r.from(), 5u);   // 8 entries: all are needed
    r.message_done(12, 4);
    EXPECT_EQ(r.from(), 5u);   // 12, but without message 5 only 8
    r.message_done(20, 2);
    EXPECT_EQ(r.from(), 9u);   // 9, 12 and 20 hold 10
    r.message_done(21, 30);
    EXPECT_EQ(r.from(), 21u);  // one message holds more than the window
}

TEST(recent_mentions, ids_are_kept_for_as_many_mentions_as_the_window_covers) {
    runtime::recent_mentions r(100);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(r.first_time("ingest", "m" + std::to_string(i)));
    for (int i = 100; i < 200; ++i) ASSERT_TRUE(r.first_time("ingest", "m" + std::to_string(i)));
    // The last 100 (and more, up to twice the window) are still known.
    for (int i = 100; i < 200; ++i) EXPECT_FALSE(r.first_time("ingest", "m" + std::to_string(i))) << i;
}
