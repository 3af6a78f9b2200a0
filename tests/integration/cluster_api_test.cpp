// Issue 15 through the real binary: any replica's admin API and live feed show and command the
// whole cluster, and statement caps hold across partitions. Two crisisd replicas on a real
// three-node NATS cluster (JetStream, R3), every process started by the test on free loopback
// ports (cluster_support.hpp). With two partitions each replica owns one; each test picks rules
// whose keys fall on the partition it needs.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "cluster/incident_ids.hpp"
#include "cluster/mention_stream.hpp"
#include "cluster_support.hpp"
#include "fakes/fake_apis.hpp"
#include "sse_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::cluster_harness;
using crisisd::testing::figure;
using crisisd::testing::lines_in;
using crisisd::testing::replica;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 2;
const std::string peer_token = "cluster-api-test-peer-token-0123456789abcdef";

// A topic whose rule "<topic>-outage-<n>" keys (group_by topic: the key is the topic) fall on
// `partition`.
struct keyed_rule {
    std::string rule;
    std::string topic;
};
keyed_rule rule_on(int partition, const std::vector<keyed_rule>& taken = {}) {
    for (std::string t : {"acme", "globex", "initech", "hooli", "umbrella"}) {
        if (std::any_of(taken.begin(), taken.end(), [&](const keyed_rule& k) { return k.topic == t; })) continue;
        for (int n = 0; n < 4; ++n) {
            auto rule = t + "-outage-" + std::to_string(n);
            if (crisisd::cluster::partition_of(rule, t, partitions) == partition) return {rule, t};
        }
    }
    return {};
}

class cluster_api : public ::testing::Test {
protected:
    void SetUp() override {
        if (!cluster_.available()) GTEST_SKIP() << "nats-server is not installed";
        std::string why;
        ASSERT_TRUE(cluster_.start(why)) << why;
        rules_.push_back(rule_on(0));
        rules_.push_back(rule_on(1, rules_));
        rules_.push_back(rule_on(1, rules_));
        for (const auto& r : rules_) ASSERT_FALSE(r.rule.empty());
    }

    // One rule per topic (a page when ten authors complain about it), optionally posting a
    // statement to `mastodon_url` (a channel capped at one statement an hour).
    std::string config(const fs::path& folder, const std::string& mastodon_url) {
        fs::create_directories(folder);
        std::ofstream(folder / "ingest-token") << crisisd::testing::cluster_ingest_token;
        std::ofstream(folder / "brand-token") << "brand-token";
        std::string out = R"(sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0", token: "${file:)" +
                          (folder / "ingest-token").string() + R"(}", trusted: true }
channels:
  - { name: pager, type: file, path: ")" + (folder / "pages.jsonl").string() + R"(" }
)";
        if (!mastodon_url.empty())
            out += R"(  - name: brand
    type: mastodon
    base_url: ")" + mastodon_url + R"("
    token: "${file:)" + (folder / "brand-token").string() + R"(}"
    statements_per_hour: 1
    retry: { initial: 50ms, max: 200ms }
)";
        out += "rules:\n";
        for (const auto& [rule, t] : rules_)
            out += "  - name: " + rule + "\n    match: { keywords: [\"" + t +
                   "\"] }\n    group_by: topic\n    window: 10m\n    baseline: 1h\n"
                   "    fire_when: { all: [unique_authors >= 10] }\n    clear_when: { all: [count < 1], for: 1h }\n"
                   "    severity: critical\n    playbook: outage\n";
        out += "playbooks:\n  - name: outage\n    steps:\n      - notify: [pager]\n";
        if (!mastodon_url.empty())
            out += "      - statement: { name: holding, channel: brand, approval: auto }\nstatements:\n" +
                   crisisd::testing::approved_statement("holding", "We know about the {topic} outage and are working on it.");
        return out;
    }

    replica& start_replica(const std::string& name, const std::string& mastodon_url = "") {
        crisisd::testing::replica_spec spec;
        spec.name = name;
        spec.partitions = partitions;
        spec.peer_token = peer_token;
        spec.config = config(cluster_.dir() / name, mastodon_url);
        auto& r = cluster_.start_replica(spec);
        EXPECT_NE(r.admin, 0) << r.process->stderr_text();
        EXPECT_NE(r.ingest, 0) << r.process->stderr_text();
        return r;
    }

    // Both replicas up, each owning one partition, each listing the other as a member that answers.
    void start_two(const std::string& mastodon_url = "") {
        start_replica("replica-a", mastodon_url);
        start_replica("replica-b", mastodon_url);
        ASSERT_FALSE(HasFailure());
        auto& a = replicas()[0];
        auto& b = replicas()[1];
        auto both_answer = [&](const replica& r) {
            json::error_code ec;
            auto v = json::parse(admin_get(r.admin, "/api/v1/incidents"), ec);
            return !ec && v.is_object() && v.as_object().contains("replicas") && v.at("replicas").as_array().size() == 2 &&
                   v.at("unanswered").as_array().empty();
        };
        ASSERT_TRUE(wait_until(
            [&] {
                return figure(a, "crisisd_cluster_partitions_owned") == 1 && figure(b, "crisisd_cluster_partitions_owned") == 1 &&
                       both_answer(a) && both_answer(b);
            },
            30s))
            << logs();
    }

    std::deque<replica>& replicas() { return cluster_.replicas(); }
    replica& owner_of(int partition) {
        auto* r = cluster_.owner_of(partition);
        return r ? *r : replicas()[0];
    }
    replica& other_than(const replica& r) { return &r == &replicas()[0] ? replicas()[1] : replicas()[0]; }

    static void ingest(const replica& r, const std::string& body) { ASSERT_TRUE(crisisd::testing::ingest(r, body)); }
    // Ten authors complaining about `topic`: enough to open its incident.
    static std::string storm(const std::string& topic) {
        std::string body;
        for (int n = 1; n <= 10; ++n)
            body += crisisd::testing::cluster_mention(topic + std::to_string(n), "@" + topic + "user" + std::to_string(n),
                                                      topic + " is down again, this is terrible and awful!");
        return body;
    }

    std::string logs() const { return cluster_.logs(); }

    cluster_harness cluster_{"crisisd-cluster-api"};
    std::vector<keyed_rule> rules_;   // [0] keys on partition 0, [1] and [2] on partition 1
};

