// Issue 15 through the real binary, on the network's side: crisisd replicas on a real three-node
// NATS cluster (JetStream, R3), every process started by the test on free loopback ports
// (cluster_support.hpp). Pull sources run on one replica, held by a lease, and a moved one (a feed,
// a Jetstream stream) resumes where its last holder stopped; a partition state over the servers'
// max_payload is said and shown; an owner cut off from NATS falls silent and sends nothing stale
// when it comes back; a NATS node killed loses nothing; three fronts share the load. Cluster mode runs as the partitions preview
// (CRISISD_CLUSTER_PREVIEW=partitions).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/mention_stream.hpp"
#include "cluster_support.hpp"
#include "fakes/fake_x.hpp"
#include "fakes/http_receiver.hpp"
#include "feed_server.hpp"
#include "fakes/io_thread.hpp"
#include "net/websocket_server.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::cluster_harness;
using crisisd::testing::figure;
using crisisd::testing::ingest;
using crisisd::testing::replica;
using crisisd::testing::replica_spec;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 8;

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class cluster_network : public ::testing::Test {
protected:
    explicit cluster_network(bool advertise = true) : cluster_("crisisd-network", advertise) {}
    void SetUp() override {
        if (!cluster_.available()) GTEST_SKIP() << "nats-server is not installed";
        std::string why;
        ASSERT_TRUE(cluster_.start(why)) << why;
    }
    std::string logs() const { return cluster_.logs(); }
    // Three replicas with the standard body, each taking HTTP ingest, once they split the
    // partitions; a failure is the test's (check HasFailure()).
    void start_three_fronts(std::array<replica*, 3>& fronts) {
        for (std::size_t i = 0; i < 3; ++i) {
            replica_spec spec;
            spec.name = "replica-" + std::to_string(i);
            spec.partitions = partitions;
            fronts[i] = &cluster_.start_replica(spec);
            ASSERT_TRUE(fronts[i]->admin && fronts[i]->ingest) << logs();
        }
        ASSERT_TRUE(cluster_.wait_split(partitions, 20s)) << logs();
    }

    cluster_harness cluster_;
};

// --- Pull sources held by a lease ---

class cluster_sources : public cluster_network {
protected:
    void SetUp() override {
        cluster_network::SetUp();
        ASSERT_FALSE(ws_.start());
    }
    void TearDown() override { ws_.stop(); }

    // `options`: more of the source's keys; `path`: where on ws_ it connects.
    replica& start_with_stream(const std::string& name, const std::string& options = "trusted: true",
                               const std::string& path = "/stream") {
        replica_spec spec;
        spec.name = name;
        spec.partitions = partitions;
        spec.body.extra_sources = "  - { name: stream, type: websocket, url: \"ws://127.0.0.1:" +
                                  std::to_string(ws_.port()) + path + "\", " + options +
                                  ", reconnect: { initial: 100ms, max: 500ms } }\n";
        return cluster_.start_replica(spec);
    }
    static double held(const replica& r) { return figure(r, "crisisd_cluster_source_held{source=\"stream\"}"); }

    // The request target of every upgrade, once record_targets() was called (before ws_: its
    // callback may run until ws_ stops).
    void record_targets() {
        ws_.on_connect([this](const crisisd::net::websocket_upgrade_info& info) {
            std::lock_guard lock(targets_m_);
            targets_.push_back(info.target);
        });
    }
    std::vector<std::string> targets() {
        std::lock_guard lock(targets_m_);
        return targets_;
    }
    std::mutex targets_m_;
    std::vector<std::string> targets_;

    crisisd::testing::io_thread io_;
    crisisd::net::websocket_server ws_{io_.executor(), {}};
};

