// The pure parts of the mention stream: where a (rule, key) goes, and the de-duplication id.
#include "cluster/mention_stream.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace crisisd::cluster {
namespace {

TEST(partition_of, is_pinned_so_every_replica_and_version_agrees) {
    // FNV-1a 64 over rule, a zero byte and key, then splitmix64's finalizer (checked against an
    // independent implementation); changing them moves keys between owners of a running cluster.
    EXPECT_EQ(partition_of("isp-outage", "acme", 16), 14);
    EXPECT_EQ(partition_of("isp-outage", "globex", 16), 3);
    EXPECT_EQ(partition_of("billing", "acme", 16), 8);
    EXPECT_EQ(partition_of("billing", "acme", 1024), 952);
}

TEST(partition_of, separates_rule_from_key) {
    // Without the separator ("ab", "c") and ("a", "bc") would hash the same bytes.
    int differ = 0;
    for (int i = 0; i < 20; ++i) {
        std::string r = "rule" + std::to_string(i);
        differ += partition_of(r + "x", "y", 1024) != partition_of(r, "xy", 1024);
    }
    EXPECT_GE(differ, 18);
}

TEST(partition_of, spreads_keys_evenly) {
    std::vector<int> count(16);
    for (int i = 0; i < 16000; ++i) ++count[static_cast<std::size_t>(partition_of("rule", "key-" + std::to_string(i), 16))];
    for (int c : count) {
        EXPECT_GT(c, 800);
        EXPECT_LT(c, 1200);
    }
}

TEST(partition_of, uses_every_bit_of_the_bytes_not_only_the_low_ones) {
    // Rule "<t>-outage" with key "<t>": without a final mix the partition of a power-of-two count
    // depended only on the low bits of each byte, and for two partitions every t gave the same one.
    std::vector<int> count(2);
    for (char t = 'a'; t <= 'z'; ++t) {
        std::string topic(1, t);
        ++count[static_cast<std::size_t>(partition_of(topic + "-outage", topic, 2))];
    }
    EXPECT_GT(count[0], 5);
    EXPECT_GT(count[1], 5);
}

TEST(batch_id, names_the_front_and_the_batch_without_control_characters) {
    EXPECT_EQ(batch_id("replica-a.0123abcd", 42), "replica-a.0123abcd:42");
    EXPECT_EQ(batch_id("a\r\nb", 0), "a??b:0");
    EXPECT_NE(batch_id("f", 1), batch_id("f", 2));
}

}  // namespace
}  // namespace crisisd::cluster
