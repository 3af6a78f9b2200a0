#include "cluster/fair_share.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace crisisd::cluster {
namespace {

std::vector<std::string> free_partitions(int n) { return std::vector<std::string>(static_cast<std::size_t>(n)); }

TEST(fair_share, targets_add_up_to_the_partitions) {
    for (int partitions : {1, 7, 16, 17, 64})
        for (int n = 1; n <= 9; ++n) {
            std::vector<std::string> members;
            for (int i = 0; i < n; ++i) members.push_back("r" + std::to_string(i));
            int sum = 0, lo = partitions, hi = 0;
            for (const auto& m : members) {
                int t = fair_share(partitions, members, m);
                sum += t;
                lo = std::min(lo, t);
                hi = std::max(hi, t);
            }
            EXPECT_EQ(sum, partitions) << partitions << " partitions, " << n << " members";
            EXPECT_LE(hi - lo, 1);
        }
}

TEST(fair_share, the_order_of_the_member_list_does_not_matter) {
    EXPECT_EQ(fair_share(16, {"b", "a", "c"}, "a"), 6);
    EXPECT_EQ(fair_share(16, {"c", "b", "a"}, "a"), 6);
    EXPECT_EQ(fair_share(16, {"a", "b", "c"}, "c"), 5);
    // A member missing from its own list still counts itself.
    EXPECT_EQ(fair_share(16, {"b"}, "a"), 8);
}

TEST(plan_rebalance, a_lone_member_takes_everything_free) {
    auto plan = plan_rebalance(free_partitions(16), {"a"}, "a");
    EXPECT_EQ(plan.acquire.size(), 16u);
    EXPECT_TRUE(plan.release.empty());
}

TEST(plan_rebalance, two_members_on_a_free_table_aim_at_different_halves) {
    auto a = plan_rebalance(free_partitions(16), {"a", "b"}, "a");
    auto b = plan_rebalance(free_partitions(16), {"a", "b"}, "b");
    ASSERT_EQ(a.acquire.size(), 8u);
    ASSERT_EQ(b.acquire.size(), 8u);
    for (int p : a.acquire) EXPECT_EQ(std::count(b.acquire.begin(), b.acquire.end(), p), 0) << p;
}

TEST(plan_rebalance, a_holder_of_everything_gives_up_the_newcomers_share) {
    std::vector<std::string> owners(16, "a");
    auto a = plan_rebalance(owners, {"a", "b"}, "a");
    EXPECT_TRUE(a.acquire.empty());
    EXPECT_EQ(a.release.size(), 8u);
    // The newcomer plans nothing until the released partitions show up as free.
    auto b = plan_rebalance(owners, {"a", "b"}, "b");
    EXPECT_TRUE(b.acquire.empty());
    EXPECT_TRUE(b.release.empty());
    for (int p : a.release) owners[static_cast<std::size_t>(p)].clear();
    b = plan_rebalance(owners, {"a", "b"}, "b");
    EXPECT_EQ(b.acquire.size(), 8u);
}

TEST(plan_rebalance, partitions_of_a_dead_member_wait_for_expiry) {
    // "c" died: its leases still stand until the bucket drops them; nobody plans to take them.
    std::vector<std::string> owners(16);
    for (int p = 0; p < 16; ++p) owners[static_cast<std::size_t>(p)] = p < 6 ? "a" : p < 11 ? "b" : "c dead-incarnation";
    auto a = plan_rebalance(owners, {"a", "b"}, "a");
    EXPECT_TRUE(a.acquire.empty());
    EXPECT_TRUE(a.release.empty());
    for (int p = 11; p < 16; ++p) owners[static_cast<std::size_t>(p)].clear();
    a = plan_rebalance(owners, {"a", "b"}, "a");
    auto b = plan_rebalance(owners, {"a", "b"}, "b");
    EXPECT_EQ(a.acquire.size(), 2u);
    EXPECT_EQ(b.acquire.size(), 3u);
}

TEST(plan_rebalance, rounds_converge_to_an_even_split_for_any_join_order) {
    // Simulate rounds in which each member in turn applies its plan to the shared table.
    std::vector<std::string> owners = free_partitions(16);
    std::vector<std::string> members{"a"};
    auto round = [&] {
        for (const auto& m : members) {
            auto plan = plan_rebalance(owners, members, m);
            for (int p : plan.release) owners[static_cast<std::size_t>(p)].clear();
            for (int p : plan.acquire)
                if (owners[static_cast<std::size_t>(p)].empty()) owners[static_cast<std::size_t>(p)] = m;
        }
    };
    round();
    members.push_back("c");
    for (int i = 0; i < 3; ++i) round();
    members.push_back("b");
    for (int i = 0; i < 3; ++i) round();
    std::map<std::string, int> count;
    for (const auto& o : owners) ++count[o];
    EXPECT_EQ(count["a"], 6);
    EXPECT_EQ(count["b"], 5);
    EXPECT_EQ(count["c"], 5);
    EXPECT_EQ(count[""], 0);
}

}  // namespace
}  // namespace crisisd::cluster