TEST_F(cluster_sources, a_websocket_source_runs_on_one_replica_and_moves_to_the_survivor_when_its_holder_is_killed) {
    auto& a = start_with_stream("replica-a");
    auto& b = start_with_stream("replica-b");
    ASSERT_TRUE(a.admin && b.admin && a.ingest && b.ingest) << logs();
    ASSERT_TRUE(wait_until([&] { return held(a) + held(b) == 1 && ws_.connection_count() == 1; }, 20s))
        << "a=" << held(a) << " b=" << held(b) << " connections=" << ws_.connection_count() << "\n"
        << logs();
    // Only the holder ever connected; the other one shows the source as not held.
    EXPECT_EQ(ws_.connections_accepted(), 1u);
    replica& holder = held(a) == 1 ? a : b;
    replica& other = &holder == &a ? b : a;
    EXPECT_EQ(held(other), 0);
    EXPECT_EQ(figure(holder, "crisisd_source_connected{source=\"stream\"}"), 1);

    cluster_harness::kill(holder);
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return held(other) == 1 && ws_.connection_count() == 1; }, 20s)) << logs();
    const double took = seconds_since(killed);
    EXPECT_LE(took, 10.0) << took << " s from the kill to the survivor's connection";
    EXPECT_EQ(ws_.connections_accepted(), 2u);
    EXPECT_TRUE(other.process->wait_for_stderr("source stream is held by this replica", 1s).has_value());

    // The survivor's source feeds the cluster: the key's ten authors page once.
    for (int i = 1; i <= 10; ++i)
        ws_.broadcast(R"({"id":"w)" + std::to_string(i) + R"(","lang":"en","author":"@user)" + std::to_string(i) +
                      R"(","text":"acme is down again, this is terrible and awful!"})");
    ASSERT_TRUE(wait_until([&] { return crisisd::testing::lines_in(other.folder / "pages.jsonl") == 1; }, 15s))
        << logs();
    // Each is counted by its home partition's owner: the survivor, once the dead one's share moved.
    ASSERT_TRUE(wait_until([&] { return figure(other, "crisisd_mentions_processed_total") >= 10; }, 15s)) << logs();
    EXPECT_EQ(figure(other, "crisisd_mentions_processed_total"), 10);
}

// A replica stopped with SIGTERM hands its source over at once (no lease time to wait out).
TEST_F(cluster_sources, a_holder_stopped_with_sigterm_hands_the_source_over) {
    auto& a = start_with_stream("replica-a");
    auto& b = start_with_stream("replica-b");
    ASSERT_TRUE(a.admin && b.admin) << logs();
    ASSERT_TRUE(wait_until([&] { return held(a) + held(b) == 1 && ws_.connection_count() == 1; }, 20s)) << logs();
    replica& holder = held(a) == 1 ? a : b;
    replica& other = &holder == &a ? b : a;
    const auto code = cluster_harness::stop(holder);
    ASSERT_TRUE(code.has_value()) << logs();
    EXPECT_EQ(*code, 0) << logs();
    EXPECT_TRUE(holder.process->wait_for_stderr("released every source lease", 1s).has_value()) << logs();
    ASSERT_TRUE(wait_until([&] { return held(other) == 1 && ws_.connection_count() == 1; }, 10s)) << logs();
    EXPECT_EQ(ws_.connections_accepted(), 2u);
}

// X's stream has no cursor: moved by a kill, its new holder's first connection asks for the
// backfill a reconnect asks for (the first holder's first one does not), so the posts of the move
// come again and are de-duplicated by id.
TEST_F(cluster_network, an_x_stream_moved_by_a_kill_asks_for_backfill_on_its_first_connection) {
    crisisd::testing::fake_x x;
    x.start();
    std::ofstream(cluster_.dir() / "x-bearer") << "x-app-bearer\n";
    auto start = [&](const std::string& name) -> replica& {
        replica_spec spec;
        spec.name = name;
        spec.partitions = partitions;
        spec.body.extra_sources = "  - { name: x, type: x, url: \"" + x.base_url() + "\", bearer_token: \"${file:" +
                                  (cluster_.dir() / "x-bearer").string() +
                                  "}\", rules: [{ value: \"acme\", tag: acme }], backfill_minutes: 2, "
                                  "reconnect: { initial: 100ms, max: 500ms } }\n";
        return cluster_.start_replica(spec);
    };
    auto& a = start("replica-a");
    auto& b = start("replica-b");
    ASSERT_TRUE(a.admin && b.admin) << logs();
    auto held = [](const replica& r) { return figure(r, "crisisd_cluster_source_held{source=\"x\"}"); };
    ASSERT_TRUE(wait_until([&] { return held(a) + held(b) == 1 && x.stream_connects().size() == 1; }, 20s)) << logs();
    replica& holder = held(a) == 1 ? a : b;
    replica& other = &holder == &a ? b : a;
    EXPECT_EQ(x.stream_connects().at(0).target.find("backfill_minutes"), std::string::npos)
        << x.stream_connects().at(0).target;

    cluster_harness::kill(holder);
    ASSERT_TRUE(wait_until([&] { return held(other) == 1 && x.stream_connects().size() == 2; }, 20s)) << logs();
    EXPECT_NE(x.stream_connects().at(1).target.find("backfill_minutes=2"), std::string::npos)
        << x.stream_connects().at(1).target;
    x.stop();
}

