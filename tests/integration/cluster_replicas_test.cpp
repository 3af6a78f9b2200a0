// Issue 15 through the real binary: crisisd replicas on a real three-node NATS cluster (JetStream,
// R3), every process started by the test on free loopback ports: the partitions split fairly, a
// SIGKILLed replica's share moves to the survivor within 10 s, a replica stopped with SIGTERM
// hands its share over at once (these with the lease diagnostic, CRISISD_CLUSTER_PREVIEW=leases,
// which sends nothing), and the clustered runtime loses nothing when a key's owner dies: mentions
// counted once, the key paged, its statement posted once after the veto wait.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "cluster_support.hpp"
#include "cluster/mention_stream.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::cluster_harness;
using crisisd::testing::figure;
using crisisd::testing::lines_in;
using crisisd::testing::replica;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 8;

// Replicas on the shared harness (cluster_support.hpp), whose start() returns only once the
// three NATS nodes can place a three-replica stream: a replica started before that exits at
// once ("no suitable peers for placement"), which is how this file's tests failed now and then.
class cluster_replicas : public ::testing::Test {
protected:
    void SetUp() override {
        if (!cluster_.available()) GTEST_SKIP() << "nats-server is not installed";
        std::string why;
        ASSERT_TRUE(cluster_.start(why)) << why;
    }

    // `mode` "leases": the lease diagnostic, with no sources, rules or channels; "": the
    // clustered runtime with the harness's standard body (its statement on `with_statement`).
    replica& start_replica(const std::string& name, const std::string& mode = "leases", bool with_statement = false,
                           const std::string& name_space = "") {
        crisisd::testing::replica_spec spec;
        spec.name = name;
        spec.mode = mode;
        spec.name_space = name_space;
        spec.partitions = partitions;
        if (mode == "leases") {
            spec.config = "";
            spec.has_ingest = false;
        }
        spec.body.with_statement = with_statement;
        auto& r = cluster_.start_replica(spec);
        EXPECT_NE(r.admin, 0) << r.process->stderr_text();
        if (spec.has_ingest) {
            EXPECT_NE(r.ingest, 0) << r.process->stderr_text();
        }
        return r;
    }

    // The key's partition (rule acme-outage, key acme) and its ownership series in /metrics.
    static int key_partition() { return crisisd::cluster::partition_of("acme-outage", "acme", partitions); }
    static std::string key_series() { return crisisd::testing::partition_series(key_partition()); }

    // Two replicas of the clustered runtime (the statement in their playbook when asked), each
    // owning half the partitions: the owner of the key's partition, then the other.
    std::pair<replica*, replica*> two_replicas(bool with_statement) {
        auto& a = start_replica("replica-a", "", with_statement);
        auto& b = start_replica("replica-b", "", with_statement);
        if (HasFailure()) return {nullptr, nullptr};
        if (!wait_until([&] { return owned(a) == partitions / 2 && owned(b) == partitions / 2; }, 30s)) {
            ADD_FAILURE() << "the partitions did not split\n" << logs();
            return {nullptr, nullptr};
        }
        replica& owner = figure(a, key_series()) == 1 ? a : b;
        return {&owner, &owner == &a ? &b : &a};
    }

    // The key's ten authors, sent to both fronts; true once the key's owner paged.
    bool page_the_key(const replica& owner, const replica& other) {
        for (int i = 1; i <= 10; ++i) ingest(i % 2 ? owner : other, angry(i));
        return !HasFailure() && wait_until([&] { return lines_in(owner.folder / "pages.jsonl") == 1; }, 30s);
    }

    static double owned(const replica& r) { return cluster_harness::owned(r); }
    double total(const std::string& series) const { return cluster_.total(series); }
    static void ingest(const replica& r, const std::string& body) { ASSERT_TRUE(crisisd::testing::ingest(r, body)); }
    static std::string angry(int n) { return crisisd::testing::angry_mention("m" + std::to_string(n), n); }
    static std::string unrelated(int n) { return crisisd::testing::unrelated_mention("u" + std::to_string(n), n); }
    std::string logs() const { return cluster_.logs(); }