// Entries of an incident's history written by forwarded commands ("<name> (via <replica>)").
std::size_t forwarded_entries(const json::value& incident, const std::string& via) {
    std::size_t n = 0;
    for (const auto& h : incident.at("history").as_array())
        if (std::string(h.at("who").as_string()).find("(via " + via + ")") != std::string::npos) ++n;
    return n;
}

TEST_F(cluster_api, any_replica_lists_the_whole_cluster_and_an_ack_reaches_the_owner_once) {
    start_two();
    ASSERT_FALSE(HasFailure());
    auto& owner = owner_of(1);
    auto& front = other_than(owner);
    ingest(front, storm(rules_[1].topic));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return lines_in(owner.folder / "pages.jsonl") == 1; }, 20s))
        << "owner " << owner.name << " pages at the front: " << lines_in(front.folder / "pages.jsonl") << "\n"
        << admin_get(owner.admin, "/metrics") << logs();

    // The front's list shows the owner's incident, says whose it is, and that both answered.
    auto list = json::parse(admin_get(front.admin, "/api/v1/incidents"));
    ASSERT_EQ(list.at("incidents").as_array().size(), 1u) << list;
    const auto& inc = list.at("incidents").as_array()[0];
    EXPECT_EQ(inc.at("replica").as_string(), owner.name);
    EXPECT_EQ(inc.at("rule").as_string(), rules_[1].rule);
    EXPECT_TRUE(list.at("unanswered").as_array().empty());
    const auto id = inc.at("id").to_number<std::uint64_t>();
    ASSERT_EQ(crisisd::cluster::partition_of_incident(id), 1);

    // Acknowledged through the front: the owner applies it, once, however often it is sent.
    // The front's directory is up to a round (1 s) behind the leases: until it has seen the
    // owner, it answers 503 "try again", as a console would be told.
    const auto path = "/api/v1/incidents/" + std::to_string(id) + "/ack";
    crisisd::net::http_response acked;
    ASSERT_TRUE(wait_until([&] { return (acked = admin_request(front.admin, "POST", path)).status != 503; }, 10s))
        << acked.body;
    ASSERT_EQ(acked.status, 200) << acked.body << logs();
    EXPECT_EQ(json::parse(acked.body).at("state").as_string(), "acknowledged");
    auto again = admin_request(front.admin, "POST", path);
    EXPECT_EQ(again.status, 200) << again.body;
    auto at_owner = json::parse(admin_get(owner.admin, "/api/v1/incidents/" + std::to_string(id)));
    EXPECT_EQ(at_owner.at("state").as_string(), "acknowledged");
    EXPECT_EQ(forwarded_entries(at_owner, front.name), 1u) << at_owner;
    // One incident read through the front is the owner's.
    auto through_front = json::parse(admin_get(front.admin, "/api/v1/incidents/" + std::to_string(id)));
    EXPECT_EQ(through_front.at("state").as_string(), "acknowledged");

    // The peer token opens the peer endpoints only, and a person's token never opens them.
    EXPECT_EQ(admin_request(owner.admin, "GET", "/api/v1/incidents", "", peer_token).status, 401);
    EXPECT_EQ(admin_request(owner.admin, "GET", "/api/v1/cluster/incidents").status, 401);
    EXPECT_EQ(admin_request(owner.admin, "GET", "/api/v1/cluster/incidents", "", peer_token).status, 200);
    // A forwarded command reaches only the owner: the front refuses one for a partition it lacks.
    auto misrouted = admin_request(front.admin, "POST", "/api/v1/cluster/incidents/" + std::to_string(id) + "/resolve",
                                   R"({"who":"Someone","via":"replica-x"})", peer_token);
    EXPECT_EQ(misrouted.status, 409) << misrouted.body;

    // A replica that stops answering is named, never left out silently.
    owner.process->signal(SIGSTOP);
    auto partial = json::parse(admin_get(front.admin, "/api/v1/incidents"));
    owner.process->signal(SIGCONT);
    ASSERT_EQ(partial.at("unanswered").as_array().size(), 1u) << partial;
    EXPECT_EQ(partial.at("unanswered").as_array()[0].at("name").as_string(), owner.name);
}

