// The spine end to end: a real websocket server streams a scripted spike into the real crisisd
// binary, which must open exactly one incident, page a real HTTP receiver with the expected
// JSON, post the statement, count bad input without losing the stream, and resolve the
// incident when the storm is over.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/json.hpp>

#include "fakes/http_receiver.hpp"
#include "stream_fixture.hpp"

using namespace std::chrono_literals;
using crisisd::testing::admin_get;
using crisisd::testing::approved_statement;
using crisisd::testing::child_process;
using crisisd::testing::crisisd_run;
using crisisd::testing::http_get;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

std::vector<boost::json::object> bodies(const std::vector<crisisd::testing::recorded_request>& reqs,
                                        const std::string& target) {
    std::vector<boost::json::object> out;
    for (const auto& r : reqs)
        if (r.target == target) out.push_back(boost::json::parse(r.body).as_object());
    return out;
}

class spine : public crisisd::testing::stream_fixture {
protected:
    void SetUp() override {
        stream_fixture::SetUp();
        receiver_.start();
        crisisd::testing::write_config(dir_, R"(
sources:
  - name: stream
    type: websocket
    url: ")" + stream_url() + R"("
    trusted: true  # its authors count as themselves (generic JSON from our own producer)
    max_message_bytes: 4096
    reconnect: { initial: 100ms, max: 500ms }
channels:
  - { name: pager, type: webhook, url: ")" + receiver_.url("/hook") + R"(" }
  - { name: brand, type: webhook, url: ")" + receiver_.url("/brand") + R"(" }
rules:
  - name: acme-outage
    match: { keywords: ["acme", "#acme"] }
    group_by: topic
    window: 4s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [negative_count >= 8, unique_authors >= 5, negative_ratio >= 0.6, volume_ratio >= 4] }
    clear_when: { all: [count < 1], for: 1s }
    severity: critical
    playbook: page-and-post
playbooks:
  - name: page-and-post
    steps:
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: auto }
    on_resolve:
      - notify: [pager]
statements:
)" + approved_statement("holding", "We know about the {topic} outage and are working on it."));
    }
    void TearDown() override {
        receiver_.stop();
        stream_fixture::TearDown();
    }

    crisisd::testing::http_receiver receiver_;
};

}  // namespace

TEST_F(spine, opens_one_incident_pages_posts_and_resolves) {
    child_process d(crisisd_run(dir_));
    const auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();

    int n = 0;
    ws_.broadcast(crisisd::testing::mention_json(++n, "@ann", "Ordering a new acme router today."));
    ws_.broadcast(crisisd::testing::mention_json(++n, "@bob", "acme support was friendly, thanks!"));
    // Bad input: each is counted and skipped; the stream keeps flowing.
    ws_.broadcast(R"({"id":"broken","text":"unterminated)");
    ws_.broadcast_binary("{\"id\":\"bad-utf8\",\"text\":\"acme \xC3\x28 down\"}");
    ws_.broadcast(R"({"id":"huge","text":")" + std::string(5000, 'x') + R"("})");
    const char* complaints[] = {"acme outage again, this is terrible and awful!",
                                "#acme down for hours. Horrible service, so angry.",
                                "acme is broken again, worst provider ever. Disgusting.",
                                "No internet from acme, this is a disaster!!"};
    for (int i = 0; i < 12; ++i) ws_.broadcast(crisisd::testing::mention_json(++n, "@angry" + std::to_string(i % 9), complaints[i % 4]));

    ASSERT_TRUE(receiver_.wait_for(2, 15s)) << d.stderr_text();
    // More complaints while it is open: still one incident.
    for (int i = 0; i < 4; ++i) ws_.broadcast(crisisd::testing::mention_json(++n, "@late" + std::to_string(i), complaints[i % 4]));

    auto pages = bodies(receiver_.requests(), "/hook");
    ASSERT_GE(pages.size(), 1u);
    const auto& page = pages.front();
    EXPECT_EQ(page.at("kind").as_string(), "notify");
    EXPECT_EQ(page.at("event").as_string(), "opened");
    const auto& inc = page.at("incident").as_object();
    EXPECT_EQ(inc.at("id").as_int64(), 1);
    EXPECT_EQ(inc.at("rule").as_string(), "acme-outage");
    EXPECT_EQ(inc.at("key").as_string(), "acme");
    EXPECT_EQ(inc.at("severity").as_string(), "critical");
    EXPECT_GE(inc.at("evidence").at("negative_count").to_number<double>(), 8);
    EXPECT_GE(inc.at("evidence").at("unique_authors").to_number<double>(), 5);
    EXPECT_EQ(page.at("idempotency_key").as_string(), "1/open/0/pager");

    auto posts = bodies(receiver_.requests(), "/brand");
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].at("kind").as_string(), "statement");
    EXPECT_EQ(posts[0].at("text").as_string(), "We know about the acme outage and are working on it.");
    for (const auto& r : receiver_.requests()) {
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        EXPECT_FALSE(r.header("Idempotency-Key").empty());
    }

    // Calm: nothing arrives, the window empties, the incident resolves and on-call hears it.
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& b : bodies(receiver_.requests(), "/hook"))
                if (b.at("event").as_string() == "resolved") return true;
            return false;
        },
        20s))
        << d.stderr_text();

    auto incidents = boost::json::parse(admin_get(admin, "/api/v1/incidents")).as_object();
    const auto& list = incidents.at("incidents").as_array();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].at("state").as_string(), "resolved");
    EXPECT_EQ(bodies(receiver_.requests(), "/brand").size(), 1u);

    auto metrics = admin_get(admin, "/metrics");
    EXPECT_EQ(metric(metrics, R"(crisisd_mentions_rejected_total{reason="malformed_json",source="stream"})"), 1) << metrics;
    EXPECT_EQ(metric(metrics, R"(crisisd_mentions_rejected_total{reason="invalid_utf8",source="stream"})"), 1) << metrics;
    EXPECT_EQ(metric(metrics, R"(crisisd_mentions_rejected_total{reason="oversized",source="stream"})"), 1) << metrics;
    EXPECT_EQ(metric(metrics, "crisisd_mentions_processed_total"), n) << metrics;
    EXPECT_EQ(metric(metrics, R"(crisisd_incidents_opened_total{rule="acme-outage"})"), 1) << metrics;
    EXPECT_EQ(metric(metrics, R"(crisisd_source_connected{source="stream"})"), 1) << metrics;
    EXPECT_EQ(metric(metrics, "crisisd_outbox_pending"), 0) << metrics;

    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// A full disk must not hold the page back (issue 13's storm: page p99 29 s while it was full).
