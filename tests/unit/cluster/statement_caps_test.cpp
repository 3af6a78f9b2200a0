// The cluster-wide statement cap's pure parts: the rolling hour of slots kept per channel.
#include <gtest/gtest.h>

#include "cluster/statement_caps.hpp"

using crisisd::cluster::cap_key;
using crisisd::cluster::cap_slot;
using crisisd::cluster::parse_send_times;
using crisisd::cluster::send_times_value;
using crisisd::cluster::slot_id;
using crisisd::cluster::take_slot;

TEST(cluster_statement_caps, slots_read_back_as_written_and_skip_what_is_unreadable) {
    EXPECT_EQ(send_times_value({}), "");
    const std::vector<cap_slot> slots{{100, "aa"}, {200, "bb"}};
    EXPECT_EQ(send_times_value(slots), "100:aa 200:bb");
    EXPECT_EQ(parse_send_times("100:aa 200:bb"), slots);
    EXPECT_EQ(parse_send_times("100:aa x 300 "), (std::vector<cap_slot>{{100, "aa"}, {300, ""}}));
    EXPECT_TRUE(parse_send_times("").empty());
}

TEST(cluster_statement_caps, a_cap_of_one_lets_one_statement_through_per_rolling_hour) {
    std::vector<cap_slot> slots;
    EXPECT_TRUE(take_slot(slots, 10000, 1, "first"));
    EXPECT_FALSE(take_slot(slots, 10001, 1, "second"));
    EXPECT_FALSE(take_slot(slots, 10000 + 3599, 1, "second"));
    // As the single-node cap (sent after now - 1 h): one sent exactly an hour ago no longer counts.
    EXPECT_TRUE(take_slot(slots, 10000 + 3600, 1, "second"));
    EXPECT_EQ(slots, (std::vector<cap_slot>{{13600, "second"}}));
}

TEST(cluster_statement_caps, a_retried_statement_finds_its_own_slot_instead_of_a_second_one) {
    std::vector<cap_slot> slots;
    EXPECT_TRUE(take_slot(slots, 10000, 1, "first"));
    EXPECT_TRUE(take_slot(slots, 10030, 1, "first"));   // its retry, on this replica or the next owner
    EXPECT_EQ(slots.size(), 1u);
    EXPECT_FALSE(take_slot(slots, 10031, 1, "second"));
}

TEST(cluster_statement_caps, a_refused_slot_still_prunes_and_a_zero_cap_takes_nothing) {
    std::vector<cap_slot> slots{{1, "a"}, {2, "b"}, {5000, "c"}};
    EXPECT_FALSE(take_slot(slots, 5001, 1, "d"));
    EXPECT_EQ(slots, (std::vector<cap_slot>{{5000, "c"}}));
    EXPECT_TRUE(take_slot(slots, 5002, 2, "d"));
    EXPECT_FALSE(take_slot(slots, 5003, 0, "e"));
}

TEST(cluster_statement_caps, channel_names_become_key_tokens_and_statements_fixed_size_ids) {
    EXPECT_EQ(cap_key("brand"), "c.brand");
    EXPECT_EQ(cap_key("brand.x y"), "c.brand_x_y");
    EXPECT_EQ(slot_id("a key with spaces: and colons").size(), 16u);
    EXPECT_NE(slot_id("inst/1/2/brand"), slot_id("inst/1/3/brand"));
}
