// Issue 15 through the real binary: any replica's admin API shows and commands the whole cluster,
// and statement caps hold across partitions. Two crisisd replicas on a real three-node NATS
// cluster (JetStream, R3), every process started by the test on free loopback ports, in the
// partitions preview (CRISISD_CLUSTER_PREVIEW=partitions). With two partitions each replica owns
// one; each test picks rules whose keys fall on the partition it needs.
//
// The start-up is a minimal copy of cluster_replicas_test's until the shared cluster harness
// (cluster_support.hpp) lands.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "cluster/incident_ids.hpp"
#include "cluster/mention_stream.hpp"
#include "fakes/fake_apis.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "nats_cluster.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 2;
const std::string ingest_token = "cluster-api-test-ingest-token-0123456789abcdef";
const std::string peer_token = "cluster-api-test-peer-token-0123456789abcdef";

// A topic whose rule "<topic>-outage-<n>" keys (group_by topic: the key is the topic) fall on
// `partition`. (The suffix matters: FNV-1a's lowest bit is the parity of the bytes' lowest bits,
// so "<t>-outage" with key "<t>" lands on the same one of two partitions for every t.)
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

std::size_t lines_in(const fs::path& file) {
    std::ifstream in(file);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ++n;
    return n;
}

class cluster_api : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_.available()) GTEST_SKIP() << "nats-server is not installed";
        dir_ = crisisd::testing::make_temp_dir("crisisd-cluster-api");
        std::string why;
        ASSERT_TRUE(nats_.start(why)) << why;
        rules_.push_back(rule_on(0));
        rules_.push_back(rule_on(1, rules_));
        rules_.push_back(rule_on(1, rules_));
        for (const auto& r : rules_) ASSERT_FALSE(r.rule.empty());
    }
    void TearDown() override {
        for (auto& r : replicas_)
            if (r.process) {
                r.process->signal(SIGKILL);
                r.process->wait_exit(10s);
            }
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    struct replica {
        std::string name;
        fs::path folder;
        std::unique_ptr<child_process> process;
        std::uint16_t admin = 0;
        std::uint16_t ingest = 0;
    };

    // One rule per topic (a page when ten authors complain about it), optionally posting a
    // statement to `mastodon_url` (a channel capped at one statement an hour).
    std::string config(const fs::path& folder, const std::string& mastodon_url) {
        std::ofstream(folder / "ingest-token") << ingest_token;
        std::ofstream(folder / "peer-token") << peer_token;
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
        const auto folder = dir_ / name;
        fs::create_directories(folder);
        std::string servers;
        for (const auto& u : nats_.urls()) servers += (servers.empty() ? "\"" : ", \"") + u + "\"";
        std::ofstream out(folder / "crisisd.yaml");
        out << config(folder, mastodon_url) << "admin: { listen: \"127.0.0.1:0\", tokens_file: \""
            << crisisd::testing::write_admin_tokens(folder).string() << "\" }\n"
            << "storage: { path: \"" << (folder / "state.db").string() << "\" }\n"
            << "cluster:\n  name: " << name << "\n  partitions: " << partitions << "\n  nats: { servers: [" << servers
            << "] }\n  peer_token: \"${file:" << (folder / "peer-token").string() << "}\"\n";
        out.close();
        replica r;
        r.name = name;
        r.folder = folder;
        r.process = std::make_unique<child_process>(std::vector<std::string>{
            "/usr/bin/env", "CRISISD_CLUSTER_PREVIEW=partitions", CRISISD_BINARY, "run", "--config",
            (folder / "crisisd.yaml").string()});
        r.admin = r.process->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 30s);
        EXPECT_NE(r.admin, 0) << r.process->stderr_text();
        r.ingest = r.process->wait_for_port(R"(source ingest: HTTP ingest on .* \(port (\d+)\))", 5s);
        EXPECT_NE(r.ingest, 0) << r.process->stderr_text();
        replicas_.push_back(std::move(r));
        return replicas_.back();
    }

    static double figure(const replica& r, const std::string& series) { return metric(admin_get(r.admin, "/metrics"), series); }

    // Both replicas up, each owning one partition, each listing the other as a member that answers.
    void start_two(const std::string& mastodon_url = "") {
        start_replica("replica-a", mastodon_url);
        start_replica("replica-b", mastodon_url);
        ASSERT_FALSE(HasFailure());
        auto& a = replicas_[0];
        auto& b = replicas_[1];
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

    replica& owner_of(int partition) {
        const auto series = "crisisd_cluster_partition_owned{partition=\"" + std::to_string(partition) + "\"}";
        return figure(replicas_[0], series) == 1 ? replicas_[0] : replicas_[1];
    }
    replica& other_than(const replica& r) { return &r == &replicas_[0] ? replicas_[1] : replicas_[0]; }

    static void ingest(const replica& r, const std::string& body) {
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + std::to_string(r.ingest) + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.headers.emplace_back("Authorization", "Bearer " + ingest_token);
        req.body = body;
        auto res = crisisd::testing::run_sync(io, client.send(req));
        ASSERT_EQ(res.status, 202) << res.body;
    }
    // Ten authors complaining about `topic`: enough to open its incident.
    static std::string storm(const std::string& topic) {
        std::string body;
        for (int n = 1; n <= 10; ++n)
            body += R"({"id":")" + topic + std::to_string(n) + R"(","lang":"en","author":"@)" + topic + "user" +
                    std::to_string(n) + R"(","text":")" + topic + R"( is down again, this is terrible and awful!"})" + "\n";
        return body;
    }

    std::string logs() const {
        std::string out;
        for (const auto& r : replicas_)
            if (r.process) out += "--- " + r.name + "\n" + r.process->stderr_text();
        return out;
    }

    crisisd::testing::nats_cluster nats_;
    fs::path dir_;
    std::vector<keyed_rule> rules_;   // [0] keys on partition 0, [1] and [2] on partition 1
    std::deque<replica> replicas_;
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
    auto& a = replicas_[0];
    auto& b = replicas_[1];
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

}  // namespace