    cluster_harness cluster_{"crisisd-replicas"};
};

TEST_F(cluster_replicas, two_replicas_split_the_partitions_and_a_killed_ones_share_moves_within_ten_seconds) {
    auto& a = start_replica("replica-a");
    auto& b = start_replica("replica-b");
    ASSERT_FALSE(HasFailure());
    // The preview says so in its log: it holds leases and sends nothing.
    EXPECT_TRUE(a.process->wait_for_stderr("lease preview", 5s).has_value());
    ASSERT_TRUE(wait_until([&] { return owned(a) == partitions / 2 && owned(b) == partitions / 2; }, 30s))
        << "a=" << owned(a) << " b=" << owned(b) << "\n"
        << logs();
    EXPECT_EQ(figure(a, "crisisd_cluster_members"), 2);
    EXPECT_EQ(figure(a, "crisisd_cluster_nats_connected"), 1);
    EXPECT_GT(figure(b, "crisisd_cluster_lease_remaining_seconds"), 0);
    const double taken_before = figure(b, "crisisd_cluster_lease_acquisitions_total");

    cluster_harness::kill(a);
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return owned(b) == partitions; }, 20s)) << logs();
    const auto took = std::chrono::steady_clock::now() - killed;
    EXPECT_LE(took, 10s) << std::chrono::duration<double>(took).count() << " s";
    EXPECT_EQ(figure(b, "crisisd_cluster_lease_acquisitions_total"), taken_before + partitions / 2);
    EXPECT_EQ(figure(b, "crisisd_cluster_leases_lost_total"), 0);
    EXPECT_TRUE(b.process->wait_for_stderr("acquired partition", 1s).has_value());
}

TEST_F(cluster_replicas, a_replica_stopped_with_sigterm_releases_its_share_to_the_survivor) {
    auto& a = start_replica("replica-a");
    auto& b = start_replica("replica-b");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return owned(a) == partitions / 2 && owned(b) == partitions / 2; }, 30s))
        << logs();
    const auto exit_code = cluster_harness::stop(a);
    ASSERT_TRUE(exit_code.has_value()) << logs();
    EXPECT_EQ(*exit_code, 0) << logs();
    EXPECT_TRUE(a.process->wait_for_stderr("released every partition lease", 1s).has_value()) << logs();
    ASSERT_TRUE(wait_until([&] { return owned(b) == partitions; }, 20s)) << logs();
}

}  // namespace

// The clustered runtime: mentions sent to any replica, some to all three, are counted once
// across the cluster (each on its home partition's owner), and the key's ten authors, spread
// over three fronts, open one incident on the key's owner, which pages once.
// Two clusters on one NATS system, told apart by `cluster.namespace` (staging beside production):
// each replica holds every partition of its own cluster instead of splitting them with the other
// cluster's replica, and only the cluster the mentions were sent to counts them and pages. Without
// namespaces the two would split the partitions (the test above), and each would process the
// other's mentions under its own rules and channels.
TEST_F(cluster_replicas, clusters_in_different_namespaces_on_one_nats_stay_apart) {
    auto& production = start_replica("replica-a", "", false, "production");
    auto& staging = start_replica("replica-b", "", false, "staging");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return owned(production) == partitions && owned(staging) == partitions; }, 30s))
        << owned(production) << " and " << owned(staging) << " partitions owned\n"
        << logs();
    for (int i = 1; i <= 10; ++i) ingest(production, angry(i));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return lines_in(production.folder / "pages.jsonl") == 1; }, 30s)) << logs();
    // Each mention is counted by its own partition, which may come after the key's page.
    ASSERT_TRUE(wait_until([&] { return figure(production, "crisisd_mentions_processed_total") == 10; }, 30s))
        << figure(production, "crisisd_mentions_processed_total") << "\n"
        << logs();
    // Every mention went through the production cluster's stream and was taken from it: had the
    // staging replica shared that stream, it would have had them too.
    EXPECT_EQ(std::max(0.0, figure(staging, "crisisd_mentions_processed_total")), 0);
    EXPECT_EQ(lines_in(staging.folder / "pages.jsonl"), 0u);
    EXPECT_EQ(owned(production) + owned(staging), 2 * partitions);
}

