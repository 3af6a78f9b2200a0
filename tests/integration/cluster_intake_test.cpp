// Issue 15 through the real binary: the partitioned intake's batches on a real three-node NATS
// cluster (JetStream, R3) with three replicas, every process started by the test on free loopback
// ports (cluster_support.hpp). A front packs a partition's mentions into one stream message, so
// JetStream's per-message id no longer drops a mention that reaches two fronts: the partition's
// owner drops it by the mention's id, also after the partition moved to another replica.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <set>
#include <string>

#include "cluster/mention_stream.hpp"
#include "cluster_support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::cluster_harness;
using crisisd::testing::figure;
using crisisd::testing::ingest;
using crisisd::testing::replica;
using crisisd::testing::replica_spec;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 8;
const std::string processed = "crisisd_mentions_processed_total";

// `count` mentions, half of them the acme complaint (ten authors or more open the incident).
std::string mentions(const std::string& prefix, int count) {
    std::string body;
    for (int i = 0; i < count; ++i)
        body += i % 2 == 0 ? crisisd::testing::angry_mention(prefix + std::to_string(i), i)
                           : crisisd::testing::unrelated_mention(prefix + std::to_string(i), i);
    return body;
}

// Fresh mentions whose home partitions cover every partition: sent after the duplicates to the
// same front, they reach every partition's stream behind them, so once they are all counted
// the duplicates were processed (or dropped) too. How many in `count`.
std::string markers(const std::string& prefix, int& count) {
    std::set<int> homes;
    std::string body;
    count = 0;
    for (int i = 0; static_cast<int>(homes.size()) < partitions; ++i) {
        const auto id = prefix + std::to_string(i);
        homes.insert(crisisd::cluster::partition_of("ingest", id, partitions));
        body += crisisd::testing::unrelated_mention(id, 1000 + i);
        ++count;
    }
    return body;
}

class cluster_intake : public ::testing::Test {
protected:
    void SetUp() override {
        if (!cluster_.available()) GTEST_SKIP() << "nats-server is not installed";
        std::string why;
        ASSERT_TRUE(cluster_.start(why)) << why;
        for (std::size_t i = 0; i < 3; ++i) {
            replica_spec spec;
            spec.name = "front-" + std::to_string(i);
            spec.partitions = partitions;
            fronts_[i] = &cluster_.start_replica(spec);
            ASSERT_TRUE(fronts_[i]->admin && fronts_[i]->ingest) << cluster_.logs();
        }
        ASSERT_TRUE(cluster_.wait_split(partitions, 20s)) << cluster_.logs();
    }

    cluster_harness cluster_{"crisisd-intake"};
    std::array<replica*, 3> fronts_{};
};

TEST_F(cluster_intake, a_mention_sent_to_two_fronts_is_counted_once) {
    const int distinct = 60;
    const auto batch = mentions("dup-", distinct);
    ASSERT_TRUE(ingest(*fronts_[0], batch));
    ASSERT_TRUE(wait_until([&] { return cluster_.total(processed) >= distinct; }, 20s)) << cluster_.logs();

    // The same mentions again through the two other fronts (a platform retrying its delivery on
    // another address), each followed by fresh ones.
    int more_1 = 0, more_2 = 0;
    ASSERT_TRUE(ingest(*fronts_[1], batch + markers("after-1-", more_1)));
    ASSERT_TRUE(ingest(*fronts_[2], batch + markers("after-2-", more_2)));
    const double expected = distinct + more_1 + more_2;
    ASSERT_TRUE(wait_until([&] { return cluster_.total(processed) >= expected; }, 20s))
        << cluster_.total(processed) << " of " << expected << "\n" << cluster_.logs();
    EXPECT_EQ(cluster_.total(processed), expected);
    // The duplicates were not observed either: the key opened one incident from the first copies.
    EXPECT_EQ(cluster_.total("crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_EQ(cluster_.total("crisisd_cluster_publish_dropped_total"), 0);
}

TEST_F(cluster_intake, a_mention_sent_again_after_its_partition_moved_is_counted_once) {
    const int distinct = 60;
    const auto batch = mentions("moved-", distinct);
    ASSERT_TRUE(ingest(*fronts_[0], batch));
    ASSERT_TRUE(wait_until([&] { return cluster_.total(processed) >= distinct; }, 20s)) << cluster_.logs();

    // The third replica dies; its partitions' next owners read their recent mention ids back
    // from the stream. Nothing arrives meanwhile, so its count is final.
    const double killed_count = figure(*fronts_[2], processed);
    ASSERT_GT(cluster_.owned(*fronts_[2]), 0);
    cluster_harness::kill(*fronts_[2]);
    ASSERT_TRUE(cluster_.wait_split(partitions, 20s)) << cluster_.logs();

    int more = 0;
    ASSERT_TRUE(ingest(*fronts_[1], batch + markers("after-", more)));
    const double expected = distinct + more;
    ASSERT_TRUE(wait_until([&] { return cluster_.total(processed) + killed_count >= expected; }, 20s))
        << cluster_.total(processed) + killed_count << " of " << expected << "\n" << cluster_.logs();
    EXPECT_EQ(cluster_.total(processed) + killed_count, expected) << cluster_.logs();
}

}  // namespace
