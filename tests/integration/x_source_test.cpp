// The `type: x` source through the real binary against a stand-in X (tests/fakes/fake_x.hpp)
// on loopback: rule sync, keep-alives, stalls, 429, in-stream disconnects and backfill. Which
// documented X behaviour each test follows: tests/data/x/README.md.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "child_process.hpp"
#include "fakes/fake_x.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::fake_x;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

class x_source : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-x-source");
        std::ofstream(dir_ / "x-bearer") << "x-app-bearer\n";
        x_.start();
    }
    void TearDown() override {
        if (daemon_) {
            daemon_->signal(SIGTERM);
            daemon_->wait_exit(15s);
        }
        x_.stop();
        fs::remove_all(dir_);
    }

    // stall_timeout is short only where a test needs the stall: elsewhere a post pushed while
    // a stall reconnect is under way would be lost (the stand-in keeps backfill only on ask).
    void start(const std::string& extra = "", const std::string& stall = "10s") {
        std::ofstream(dir_ / "crisisd.yaml") << R"(sources:
  - name: x
    type: x
    url: ")" << x_.base_url() << R"("
    bearer_token: "${file:)" << (dir_ / "x-bearer").string() << R"(}"
    rules:
      - { value: "liwest OR @liwest", tag: isp }
      - { value: "liwest störung", tag: outage }
    stall_timeout: )" << stall << R"(
    reconnect: { initial: 100ms, max: 2s, network_step: 50ms, network_max: 200ms, rate_limited: 600ms }
)" << extra << R"(
channels:
  - { name: pager, type: file, path: ")" << (dir_ / "pages.jsonl").string() << R"(" }
rules:
  - name: outage
    match: { keywords: ["liwest"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 1000] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page
playbooks:
  - name: page
    steps:
      - notify: [pager]
admin: { listen: "127.0.0.1:0", tokens_file: ")" << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
        daemon_ = std::make_unique<child_process>(
            std::vector<std::string>{CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        admin_ = daemon_->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        ASSERT_NE(admin_, 0) << daemon_->stderr_text();
    }

    double value(const std::string& series) { return metric(admin_get(admin_, "/metrics"), series); }
    double processed() { return value("crisisd_mentions_processed_total"); }
    void expect_processed(double n) {
        ASSERT_TRUE(wait_until([&] { return processed() == n; }, 10s))
            << "processed " << processed() << " of " << n << "\n" << daemon_->stderr_text();
    }
    void expect_connected() {
        ASSERT_TRUE(x_.wait_for_streams(1, 10s)) << daemon_->stderr_text();
        ASSERT_TRUE(wait_until([&] { return value(R"(crisisd_source_connected{source="x"})") == 1; }, 10s));
    }

    fake_x x_;
    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t admin_ = 0;
};

}  // namespace

TEST_F(x_source, rule_sync_adds_and_deletes_exactly_the_difference) {
    x_.set_rules({{"1001", "liwest OR @liwest", "isp"},       // wanted as it is: kept, same id
                  {"1002", "old campaign", "2025"},            // not configured: deleted
                  {"1003", "liwest störung", "old-tag"}});     // value configured, tag changed: replaced
    start();
    expect_connected();
    auto requests = x_.rules_requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[1].body, R"({"delete":{"ids":["1002","1003"]}})");
    EXPECT_EQ(requests[2].body, R"({"add":[{"value":"liwest störung","tag":"outage"}]})");
    auto live = x_.rules();
    ASSERT_EQ(live.size(), 2u);
    EXPECT_EQ(live[0].id, "1001");
    EXPECT_EQ(live[1].value, "liwest störung");
    EXPECT_EQ(live[1].tag, "outage");
    // The stream asks for the author handle expansion and no backfill on a first connect.
    auto target = x_.stream_connects().at(0).target;
    EXPECT_NE(target.find("expansions=author_id"), std::string::npos) << target;
    EXPECT_NE(target.find("user.fields=username"), std::string::npos) << target;
    EXPECT_EQ(target.find("backfill_minutes"), std::string::npos) << target;
}

TEST_F(x_source, a_rule_set_already_right_is_left_alone) {
    x_.set_rules({{"1001", "liwest OR @liwest", "isp"}, {"1004", "liwest störung", "outage"}});
    start();
    expect_connected();
    ASSERT_EQ(x_.rules_requests().size(), 1u);  // the GET only
}

TEST_F(x_source, keep_alives_hold_the_stream_and_a_post_arrives_on_it) {
    start("", "1s");
    expect_connected();
    // Keep-alives every 200 ms over two stall timeouts: the stream must stay the one stream
    // (without them it is dropped after one).
    for (int i = 0; i < 10; ++i) {
        x_.keep_alive();
        std::this_thread::sleep_for(200ms);
    }
    x_.push_post("1862750012345678901", "kathi_linz", "liwest is down in Linz again");
    expect_processed(1);
    EXPECT_EQ(x_.stream_connects().size(), 1u) << daemon_->stderr_text();
    EXPECT_LE(value(R"(crisisd_source_reconnects_total{source="x"})"), 0);  // absent or 0
}

TEST_F(x_source, a_silent_stream_is_dropped_after_the_stall_timeout_and_made_anew) {
    start("", "1s");
    expect_connected();
    ASSERT_TRUE(wait_until([&] { return x_.stream_connects().size() >= 2; }, 10s)) << daemon_->stderr_text();
    auto connects = x_.stream_connects();
    EXPECT_GE(connects[1].at - connects[0].at, 1s);  // not before the stall timeout
    ASSERT_TRUE(daemon_->wait_for_stderr("source x: disconnected: stalled", 5s)) << daemon_->stderr_text();
    ASSERT_TRUE(wait_until([&] { return value(R"(crisisd_source_reconnects_total{source="x"})") >= 1; }, 5s));
}

TEST_F(x_source, a_429_on_connect_is_backed_off_exponentially_from_its_longer_start) {
    x_.script_stream_statuses({429, 429});
    start();
    ASSERT_TRUE(wait_until([&] { return x_.stream_connects().size() >= 3; }, 15s)) << daemon_->stderr_text();
    expect_connected();
    auto c = x_.stream_connects();
    EXPECT_EQ(c[0].status, 429);
    EXPECT_EQ(c[1].status, 429);
    EXPECT_EQ(c[2].status, 200);
    EXPECT_GE(c[1].at - c[0].at, 600ms);   // rate_limited
    EXPECT_GE(c[2].at - c[1].at, 1200ms);  // doubled
}

TEST_F(x_source, an_in_stream_operational_disconnect_is_counted_and_reconnects) {
    start();
    expect_connected();
    x_.push_line(R"({"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.x.com/2/problems/operational-disconnect"}]})");
    ASSERT_TRUE(wait_until([&] { return x_.stream_connects().size() >= 2; }, 10s)) << daemon_->stderr_text();
    ASSERT_TRUE(wait_until([&] { return value(R"(crisisd_mentions_rejected_total{reason="stream_error",source="x"})") == 1; }, 5s))
        << admin_get(admin_, "/metrics");
    ASSERT_TRUE(daemon_->wait_for_stderr("operational-disconnect", 5s));
    // The new stream works.
    expect_connected();
    x_.push_post("1", "someone", "liwest please");
    expect_processed(1);
}

TEST_F(x_source, across_a_reconnect_with_backfill_every_post_counts_exactly_once) {
    start("    backfill_minutes: 2\n");
    expect_connected();
    x_.push_post("101", "anna", "liwest down");
    x_.push_post("102", "bert", "liwest still down");
    expect_processed(2);
    x_.drop_streams();
    ASSERT_TRUE(wait_until([&] { return x_.stream_connects().size() >= 2; }, 10s)) << daemon_->stderr_text();
    x_.push_post("103", "cora", "liwest down for me too");
    // The reconnect asked for backfill: 101 and 102 come again (and 103, once or twice).
    EXPECT_NE(x_.stream_connects().at(1).target.find("backfill_minutes=2"), std::string::npos);
    expect_processed(3);
    ASSERT_TRUE(wait_until([&] { return value(R"(crisisd_source_frames_total{kind="duplicate",source="x"})") >= 2; }, 10s))
        << admin_get(admin_, "/metrics");
    EXPECT_EQ(processed(), 3);
}

TEST_F(x_source, a_refused_bearer_token_stops_the_source_with_a_reason) {
    std::ofstream(dir_ / "x-bearer") << "wrong-token\n";
    start();
    ASSERT_TRUE(daemon_->wait_for_stderr("reading the stream rules refused with HTTP 401", 10s)) << daemon_->stderr_text();
    EXPECT_TRUE(x_.stream_connects().empty());
}
