// Issue 11, finding 1, through the real binary: what enters detection is worth what its source
// vouches for. One POST of a forged storm to an HTTP ingest source — mentions without authors,
// with rotating made-up authors, with a wire "source" naming a trusted stream — must not open an
// incident; the same storm from a trusted source does (the positive control, so "no incident"
// means the defence worked, not that the rule could never fire). Plus max_rate counted in
// /metrics and check-config refusing an exposed ingest listener.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "child_process.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

const std::string ingest_token = "ingest-token-the-attacker-also-has-7f3a91";

// Ten complaints as one NDJSON body; `extra` is spliced into each object (authors, a forged
// source). Ids carry a prefix so the same storm can be sent again to another source.
std::string storm(const std::string& prefix, const std::function<std::string(int)>& extra) {
    std::string body;
    for (int i = 0; i < 10; ++i) {
        body += R"({"id":")" + prefix + std::to_string(i) + R"(","lang":"en",)" + extra(i) +
                R"("text":"acme is down again, this is terrible and awful!"})" + "\n";
    }
    return body;
}

std::string no_author(int) { return ""; }
std::string rotating_authors(int i) { return R"("author":"@sock)" + std::to_string(i) + R"(",)"; }
std::string forged_source(int i) { return rotating_authors(i) + R"("source":"trusted-stream",)"; }

class abuse_ingest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-abuse-ingest");
        std::ofstream(dir_ / "ingest-token") << ingest_token;
    }
    void TearDown() override {
        if (daemon_) {
            daemon_->terminate(15s);
        }
        fs::remove_all(dir_);
    }

    // Starts crisisd with the given HTTP sources (YAML list items) and rules; learns the admin
    // port and each named source's ingest port from the log.
    void start(const std::string& sources, const std::string& rules, const std::vector<std::string>& names) {
        crisisd::testing::write_config(dir_, "sources:\n" + sources + R"(
channels:
  - { name: pager, type: file, path: ")" + (dir_ / "pages.jsonl").string() + R"(" }
rules:
)" + rules + R"(
playbooks:
  - name: page
    steps:
      - notify: [pager]
)");
        daemon_ = std::make_unique<child_process>(crisisd::testing::crisisd_run(dir_));
        for (const auto& name : names) {
            ports_[name] = daemon_->wait_for_port(crisisd::testing::ingest_line(name), 20s);
            ASSERT_NE(ports_[name], 0) << daemon_->stderr_text();
        }
        admin_ = daemon_->wait_for_port(crisisd::testing::console_line, 20s);
        ASSERT_NE(admin_, 0) << daemon_->stderr_text();
    }

    crisisd::net::http_response post(const std::string& source, const std::string& body,
                                     const std::string& token = {}) {
        return crisisd::testing::post_mentions(ports_.at(source), body, token);
    }

    double processed() { return metric(admin_get(admin_, "/metrics"), "crisisd_mentions_processed_total"); }

    std::size_t incidents() {
        auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
        return doc.at("incidents").as_array().size();
    }

    // Every mention the storm sent has been through detection: only now does "no incident" mean
    // that detection saw them and did not fire.
    void expect_processed(double n) {
        ASSERT_TRUE(wait_until([&] { return processed() == n; }, 10s))
            << "processed " << processed() << " of " << n << "\n" << daemon_->stderr_text();
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::map<std::string, std::uint16_t> ports_;
    std::uint16_t admin_ = 0;
};

// The rule of the finding: ten different people, one mention each, on the trusted stream only.
const std::string finding_rule = R"(  - name: forged-storm
    match: { keywords: ["acme"], sources: [trusted-stream] }
    window: 10m
    baseline: 1h
    max_per_author: 1
    fire_when: { all: [unique_authors >= 10] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page
)";

}  // namespace

TEST_F(abuse_ingest, the_forged_storm_of_finding_1_opens_no_incident_and_the_trusted_stream_still_does) {
    start(R"(  - name: ingest
    type: http
    listen: "127.0.0.1:0"
    token: ${file:)" + (dir_ / "ingest-token").string() + R"(}
  - name: trusted-stream
    type: http
    listen: "127.0.0.1:0"
    trusted: true
)",
          finding_rule, {"ingest", "trusted-stream"});
    ASSERT_FALSE(HasFatalFailure());

    // The attacker has the ingest token and sends each variant of the storm.
    for (auto [prefix, extra] : {std::pair{"none-", &no_author}, std::pair{"rot-", &rotating_authors},
                                 std::pair{"forged-", &forged_source}}) {
        auto r = post("ingest", storm(prefix, extra), ingest_token);
        ASSERT_EQ(r.status, 202) << r.body;
        EXPECT_NE(r.body.find(R"("accepted":10)"), std::string::npos) << r.body;
    }
    expect_processed(30);
    EXPECT_EQ(incidents(), 0u) << admin_get(admin_, "/api/v1/incidents");

    // The same ten people on the trusted stream: that is a storm.
    ASSERT_EQ(post("trusted-stream", storm("real-", rotating_authors)).status, 202);
    expect_processed(40);
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
    auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
    EXPECT_EQ(doc.at("incidents").as_array()[0].at("rule").as_string(), "forged-storm");
}