// Pages are at-least-once, so one the database cannot record goes out from memory; the
// statement beside it is public and waits until it is recorded; once the disk takes writes, the
// page is recorded as sent and not sent again.
TEST_F(spine, a_state_database_that_refuses_writes_sends_the_page_from_memory_and_holds_the_statement) {
    child_process d(crisisd_run(dir_));
    const auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();

    // The disk refuses: a file size limit on the running daemon below where SQLite writes, so
    // every write fails with EFBIG, as on a full disk.
    rlimit tiny{4096, RLIM_INFINITY}, lifted{RLIM_INFINITY, RLIM_INFINITY};
    ASSERT_EQ(::prlimit(d.pid(), RLIMIT_FSIZE, &tiny, nullptr), 0);
    int n = 0;
    ws_.broadcast(crisisd::testing::mention_json(++n, "@ann", "Ordering a new acme router today."));
    const char* complaints[] = {"acme outage again, this is terrible and awful!",
                                "#acme down for hours. Horrible service, so angry.",
                                "acme is broken again, worst provider ever. Disgusting."};
    for (int i = 0; i < 12; ++i)
        ws_.broadcast(crisisd::testing::mention_json(++n, "@angry" + std::to_string(i % 9), complaints[i % 3]));
    ASSERT_TRUE(receiver_.wait_for(1, 15s)) << "the page should go out while the disk is full\n" << d.stderr_text();
    EXPECT_GE(metric(admin_get(admin, "/metrics"), "crisisd_outbox_write_errors_total"), 1);
    EXPECT_NE(http_get(admin, "/healthz").find("the state database refuses writes"), std::string::npos);
    auto pages = bodies(receiver_.requests(), "/hook");
    ASSERT_EQ(pages.size(), 1u);
    EXPECT_EQ(pages[0].at("idempotency_key").as_string(), "1/open/0/pager");
    EXPECT_TRUE(bodies(receiver_.requests(), "/brand").empty()) << "a statement is never posted before it is recorded";

    // Space again: the statement is recorded and posted; the page is recorded as sent, and the
    // outbox empties without sending it a second time.
    ASSERT_EQ(::prlimit(d.pid(), RLIMIT_FSIZE, &lifted, nullptr), 0);
    ASSERT_TRUE(wait_until([&] { return bodies(receiver_.requests(), "/brand").size() == 1; }, 15s)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return http_get(admin, "/healthz") == "ok\n"; }, 10s)) << http_get(admin, "/healthz");
    EXPECT_TRUE(wait_until([&] { return metric(admin_get(admin, "/metrics"), "crisisd_outbox_pending") == 0; }, 10s));
    EXPECT_EQ(bodies(receiver_.requests(), "/hook").size(), 1u) << "the page went out twice";
    EXPECT_EQ(bodies(receiver_.requests(), "/brand").size(), 1u);
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(spine, keeps_the_stream_after_the_server_drops_it) {
    child_process d(crisisd_run(dir_));
    const auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    ws_.broadcast(crisisd::testing::mention_json(1, "@a", "acme is fine"));
    ASSERT_TRUE(wait_until([&] { return metric(admin_get(admin, "/metrics"), "crisisd_mentions_processed_total") == 1; },
                           10s));
    ws_.close_all();
    ASSERT_TRUE(wait_until([&] { return ws_.connections_accepted() >= 2 && ws_.connection_count() == 1; }, 10s))
        << d.stderr_text();
    ws_.broadcast(crisisd::testing::mention_json(2, "@b", "acme is fine again"));
    EXPECT_TRUE(wait_until([&] { return metric(admin_get(admin, "/metrics"), "crisisd_mentions_processed_total") == 2; },
                           10s));
    auto metrics = admin_get(admin, "/metrics");
    EXPECT_GE(metric(metrics, R"(crisisd_source_reconnects_total{source="stream"})"), 1) << metrics;
    EXPECT_EQ(d.terminate(15s), 0);
}