// --- A moved feed resumes where its last holder stopped ---

// A forum's RSS document: topics 1..n, newest first, each a complaint.
std::string forum_rss(int topics) {
    std::string doc = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>forum</title>";
    for (int i = topics; i >= 1; --i)
        doc += "<item><guid>topic-" + std::to_string(i) + "</guid><title>acme is down " + std::to_string(i) +
               "</title><description>awful</description></item>";
    return doc + "</channel></rss>";
}

class cluster_feed : public cluster_network {
protected:
    replica& start_with_feed(const std::string& name) {
        replica_spec spec;
        spec.name = name;
        spec.partitions = partitions;
        spec.body.extra_sources =
            "  - { name: forum, type: feed, url: \"" + forum_.url("/latest.rss") + "\", interval: 1s }\n";
        return cluster_.start_replica(spec);
    }
    static double held(const replica& r) { return figure(r, "crisisd_cluster_source_held{source=\"forum\"}"); }
    static double frames(const replica& r, const std::string& kind) {
        return figure(r, "crisisd_source_frames_total{kind=\"" + kind + "\",source=\"forum\"}");
    }
    static double writes(const replica& r) {
        return figure(r, "crisisd_cluster_source_cursor_writes_total{source=\"forum\"}");
    }
    // Two replicas with the feed, once one holds it and its first poll (three topics) was
    // history; `holder_` and `other_` are set, a failure is the test's (check HasFatalFailure()).
    void start_two() {
        forum_.serve("/latest.rss", forum_rss(3), "\"v1\"");
        auto& a = start_with_feed("replica-a");
        auto& b = start_with_feed("replica-b");
        ASSERT_TRUE(a.admin && b.admin) << logs();
        ASSERT_TRUE(wait_until([&] { return held(a) + held(b) == 1; }, 20s)) << logs();
        holder_ = held(a) == 1 ? &a : &b;
        other_ = holder_ == &a ? &b : &a;
        ASSERT_TRUE(wait_until([&] { return frames(*holder_, "history") == 3; }, 20s)) << logs();
    }
    // After the holder went and the feed lists `listed` topics: the survivor's first poll counts
    // `known` duplicates, nothing as history, and exactly the new ones as mentions.
    void expect_survivor_counts_only_the_new(double known, double listed, double counted_before) {
        replica& other = *other_;
        ASSERT_TRUE(wait_until([&] { return frames(other, "duplicate") >= known; }, 20s)) << logs();
        const double fresh = listed - known;
        ASSERT_TRUE(wait_until([&] { return figure(other, "crisisd_mentions_processed_total") >= counted_before + fresh; },
                               20s))
            << logs();
        EXPECT_EQ(frames(other, "duplicate"), known);
        EXPECT_EQ(frames(other, "history"), -1);  // absent: nothing was history
        EXPECT_EQ(figure(other, "crisisd_mentions_received_total{source=\"forum\"}"), fresh);
        EXPECT_EQ(figure(other, "crisisd_mentions_processed_total"), counted_before + fresh);
    }

    crisisd::testing::feed_server forum_;
    replica* holder_ = nullptr;
    replica* other_ = nullptr;
};