TEST_F(cluster_replicas, mentions_sent_to_any_replica_are_counted_once_and_a_firing_key_pages_once) {
    auto& a = start_replica("replica-a", "");
    auto& b = start_replica("replica-b", "");
    auto& c = start_replica("replica-c", "");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return owned(a) + owned(b) + owned(c) == partitions && owned(a) > 0 && owned(b) > 0 &&
                                        owned(c) > 0; },
                           30s))
        << logs();
    const std::array<replica*, 3> fronts{&a, &b, &c};
    int distinct = 0;
    for (int i = 1; i <= 12; ++i, ++distinct) {
        // Every fourth mention reaches all three fronts: a client retrying elsewhere.
        if (i % 4 == 0)
            for (auto* f : fronts) ingest(*f, angry(i));
        else
            ingest(*fronts[static_cast<std::size_t>(i % 3)], angry(i));
    }
    for (int i = 1; i <= 9; ++i, ++distinct) ingest(*fronts[static_cast<std::size_t>(i % 3)], unrelated(i));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return total("crisisd_mentions_processed_total") >= distinct; }, 30s))
        << total("crisisd_mentions_processed_total") << "\n"
        << logs();
    auto pages = [&] { return lines_in(a.folder / "pages.jsonl") + lines_in(b.folder / "pages.jsonl") +
                              lines_in(c.folder / "pages.jsonl"); };
    ASSERT_TRUE(wait_until([&] { return pages() >= 1; }, 30s)) << logs();
    EXPECT_EQ(total("crisisd_mentions_processed_total"), distinct);
    EXPECT_EQ(total("crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_EQ(pages(), 1u);
    // Every received copy was published (duplicates too: the stream drops them), none lost.
    EXPECT_GE(total("crisisd_cluster_published_total"), distinct);
    EXPECT_EQ(total("crisisd_cluster_publish_dropped_total"), 0);
}

// SIGKILL of the key's owner: its partitions move to a survivor within 10 s, and mentions the
// fronts took while the partition had no owner wait in the stream for the next one, which pages
// once. (The kill comes before the owner saw any of the key's mentions: a partition's incidents
// and outbox do not yet move with it, see cluster_intake.hpp.)
TEST_F(cluster_replicas, when_the_keys_owner_is_killed_a_survivor_takes_its_partition_and_pages_once) {
    auto& a = start_replica("replica-a", "");
    auto& b = start_replica("replica-b", "");
    auto& c = start_replica("replica-c", "");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return owned(a) + owned(b) + owned(c) == partitions && owned(a) > 0 && owned(b) > 0 &&
                                        owned(c) > 0; },
                           30s))
        << logs();
    const std::string series = key_series();
    std::vector<replica*> all{&a, &b, &c};
    auto owner_it = std::find_if(all.begin(), all.end(), [&](replica* r) { return figure(*r, series) == 1; });
    ASSERT_NE(owner_it, all.end()) << logs();
    replica& owner = **owner_it;
    all.erase(owner_it);
    replica& s1 = *all[0];
    replica& s2 = *all[1];

    int distinct = 0;
    for (int i = 1; i <= 9; ++i, ++distinct) ingest(i % 3 == 0 ? owner : (i % 3 == 1 ? s1 : s2), unrelated(i));
    ASSERT_TRUE(wait_until([&] { return total("crisisd_mentions_processed_total") == distinct; }, 30s)) << logs();
    const double counted_by_owner = std::max(0.0, figure(owner, "crisisd_mentions_processed_total"));

    cluster_harness::kill(owner);
    const auto killed = std::chrono::steady_clock::now();
    const std::string dead = owner.name;
    // A dead replica answers nothing: the sums are the survivors' and what the owner had counted.
    auto survivors_total = [&](const std::string& what) {
        return std::max(0.0, figure(s1, what)) + std::max(0.0, figure(s2, what));
    };
    // The fronts take the key's mentions while its partition has no owner.
    for (int i = 1; i <= 12; ++i, ++distinct) ingest(i % 2 ? s1 : s2, angry(i));
    ASSERT_TRUE(wait_until([&] { return figure(s1, series) == 1 || figure(s2, series) == 1; }, 20s)) << logs();
    const auto took = std::chrono::steady_clock::now() - killed;
    EXPECT_LE(took, 10s) << std::chrono::duration<double>(took).count() << " s";

    auto pages = [&] { return lines_in(s1.folder / "pages.jsonl") + lines_in(s2.folder / "pages.jsonl"); };
    ASSERT_TRUE(wait_until([&] { return pages() >= 1; }, 30s)) << logs();
    ASSERT_TRUE(wait_until(
        [&] { return counted_by_owner + survivors_total("crisisd_mentions_processed_total") >= distinct; }, 30s))
        << logs();
    EXPECT_EQ(counted_by_owner + survivors_total("crisisd_mentions_processed_total"), distinct);
    EXPECT_EQ(survivors_total("crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_EQ(pages(), 1u);
    EXPECT_EQ(lines_in(owner.folder / "pages.jsonl"), 0u) << dead;
    // /metrics tells ops a failover happened and that the new owner is not behind its stream.
    EXPECT_GE(survivors_total("crisisd_cluster_takeovers_total"), 1);
    const std::string lag = "crisisd_cluster_stream_lag{partition=\"" + std::to_string(key_partition()) + "\"}";
    ASSERT_TRUE(wait_until([&] { return figure(s1, lag) == 0 && figure(s2, lag) == 0; }, 10s)) << logs();
}

// Fencing of a returning owner: the key's owner opens the incident and pages, then freezes
// (SIGSTOP: alive, silent, its sockets open) while its statement's veto wait runs. A survivor
// takes the partition over with its state and posts the statement once the wait is over; when
// the old owner wakes, its statement is due too, and it must not post it: its lease ran out
// while it was frozen.
TEST_F(cluster_replicas, an_owner_frozen_past_its_lease_posts_nothing_when_it_wakes) {
    const auto [key_owner, key_other] = two_replicas(true);
    ASSERT_TRUE(key_owner && page_the_key(*key_owner, *key_other)) << logs();
    replica& owner = *key_owner;
    replica& other = *key_other;
    const int kp = key_partition();

    owner.process->signal(SIGSTOP);
    const bool taken = wait_until([&] { return figure(other, key_series()) == 1; }, 20s);
    ASSERT_TRUE(taken) << logs();
    // The survivor carries the incident on: its statement goes out once the wait is over.
    ASSERT_TRUE(wait_until([&] { return lines_in(other.folder / "brand.jsonl") == 1; }, 20s)) << logs();
    owner.process->signal(SIGCONT);
    // Awake, it learns that the partition moved, and its copy of the incident goes.
    EXPECT_TRUE(owner.process->wait_for_stderr("lost partition", 10s).has_value()) << logs();
    EXPECT_TRUE(owner.process->wait_for_stderr("partition " + std::to_string(kp) + " lost", 10s).has_value())
        << logs();
    EXPECT_EQ(lines_in(owner.folder / "brand.jsonl"), 0u);
    EXPECT_EQ(lines_in(other.folder / "brand.jsonl"), 1u);
    // Pages are at least once: the survivor pages again when the owner froze before the page's
    // delivery reached the partition's state.
    EXPECT_GE(lines_in(owner.folder / "pages.jsonl") + lines_in(other.folder / "pages.jsonl"), 1u);
}

// Issue 15, the takeover that loses nothing: the key's owner pages and is SIGKILLed while its
// statement's veto wait runs. The survivor adopts the partition's state from JetStream and posts
// the statement once, after the wait; the killed owner never posted it.
TEST_F(cluster_replicas, a_kill_during_the_veto_wait_leaves_the_statement_to_the_survivor_once) {
    const auto [key_owner, key_other] = two_replicas(true);
    ASSERT_TRUE(key_owner && page_the_key(*key_owner, *key_other)) << logs();
    replica& owner = *key_owner;
    replica& other = *key_other;
    const int kp = key_partition();
    const auto paged = std::chrono::steady_clock::now();

    cluster_harness::kill(owner);
    ASSERT_TRUE(wait_until([&] { return figure(other, key_series()) == 1; }, 20s)) << logs();
    ASSERT_TRUE(other.process->wait_for_stderr("partition " + std::to_string(kp) + " taken over: 1 incident",
                                               10s)
                    .has_value())
        << logs();
    ASSERT_TRUE(wait_until([&] { return lines_in(other.folder / "brand.jsonl") >= 1; }, 20s)) << logs();
    // Not before the 5 s wait the owner had started: the survivor kept its end.
    EXPECT_GE(std::chrono::steady_clock::now() - paged, 5s);
    EXPECT_EQ(lines_in(other.folder / "brand.jsonl"), 1u);
    EXPECT_EQ(lines_in(owner.folder / "brand.jsonl"), 0u);
    // The survivor adopted the incident; it opened none of its own.
    EXPECT_LT(figure(other, "crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_GE(lines_in(owner.folder / "pages.jsonl") + lines_in(other.folder / "pages.jsonl"), 1u);
}

// A kill mid-stream: five of the key's ten authors are counted by its owner, which is then
// SIGKILLed; the other five reach the survivor. The survivor adopts the owner's detector windows
// with the partition's state, so the tenth author opens the incident: the key pages once, and the
// owner's count plus the survivor's is every mention once.
TEST_F(cluster_replicas, a_kill_mid_stream_pages_the_key_once_and_counts_every_mention_once) {
    const auto [key_owner, key_other] = two_replicas(false);
    ASSERT_TRUE(key_owner);
    replica& owner = *key_owner;
    replica& other = *key_other;
    const std::string series = key_series();
    int distinct = 0;
    for (int i = 1; i <= 6; ++i, ++distinct) ingest(i % 2 ? owner : other, unrelated(i));
    for (int i = 1; i <= 5; ++i, ++distinct) ingest(i % 2 ? owner : other, angry(i));
    // The owner's count dies with it: read once everything sent so far is counted.
    ASSERT_TRUE(wait_until([&] { return total("crisisd_mentions_processed_total") == distinct; }, 30s)) << logs();
    const double counted_by_owner = std::max(0.0, figure(owner, "crisisd_mentions_processed_total"));

    cluster_harness::kill(owner);
    for (int i = 6; i <= 10; ++i, ++distinct) ingest(other, angry(i));
    ASSERT_TRUE(wait_until([&] { return figure(other, series) == 1; }, 20s)) << logs();
    ASSERT_TRUE(wait_until([&] { return lines_in(other.folder / "pages.jsonl") >= 1; }, 30s)) << logs();
    auto counted = [&] { return counted_by_owner + std::max(0.0, figure(other, "crisisd_mentions_processed_total")); };
    ASSERT_TRUE(wait_until([&] { return counted() >= distinct; }, 30s)) << logs();
    EXPECT_EQ(counted(), distinct);
    EXPECT_EQ(figure(other, "crisisd_incidents_opened_total{rule=\"acme-outage\"}"), 1);
    EXPECT_EQ(lines_in(other.folder / "pages.jsonl"), 1u);
    EXPECT_EQ(lines_in(owner.folder / "pages.jsonl"), 0u);
}
