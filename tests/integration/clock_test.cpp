// Issue 13, "The wall clock moves", through the real binary with its wall clock moved by a
// preloaded shim (tests/fakes/clock_shift.c; the monotonic clocks are left alone, as `date -s`
// leaves them). Before, windows and waits ran on the wall clock: set back an hour, a key was
// blind for the hour (ten angry authors opened nothing); set forward 700 s, a 10-minute veto
// statement posted a second after its incident opened. Now crisisd runs on CLOCK_BOOTTIME,
// notices the step, logs it, and moves everything it holds with the clock.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

const std::string ingest_token = "clock-test-ingest-token-0123456789abcdef";

class clock_steps : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-clock");
        std::ofstream(dir_ / "ingest-token") << ingest_token;
        set_offset(0);
    }
    void TearDown() override {
        if (daemon_) {
            daemon_->signal(SIGTERM);
            daemon_->wait_exit(15s);
        }
        fs::remove_all(dir_);
    }

    // The daemon's wall clock, `seconds` away from the real one from its next reading on.
    void set_offset(long long seconds) {
        const fs::path tmp = dir_ / "offset.tmp";
        std::ofstream(tmp) << seconds << "\n";
        fs::rename(tmp, dir_ / "offset");
    }

    void start(const std::string& fire_when, const std::string& steps) {
        std::ofstream(dir_ / "crisisd.yaml") << R"(
sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0", token: "${file:)" << (dir_ / "ingest-token").string()
                                             << R"(}", trusted: true }
channels:
  - { name: pager, type: file, path: ")" << (dir_ / "pages.jsonl").string() << R"(" }
  - { name: brand, type: file, path: ")" << (dir_ / "brand.jsonl").string() << R"(" }
rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    fire_when: )" << fire_when << R"(
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: outage
playbooks:
  - name: outage
    steps:)" << steps << R"(
statements:
  - name: holding
    approved_by: "Head of Communications"
    approved_at: "2026-11-01"
    text: { en: "We know about the outage and are working on it. Next update by {next_update}." }
admin: { listen: "127.0.0.1:0", tokens_file: ")" << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
        daemon_ = std::make_unique<child_process>(std::vector<std::string>{
            "/usr/bin/env", "LD_PRELOAD=" CRISISD_CLOCK_SHIFT, "CRISISD_TEST_CLOCK_OFFSET_FILE=" + (dir_ / "offset").string(),
            CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        ingest_ = daemon_->wait_for_port(R"(source ingest: HTTP ingest on .* \(port (\d+)\))", 20s);
        ASSERT_NE(ingest_, 0) << daemon_->stderr_text();
        admin_ = daemon_->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        ASSERT_NE(admin_, 0) << daemon_->stderr_text();
    }

    // Angry mentions from authors first .. first+n-1, in one request.
    void complain(int first, int n) {
        std::string body;
        for (int i = first; i < first + n; ++i)
            body += R"({"id":"m)" + std::to_string(i) + R"(","lang":"en","author":"@user)" + std::to_string(i) +
                    R"(","text":"acme is down again, this is terrible and awful!"})" + "\n";
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + std::to_string(ingest_) + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.headers.emplace_back("Authorization", "Bearer " + ingest_token);
        req.body = body;
        auto r = crisisd::testing::run_sync(io, client.send(req));
        ASSERT_EQ(r.status, 202) << r.body;
        ASSERT_TRUE(wait_until([&] { return processed() >= first + n - 1; }, 10s)) << daemon_->stderr_text();
    }

    double processed() { return metric(admin_get(admin_, "/metrics"), "crisisd_mentions_processed_total"); }
    std::size_t incidents() {
        auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
        return doc.at("incidents").as_array().size();
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t ingest_ = 0;
    std::uint16_t admin_ = 0;
};

TEST_F(clock_steps, a_clock_set_back_an_hour_does_not_blind_a_key) {
    start("{ all: [unique_authors >= 10] }", R"(
      - notify: [pager])");
    complain(1, 9);
    EXPECT_EQ(incidents(), 0u);
    set_offset(-3600);
    ASSERT_TRUE(daemon_->wait_for_stderr("the wall clock was set back by 1h", 20s)) << daemon_->stderr_text();
    complain(10, 1);
    EXPECT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
    auto metrics = admin_get(admin_, "/metrics");
    EXPECT_EQ(metric(metrics, "crisisd_clock_steps_total"), 1) << metrics;
}

TEST_F(clock_steps, a_clock_set_forward_posts_no_veto_statement_early) {
    start("{ all: [count >= 3] }", R"(
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: veto, wait: 10m })");
    complain(1, 3);
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
    set_offset(700);
    ASSERT_TRUE(daemon_->wait_for_stderr("the wall clock was set forward by 11m40s", 20s)) << daemon_->stderr_text();
    // The tick that noticed the step has run the engine on the moved timeline: the statement
    // still waits, with most of its ten minutes left.
    auto inc = boost::json::parse(admin_get(admin_, "/api/v1/incidents/1")).as_object();
    const auto& step = inc.at("steps").as_array().at(1).as_object();
    EXPECT_EQ(step.at("state").as_string(), "scheduled") << boost::json::serialize(inc);
    EXPECT_GT(step.at("due_in_ms").to_number<double>(), 9 * 60 * 1000) << boost::json::serialize(inc);
    EXPECT_FALSE(fs::exists(dir_ / "brand.jsonl") && fs::file_size(dir_ / "brand.jsonl") > 0);
}

}  // namespace