TEST_F(cluster_feed, a_feed_moved_by_a_kill_resumes_where_its_holder_stopped_neither_recounting_nor_missing_items) {
    start_two();
    ASSERT_FALSE(HasFatalFailure());
    replica& holder = *holder_;
    replica& other = *other_;
    // The first poll ever is history; the holder shares what it read.
    ASSERT_TRUE(wait_until([&] { return writes(holder) >= 1; }, 20s)) << logs();

    // Two new topics: counted once across the replicas, and shared once published.
    forum_.serve("/latest.rss", forum_rss(5), "\"v2\"");
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") == 2; }, 20s)) << logs();
    ASSERT_TRUE(wait_until([&] { return writes(holder) >= 2; }, 10s)) << logs();
    const double counted_before = std::max(0.0, figure(other, "crisisd_mentions_processed_total"));

    // The holder dies; two more topics appear before the survivor takes the feed.
    cluster_harness::kill(holder);
    const auto asked_before = forum_.requests().size();
    forum_.serve("/latest.rss", forum_rss(7), "\"v3\"");
    ASSERT_TRUE(wait_until([&] { return held(other) == 1; }, 20s)) << logs();
    EXPECT_TRUE(other.process->wait_for_stderr("source forum: resuming where " + holder.name + " stopped", 5s).has_value())
        << logs();
    // Its first poll is not history: the five known topics are duplicates, the two new ones count.
    expect_survivor_counts_only_the_new(5, 7, counted_before);
    // Its first request was conditional on the document its predecessor read last.
    const auto asked = forum_.requests();
    ASSERT_GT(asked.size(), asked_before);
    EXPECT_EQ(asked[asked_before].if_none_match, "\"v2\"");
}

// SIGTERM: the holder writes where it stopped before it lets the feed go, so the survivor's first
// poll counts only what came after.
TEST_F(cluster_feed, a_feed_handed_over_by_sigterm_resumes_where_its_holder_stopped) {
    start_two();
    ASSERT_FALSE(HasFatalFailure());
    replica& holder = *holder_;
    replica& other = *other_;
    forum_.serve("/latest.rss", forum_rss(4), "\"v2\"");
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") == 1; }, 20s)) << logs();
    const double counted_before = std::max(0.0, figure(other, "crisisd_mentions_processed_total"));

    const auto code = cluster_harness::stop(holder);
    ASSERT_TRUE(code.has_value()) << logs();
    EXPECT_EQ(*code, 0) << logs();
    forum_.serve("/latest.rss", forum_rss(6), "\"v3\"");
    ASSERT_TRUE(wait_until([&] { return held(other) == 1; }, 10s)) << logs();
    expect_survivor_counts_only_the_new(4, 6, counted_before);
}

// --- A partition state over the servers' max_payload ---

// NATS with a max_payload far below the default, so that one incident's partition state does not
// fit: the replica says what the servers take at start, and when the state outgrows it, logs an
// error and shows the partition in crisisd_cluster_state_too_large (it sends nothing meanwhile).
TEST(cluster_max_payload, a_partition_state_over_max_payload_is_logged_and_shown_in_the_metrics) {
    cluster_harness cluster("crisisd-payload");
    if (!cluster.available()) GTEST_SKIP() << "nats-server is not installed";
    cluster.nats().set_max_payload(4096);
    std::string why;
    ASSERT_TRUE(cluster.start(why)) << why;
    replica_spec spec;
    spec.name = "replica-a";
    spec.partitions = 1;
    spec.body.with_statement = true;
    auto& a = cluster.start_replica(spec);
    ASSERT_TRUE(a.admin && a.ingest) << cluster.logs();
    EXPECT_TRUE(a.process->wait_for_stderr("the NATS servers take messages up to 4096 bytes", 5s).has_value())
        << cluster.logs();
    ASSERT_TRUE(wait_until([&] { return figure(a, "crisisd_cluster_partitions_owned") == 1; }, 20s)) << cluster.logs();
    EXPECT_EQ(figure(a, "crisisd_cluster_max_payload_bytes"), 4096);
    EXPECT_EQ(figure(a, "crisisd_cluster_state_too_large"), 0);

    std::string body;
    for (int i = 1; i <= 10; ++i) body += crisisd::testing::angry_mention("big-" + std::to_string(i), i);
    ASSERT_TRUE(ingest(a, body));
    ASSERT_TRUE(a.process->wait_for_stderr(R"(partition 0: its state \(\d+ bytes\) is over the NATS servers' max_payload \(4096 bytes\))", 20s).has_value()) << cluster.logs();
    ASSERT_TRUE(wait_until([&] { return figure(a, "crisisd_cluster_state_too_large") == 1; }, 10s)) << cluster.logs();
    EXPECT_GT(figure(a, "crisisd_cluster_state_largest_bytes"), 4096 - 512);
}