TEST_F(abuse_ingest, claimed_or_missing_authors_on_an_untrusted_source_cannot_make_unique_authors) {
    // Loopback without a token: anyone on the host can post. No source restriction in the rule,
    // so only the author counting stands between the storm and an incident.
    start(R"(  - name: open
    type: http
    listen: "127.0.0.1:0"
  - name: trusted
    type: http
    listen: "127.0.0.1:0"
    trusted: true
)",
          R"(  - name: many-people
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    max_per_author: 1
    fire_when: { all: [unique_authors >= 10] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page
)",
          {"open", "trusted"});
    ASSERT_FALSE(HasFatalFailure());

    ASSERT_EQ(post("open", storm("none-", no_author)).status, 202);
    ASSERT_EQ(post("open", storm("rot-", rotating_authors)).status, 202);
    expect_processed(20);
    EXPECT_EQ(incidents(), 0u) << admin_get(admin_, "/api/v1/incidents");

    ASSERT_EQ(post("trusted", storm("real-", rotating_authors)).status, 202);
    expect_processed(30);
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
}

TEST_F(abuse_ingest, match_sources_cannot_be_satisfied_by_a_wire_source) {
    // Both sources trusted and the rule counts mentions only: the configured name alone decides.
    start(R"(  - name: ingest
    type: http
    listen: "127.0.0.1:0"
    trusted: true
  - name: trusted-stream
    type: http
    listen: "127.0.0.1:0"
    trusted: true
)",
          R"(  - name: stream-only
    match: { keywords: ["acme"], sources: [trusted-stream] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 10] }
    clear_when: { all: [count < 1], for: 1h }
    severity: warning
    playbook: page
)",
          {"ingest", "trusted-stream"});
    ASSERT_FALSE(HasFatalFailure());

    ASSERT_EQ(post("ingest", storm("forged-", forged_source)).status, 202);
    expect_processed(10);
    EXPECT_EQ(incidents(), 0u) << admin_get(admin_, "/api/v1/incidents");

    ASSERT_EQ(post("trusted-stream", storm("real-", rotating_authors)).status, 202);
    expect_processed(20);
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
}

TEST_F(abuse_ingest, max_rate_keeps_the_excess_from_detection_and_counts_it) {
    start(R"(  - name: limited
    type: http
    listen: "127.0.0.1:0"
    trusted: true
    max_rate: 5/h
)",
          R"(  - name: ten
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 10] }
    clear_when: { all: [count < 1], for: 1h }
    severity: warning
    playbook: page
)",
          {"limited"});
    ASSERT_FALSE(HasFatalFailure());

    auto r = post("limited", storm("m-", rotating_authors));
    ASSERT_EQ(r.status, 202) << r.body;
    auto reply = boost::json::parse(r.body).as_object();
    EXPECT_EQ(reply.at("accepted").as_int64(), 5) << r.body;
    EXPECT_EQ(reply.at("rejected").as_int64(), 5) << r.body;
    EXPECT_EQ(reply.at("reasons").at("rate_limited").as_int64(), 5) << r.body;
    const std::string series = R"(crisisd_mentions_rejected_total{reason="rate_limited",source="limited"})";
    ASSERT_TRUE(wait_until([&] { return metric(admin_get(admin_, "/metrics"), series) == 5; }, 10s))
        << admin_get(admin_, "/metrics");
    EXPECT_EQ(processed(), 5);
    EXPECT_EQ(incidents(), 0u);
}

TEST(abuse_ingest_config, check_config_refuses_an_ingest_listener_beyond_loopback_without_token_and_proxy) {
    // Run from tests/data/config so the diagnostics name the files relatively, as the goldens do.
    const fs::path dir = fs::path(CRISISD_TEST_DATA) / "config";
    for (const std::string name : {"ingest_exposed", "source_trust"}) {
        const auto cwd = fs::current_path();
        fs::current_path(dir);
        child_process p({CRISISD_BINARY, "check-config", "--config", "bad/" + name + ".yaml"});
        const auto code = p.wait_exit(20s);
        fs::current_path(cwd);
        EXPECT_EQ(code, 78) << name;
        EXPECT_EQ(p.stderr_text(), crisisd::testing::read_file(dir / "bad" / (name + ".expected"))) << name;
    }
}
