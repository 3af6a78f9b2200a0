// Issue 15: matched mentions on the partitioned JetStream stream of a real three-node NATS
// cluster: a duplicate publish is dropped, partitions are separate, and a partition's next owner
// resumes after the last acknowledged message.
#include <gtest/gtest.h>

#include "cluster/mention_stream.hpp"
#include "nats_cluster.hpp"

namespace crisisd::testing {
namespace {

using namespace std::chrono_literals;

// A message id per (source, mention, partition), as a front's batch ids are unique per message.
std::string msg_id(const std::string& source, const std::string& id, int partition) {
    return crisisd::cluster::batch_id(source + ":" + id, static_cast<std::uint64_t>(partition));
}

cluster::stream_settings test_stream() {
    cluster::stream_settings s;
    s.name = "mentions";
    s.subject_prefix = "test.mentions";
    s.partitions = 16;
    return s;
}

class cluster_stream : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats.available()) GTEST_SKIP() << "nats-server is not installed (Debian package nats-server)";
        std::string why;
        ASSERT_TRUE(nats.start(why)) << why;
        conn = connect(nats.urls());
        ASSERT_TRUE(conn);
        std::string error;
        ASSERT_TRUE(poll_until([&] { return (stream = cluster::mention_stream::open(*conn, test_stream(), error)) != nullptr; },
                               30s, 250ms))
            << error;
    }

    static std::unique_ptr<cluster::nats_connection> connect(std::vector<std::string> servers) {
        cluster::nats_settings s;
        s.servers = std::move(servers);
        s.request_timeout = 2000ms;
        std::string error;
        auto c = cluster::nats_connection::connect(s, error);
        EXPECT_TRUE(c) << error;
        return c;
    }

    std::unique_ptr<cluster::partition_consumer> consumer(cluster::nats_connection& c, int partition) {
        std::string error;
        std::unique_ptr<cluster::partition_consumer> out;
        EXPECT_TRUE(poll_until(
            [&] { return (out = cluster::partition_consumer::open(c, test_stream(), partition, error)) != nullptr; }, 30s,
            250ms))
            << error;
        return out;
    }

    // Fetches until a message with `last_id` arrives; everything fetched on the way, in order.
    static std::vector<cluster::stream_message> fetch_through(cluster::partition_consumer& c, const std::string& last_id) {
        std::vector<cluster::stream_message> got;
        std::string error;
        poll_until(
            [&] {
                c.fetch(got, 16, 200ms, error);
                return !got.empty() && got.back().msg_id == last_id;
            },
            30s, 1ms);
        return got;
    }

    nats_cluster nats;
    std::unique_ptr<cluster::nats_connection> conn;
    std::unique_ptr<cluster::mention_stream> stream;
};

TEST_F(cluster_stream, a_duplicate_publish_is_dropped) {
    using outcome = cluster::publish_result::outcome;
    int p = cluster::partition_of("isp-outage", "acme", 16);
    auto id = msg_id("mastodon", "m-1", p);
    auto first = stream->publish(p, id, R"({"text":"down again"})");
    ASSERT_EQ(first.result, outcome::stored) << first.error;
    // The same mention again (a second replica received it too, or a retried publish).
    auto again = stream->publish(p, id, R"({"text":"down again"})");
    ASSERT_EQ(again.result, outcome::duplicate) << again.error;
    EXPECT_EQ(again.sequence, first.sequence);
    // Another partition's message and then a different mention on this one.
    int other = (p + 1) % 16;
    ASSERT_EQ(stream->publish(other, msg_id("mastodon", "m-1", other), "{}").result, outcome::stored);
    auto next = msg_id("mastodon", "m-2", p);
    ASSERT_EQ(stream->publish(p, next, R"({"text":"still down"})").result, outcome::stored);

    // A partition is delivered in order: had the duplicate been stored, it would come between.
    auto c = consumer(*conn, p);
    ASSERT_TRUE(c);
    auto got = fetch_through(*c, next);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].msg_id, id);
    EXPECT_EQ(got[0].payload, R"({"text":"down again"})");
    EXPECT_EQ(got[0].sequence, first.sequence);
    EXPECT_EQ(got[1].msg_id, next);
}

TEST_F(cluster_stream, the_next_owner_resumes_after_the_last_acknowledged_message) {
    const int p = 7;
    for (int i = 1; i <= 5; ++i)
        ASSERT_EQ(stream->publish(p, msg_id("ingest", "m-" + std::to_string(i), p), std::to_string(i)).result,
                  cluster::publish_result::outcome::stored);
    {
        auto old_owner = consumer(*conn, p);
        ASSERT_TRUE(old_owner);
        std::vector<cluster::stream_message> got;
        std::string error;
        ASSERT_TRUE(poll_until([&] { return old_owner->fetch(got, 3 - static_cast<int>(got.size()), 200ms, error) && got.size() == 3; }, 30s))
            << error;
        EXPECT_EQ(got.back().payload, "3");
        ASSERT_TRUE(old_owner->ack(got.back()));   // acknowledges 1..3
    }
    // The partition moves to a replica on another connection (through another node).
    auto other_conn = connect({nats.url(2)});
    ASSERT_TRUE(other_conn);
    auto new_owner = consumer(*other_conn, p);
    ASSERT_TRUE(new_owner);
    auto got = fetch_through(*new_owner, msg_id("ingest", "m-5", p));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].payload, "4");
    EXPECT_EQ(got[1].payload, "5");
}

TEST_F(cluster_stream, a_pipelined_batch_keeps_each_results_place_and_drops_its_duplicates) {
    using outcome = cluster::publish_result::outcome;
    // 100 mentions of one source spread over the partitions, ten of them received twice.
    std::vector<cluster::outgoing_mention> batch;
    std::vector<int> per_partition(16);
    for (int i = 0; i < 100; ++i) {
        int p = cluster::partition_of("rule", "key-" + std::to_string(i), 16);
        ++per_partition[static_cast<std::size_t>(p)];
        batch.push_back({p, msg_id("ingest", "m-" + std::to_string(i), p), std::to_string(i)});
    }
    for (int i = 0; i < 10; ++i) batch.push_back(batch[static_cast<std::size_t>(i * 7)]);
    auto results = stream->publish_batch(batch);
    ASSERT_EQ(results.size(), 110u);
    for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(results[i].result, outcome::stored) << i << ": " << results[i].error;
    for (std::size_t i = 100; i < 110; ++i) {
        EXPECT_EQ(results[i].result, outcome::duplicate) << i << ": " << results[i].error;
        EXPECT_EQ(results[i].sequence, results[(i - 100) * 7].sequence);
    }
    // A partition's consumer sees each of its mentions once.
    int p = batch[0].partition;
    auto c = consumer(*conn, p);
    ASSERT_TRUE(c);
    std::string last_id;
    for (std::size_t i = 0; i < 100; ++i)
        if (batch[i].partition == p) last_id = batch[i].msg_id;
    auto got = fetch_through(*c, last_id);
    EXPECT_EQ(static_cast<int>(got.size()), per_partition[static_cast<std::size_t>(p)]);
}

}  // namespace
}  // namespace crisisd::testing