// A Jetstream source moved by SIGKILL connects with the cursor its last holder shared, not at the
// live tail (its SQLite file never saw the stream).
TEST_F(cluster_sources, a_jetstream_source_moved_by_a_kill_resumes_from_its_holders_cursor) {
    record_targets();
    auto& a = start_with_stream("replica-a", "format: jetstream", "/subscribe");
    auto& b = start_with_stream("replica-b", "format: jetstream", "/subscribe");
    ASSERT_TRUE(a.admin && b.admin) << logs();
    ASSERT_TRUE(wait_until([&] { return held(a) + held(b) == 1 && ws_.connection_count() == 1; }, 20s)) << logs();
    replica& holder = held(a) == 1 ? a : b;
    replica& other = &holder == &a ? b : a;
    const std::int64_t p1 = 1'790'000'000'000'000;
    auto post = [](std::int64_t time_us) {
        return R"({"did":"did:plc:a","time_us":)" + std::to_string(time_us) +
               R"(,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r)" +
               std::to_string(time_us) + R"(","rev":"v1","record":{"text":"acme is down"}}})";
    };
    for (int i = 0; i < 3; ++i) ws_.broadcast(post(p1 + i));
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") == 3; }, 20s)) << logs();
    ASSERT_TRUE(wait_until([&] { return figure(holder, "crisisd_cluster_source_cursor_writes_total{source=\"stream\"}") >= 1; }, 10s))
        << logs();

    cluster_harness::kill(holder);
    ASSERT_TRUE(wait_until([&] { return held(other) == 1 && ws_.connections_accepted() == 2; }, 20s)) << logs();
    const auto seen = targets();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].find("cursor="), std::string::npos) << seen[0];  // the first holder: live tail
    const std::string resumed = seen[1];
    // The shared position less the 5 s look-back: one of the three processed.
    const auto at = resumed.find("cursor=");
    ASSERT_NE(at, std::string::npos) << resumed;
    const std::int64_t cursor = std::stoll(resumed.substr(at + 7));
    EXPECT_GE(cursor, p1 - 5'000'000) << resumed;
    EXPECT_LE(cursor, p1 + 2 - 5'000'000) << resumed;
}

// --- An owner cut off from NATS ---

// Each replica reaches NATS only through its own proxy (the nodes do not advertise each other),
// so cutting a proxy cuts that replica off and nothing else.
class cluster_partition : public cluster_network {
protected:
    cluster_partition() : cluster_network(false) {}
    void SetUp() override {
        cluster_network::SetUp();
        if (IsSkipped()) return;
        pager_.start();
        proxies_[0] = std::make_unique<crisisd::testing::tcp_proxy>(cluster_.nats().client_port(0));
        proxies_[1] = std::make_unique<crisisd::testing::tcp_proxy>(cluster_.nats().client_port(1));
    }
    replica& start_behind(int proxy, const std::string& name) {
        replica_spec spec;
        spec.name = name;
        spec.partitions = partitions;
        spec.servers = {proxies_[static_cast<std::size_t>(proxy)]->url()};
        spec.body.with_statement = true;
        spec.body.pager_url = pager_.url("/hook");
        spec.body.brand_url = pager_.url("/brand");
        // A short lease keeps the test short; the rules between the figures hold (cluster/settings).
        spec.leases = "ttl: 4s, renew_interval: 500ms, safety_margin: 1s";
        return cluster_.start_replica(spec);
    }
    std::size_t received(const std::string& target) const {
        std::size_t n = 0;
        for (const auto& r : pager_.requests())
            if (r.target == target) ++n;
        return n;
    }