TEST_F(cluster_api, a_silence_set_on_one_replica_holds_on_the_owner_of_the_key) {
    start_two();
    ASSERT_FALSE(HasFailure());
    auto& owner = owner_of(1);
    auto& front = other_than(owner);
    const auto& silenced = rules_[1];
    auto r = admin_request(front.admin, "POST", "/api/v1/silences",
                           R"({"rule":")" + silenced.rule + R"(","key":")" + silenced.topic + R"(","duration":"1h"})");
    ASSERT_EQ(r.status, 200) << r.body << logs();
    auto answer = json::parse(r.body);
    EXPECT_EQ(answer.at("replicas").as_array().size(), 2u) << answer;
    EXPECT_TRUE(answer.at("unanswered").as_array().empty()) << answer;

    // The silenced key storms on the owner, then another of the owner's keys (same partition, so
    // processed after it, in stream order) storms too: once that one has paged, the silenced storm
    // has been worked through, and it opened nothing.
    const auto& control = rules_[2];
    ingest(front, storm(silenced.topic) + storm(control.topic));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return lines_in(owner.folder / "pages.jsonl") >= 1; }, 20s)) << logs();
    EXPECT_EQ(figure(owner, "crisisd_incidents_opened_total{rule=\"" + control.rule + "\"}"), 1);
    EXPECT_LE(figure(owner, "crisisd_incidents_opened_total{rule=\"" + silenced.rule + "\"}"), 0);
    EXPECT_EQ(lines_in(owner.folder / "pages.jsonl"), 1u);
    EXPECT_EQ(lines_in(front.folder / "pages.jsonl"), 0u);
    // The owner's audit says who set it and through which replica.
    const auto audit = admin_get(owner.admin, "/api/v1/audit");
    EXPECT_NE(audit.find("Integration Test (via " + front.name + ")"), std::string::npos) << audit;
}

TEST_F(cluster_api, two_partitions_on_two_replicas_post_one_statement_under_a_cap_of_one_an_hour) {
    crisisd::testing::fake_mastodon mastodon("brand-token");
    mastodon.start();
    start_two(mastodon.base_url());
    ASSERT_FALSE(HasFailure());
    auto& a = replicas()[0];
    auto& b = replicas()[1];
    ingest(a, storm(rules_[0].topic) + storm(rules_[1].topic));
    ASSERT_FALSE(HasFailure());
    // Both incidents page (one on each replica); one statement is posted, the other skipped by
    // the cluster's cap, as the single-node cap does (a dead letter saying why).
    auto skipped = [&] {
        return admin_get(a.admin, "/api/v1/dead-letters").find("across the cluster") != std::string::npos ||
               admin_get(b.admin, "/api/v1/dead-letters").find("across the cluster") != std::string::npos;
    };
    ASSERT_TRUE(wait_until([&] { return mastodon.statuses().size() >= 1 && skipped(); }, 20s))
        << mastodon.statuses().size() << "\n"
        << logs();
    EXPECT_EQ(lines_in(a.folder / "pages.jsonl") + lines_in(b.folder / "pages.jsonl"), 2u);
    EXPECT_EQ(mastodon.statuses().size(), 1u);
    EXPECT_EQ(mastodon.requests(), 1u);
}

