// The cluster-wide statement cap's pure parts: the rolling hour of send times kept per channel.
#include <gtest/gtest.h>

#include "cluster/statement_caps.hpp"

using crisisd::cluster::cap_key;
using crisisd::cluster::parse_send_times;
using crisisd::cluster::send_times_value;
using crisisd::cluster::take_slot;

TEST(cluster_statement_caps, send_times_read_back_as_written_and_skip_what_is_unreadable) {
    EXPECT_EQ(send_times_value({}), "");
    EXPECT_EQ(send_times_value({100, 200}), "100 200");
    EXPECT_EQ(parse_send_times("100 200"), (std::vector<std::int64_t>{100, 200}));
    EXPECT_EQ(parse_send_times("100 x 300 "), (std::vector<std::int64_t>{100, 300}));
    EXPECT_TRUE(parse_send_times("").empty());
}

TEST(cluster_statement_caps, a_cap_of_one_lets_one_statement_through_per_rolling_hour) {
    std::vector<std::int64_t> times;
    EXPECT_TRUE(take_slot(times, 10000, 1));
    EXPECT_FALSE(take_slot(times, 10001, 1));
    EXPECT_FALSE(take_slot(times, 10000 + 3599, 1));
    // As the single-node cap (sent after now - 1 h): one sent exactly an hour ago no longer counts.
    EXPECT_TRUE(take_slot(times, 10000 + 3600, 1));
    EXPECT_EQ(times, (std::vector<std::int64_t>{13600}));
}

TEST(cluster_statement_caps, a_refused_slot_still_prunes_and_a_zero_cap_takes_nothing) {
    std::vector<std::int64_t> times{1, 2, 5000};
    EXPECT_FALSE(take_slot(times, 5001, 1));
    EXPECT_EQ(times, (std::vector<std::int64_t>{5000}));
    EXPECT_TRUE(take_slot(times, 5002, 2));
    EXPECT_FALSE(take_slot(times, 5003, 0));
}

TEST(cluster_statement_caps, channel_names_become_key_tokens) {
    EXPECT_EQ(cap_key("brand"), "c.brand");
    EXPECT_EQ(cap_key("brand.x y"), "c.brand_x_y");
}