    crisisd::testing::http_receiver pager_;
    std::array<std::unique_ptr<crisisd::testing::tcp_proxy>, 2> proxies_;
};

TEST_F(cluster_partition, an_owner_cut_off_from_nats_stops_sending_and_a_standby_posts_its_statement_once) {
    auto& a = start_behind(0, "replica-a");
    auto& b = start_behind(1, "replica-b");
    ASSERT_TRUE(a.admin && b.admin && a.ingest && b.ingest) << logs();
    ASSERT_TRUE(cluster_.wait_split(partitions, 20s)) << logs();
    const int key_partition = crisisd::cluster::partition_of("acme-outage", "acme", partitions);
    const auto series = crisisd::testing::partition_series(key_partition);
    replica* owner_p = cluster_.owner_of(key_partition);
    ASSERT_NE(owner_p, nullptr) << logs();
    replica& owner = *owner_p;
    replica& standby = &owner == &a ? b : a;
    const int owner_proxy = &owner == &a ? 0 : 1;

    // The key fires on its owner: one page; the statement's 5 s veto wait starts.
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(ingest(i % 2 ? a : b, crisisd::testing::angry_mention("m" + std::to_string(i), i)));
    ASSERT_TRUE(pager_.wait_for(1, 15s)) << logs();
    ASSERT_EQ(received("/hook"), 1u);

    // Cut off, silently: its link goes quiet and no close reaches either end, so the owner sees no
    // disconnect, only requests that go unanswered. It falls silent before its lease can lapse,
    // the standby takes the partition.
    proxies_[static_cast<std::size_t>(owner_proxy)]->cut_silently();
    const auto cut = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return figure(owner, series) == 0; }, 10s)) << logs();
    const double silent_after = seconds_since(cut);
    EXPECT_LE(silent_after, 4.0) << "the owner acted " << silent_after << " s into a 4 s lease";
    ASSERT_TRUE(wait_until([&] { return figure(standby, series) == 1; }, 15s)) << logs();
    const double taken_after = seconds_since(cut);
    EXPECT_LE(taken_after, 10.0) << taken_after;
    // The cut-off owner let the partition go with its incident and the statement waiting in its
    // veto wait; the standby adopted them from the partition's state and posts the statement once.
    ASSERT_TRUE(owner.process
                    ->wait_for_stderr("partition " + std::to_string(key_partition) + " lost: its 1 incident", 15s)
                    .has_value())
        << logs();
    ASSERT_TRUE(wait_until([&] { return received("/brand") == 1; }, 20s)) << logs();

    // Back on NATS: its pings found the quiet link dead, it reconnects through the healed proxy,
    // takes a fair share again and sends nothing stale.
    const double acquired_before = figure(owner, "crisisd_cluster_lease_acquisitions_total");
    proxies_[static_cast<std::size_t>(owner_proxy)]->heal();
    ASSERT_TRUE(wait_until([&] { return figure(owner, "crisisd_cluster_nats_connected") == 1 &&
                                        figure(owner, "crisisd_cluster_lease_acquisitions_total") > acquired_before &&
                                        figure(owner, "crisisd_cluster_partitions_owned") > 0; },
                           20s))
        << logs();
    ASSERT_TRUE(cluster_.wait_split(partitions, 15s)) << logs();
    // The stand-in saw the statement once: the returning owner sent nothing of what it had let go.
    // The page went out at least once (a page delivered just before the cut may be sent again by
    // the standby if its delivered mark had not reached the bucket).
    EXPECT_EQ(received("/brand"), 1u);
    EXPECT_GE(received("/hook"), 1u);
}

// --- A NATS node killed ---