// The renders of incident `id` in a feed's events, in the order they came: from "changes" events
// (of `replica` only, when given) and, with `lists`, from the live lists too.
std::vector<json::value> renders_of(const crisisd::testing::sse_client& feed, std::uint64_t id,
                                    const std::string& replica = "", bool lists = false) {
    std::vector<json::value> out;
    for (const auto& e : feed.events()) {
        if (e.name != "changes" && !(lists && e.name == "incidents")) continue;
        auto v = json::parse(e.data);
        if (e.name == "changes" && !replica.empty() && v.at("replica").as_string() != replica) continue;
        for (const auto& inc : v.at("incidents").as_array())
            if (inc.at("id").to_number<std::uint64_t>() == id) out.push_back(inc);
    }
    return out;
}

// The console's live feed shows the whole cluster: an incident opened on its owner appears on the
// other replica's feed, naming the owner, and so does every change of it, each once (the same
// renders the owner's own feed carries, none twice); a console connecting later gets it in the
// live list.
TEST_F(cluster_api, a_replicas_live_feed_carries_every_replicas_incidents_each_once) {
    start_two();
    ASSERT_FALSE(HasFailure());
    auto& owner = owner_of(1);
    auto& front = other_than(owner);
    crisisd::testing::sse_client at_front(front.admin, true);
    crisisd::testing::sse_client at_owner(owner.admin, true);
    ASSERT_TRUE(wait_until([&] { return at_front.count("incidents") == 1 && at_owner.count("incidents") == 1; }, 10s))
        << at_front.status_line() << " / " << at_owner.status_line();

    ingest(front, storm(rules_[1].topic));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return lines_in(owner.folder / "pages.jsonl") == 1; }, 20s)) << logs();
    const auto list = json::parse(admin_get(owner.admin, "/api/v1/incidents"));
    ASSERT_EQ(list.at("incidents").as_array().size(), 1u) << list;
    const auto id = list.at("incidents").at(0).at("id").to_number<std::uint64_t>();

    // Opened on the owner: on the front's feed, the owner's.
    ASSERT_TRUE(wait_until([&] { return !renders_of(at_front, id).empty(); }, 10s)) << logs();
    const auto first = renders_of(at_front, id).front();
    EXPECT_EQ(first.at("replica").as_string(), owner.name);
    EXPECT_EQ(first.at("rule").as_string(), rules_[1].rule);

    // Acknowledged on the owner itself: the front's console sees it.
    ASSERT_EQ(admin_request(owner.admin, "POST", "/api/v1/incidents/" + std::to_string(id) + "/ack").status, 200);
    auto acked = [](const std::vector<json::value>& renders) {
        return !renders.empty() && renders.back().at("state").as_string() == "acknowledged";
    };
    ASSERT_TRUE(wait_until([&] { return acked(renders_of(at_front, id)) && acked(renders_of(at_owner, id)); }, 10s))
        << logs();

    // Each once: every render the front relayed is one the owner's own feed carried, in its order,
    // and none came twice.
    const auto relayed = renders_of(at_front, id, owner.name);
    const auto own = renders_of(at_owner, id);
    for (std::size_t i = 1; i < relayed.size(); ++i) EXPECT_NE(relayed[i], relayed[i - 1]) << "render " << i;
    std::size_t j = 0;
    for (const auto& r : relayed) {
        while (j < own.size() && own[j] != r) ++j;
        EXPECT_LT(j, own.size()) << "relayed, never sent by the owner (or out of order): " << r;
        if (j < own.size()) ++j;
    }
    // The front's own changes events never carried the owner's incident.
    EXPECT_EQ(renders_of(at_front, id, front.name).size(), 0u);

    // A console connecting to the front now gets it in its live list, acknowledged.
    crisisd::testing::sse_client later(front.admin, true);
    ASSERT_TRUE(wait_until([&] { return later.count("incidents") == 1; }, 10s));
    const auto in_list = renders_of(later, id, "", true);
    ASSERT_EQ(in_list.size(), 1u) << later.events().front().data;
    EXPECT_EQ(in_list[0].at("replica").as_string(), owner.name);
    EXPECT_EQ(in_list[0].at("state").as_string(), "acknowledged");
}

}  // namespace