TEST_F(cluster_network, a_nats_node_killed_mid_stream_loses_nothing_and_the_key_pages_once) {
    std::array<replica*, 3> fronts{};
    start_three_fronts(fronts);
    ASSERT_FALSE(HasFailure());
    int distinct = 0;
    auto send = [&](int from, int to, bool angry) {
        for (int i = from; i < to; ++i, ++distinct) {
            const auto id = (angry ? "m" : "u") + std::to_string(i);
            ASSERT_TRUE(ingest(*fronts[static_cast<std::size_t>(i % 3)],
                               angry ? crisisd::testing::angry_mention(id, i) : crisisd::testing::unrelated_mention(id, i)))
                << logs();
        }
    };
    send(0, 30, false);
    // The node leading the mention stream goes: the stream elects a new leader, clients move.
    std::string leader = cluster_.nats().stream_leader("crisisd_mentions", 0);
    int victim = 0;
    for (int i = 0; i < crisisd::testing::nats_cluster::size; ++i)
        if (crisisd::testing::nats_cluster::node_name(i) == leader) victim = i;
    cluster_.nats().kill_node(victim);
    send(30, 60, false);
    // The key's ten authors come once the cluster has settled on two nodes. While the bucket
    // elects a leader, renewals can go unanswered past the deadline and partitions move; a key
    // whose mentions straddle such a move is detected afresh by its new owner (a partition's
    // detector state does not move with its lease yet), so it would not reach ten authors.
    // Settled: what was sent after the kill is counted (the stream has a leader), every replica
    // renewed its leases within the last renewal or two (the bucket has one), the split is whole.
    // Counting what was sent around the kill can take over 20 s: each partition's consumer is made
    // again once the stream has a new leader, and some of those requests time out for a while
    // (noted as not understood yet); what this test holds to is that nothing is lost.
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") >= distinct; }, 60s))
        << cluster_.total("crisisd_mentions_processed_total") << " of " << distinct << "\n"
        << logs();
    ASSERT_TRUE(wait_until([&] {
        for (auto* r : fronts)
            if (figure(*r, "crisisd_cluster_lease_remaining_seconds") < 3) return false;
        return true;
    }, 20s)) << logs();
    ASSERT_TRUE(cluster_.wait_split(partitions, 20s)) << logs();
    send(0, 10, true);
    ASSERT_FALSE(HasFailure());
    // Each mention is counted by its own partition; the key's partition, whose consumer may still
    // be being made again (see above), can take longer to see the ten authors.
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") >= distinct; }, 60s))
        << cluster_.total("crisisd_mentions_processed_total") << " of " << distinct << "\n"
        << logs();
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_incidents_opened_total{rule=\"acme-outage\"}") >= 1; }, 60s))
        << logs();
    std::size_t pages = 0;
    ASSERT_TRUE(wait_until([&] {
        pages = 0;
        for (auto* r : fronts) pages += crisisd::testing::lines_in(r->folder / "pages.jsonl");
        return pages >= 1;
    }, 30s)) << logs();
    EXPECT_EQ(cluster_.total("crisisd_mentions_processed_total"), distinct);
    EXPECT_EQ(cluster_.total("crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_EQ(pages, 1u);
    EXPECT_EQ(cluster_.total("crisisd_cluster_publish_dropped_total"), 0);
}

// --- Load sharing ---

TEST_F(cluster_network, three_fronts_fed_one_stream_round_robin_each_count_a_share_and_together_the_whole) {
    std::array<replica*, 3> fronts{};
    start_three_fronts(fronts);
    ASSERT_FALSE(HasFailure());
    constexpr int total = 3000, batch = 100;
    for (int start = 0, n = 0; start < total; start += batch, ++n) {
        std::string body;
        for (int i = start; i < start + batch; ++i)
            body += i % 7 == 0 ? crisisd::testing::angry_mention("m" + std::to_string(i), i)
                               : crisisd::testing::unrelated_mention("u" + std::to_string(i), i);
        ASSERT_TRUE(ingest(*fronts[static_cast<std::size_t>(n % 3)], body)) << logs();
    }
    ASSERT_TRUE(wait_until([&] { return cluster_.total("crisisd_mentions_processed_total") >= total; }, 20s))
        << cluster_.total("crisisd_mentions_processed_total") << "\n"
        << logs();
    EXPECT_EQ(cluster_.total("crisisd_mentions_processed_total"), total);
    for (auto* r : fronts) {
        const double share = figure(*r, "crisisd_mentions_processed_total") / total;
        EXPECT_GT(share, 0.0) << r->name;
        EXPECT_LE(share, 0.6) << r->name << " counted " << share * 100 << " %";
    }
}

}  // namespace
