// The `x` channel through the real binary against a stand-in X (tests/fakes/fake_x.hpp): a
// statement is posted once; an attempt whose answer was lost is found among the account's posts
// instead of posted again; a 429 waits for the reset. OAuth 2.0: access tokens come from the
// refresh-token grant, are renewed when X stops taking them, and each rotated refresh token is
// kept in the state database, so a restart presents the successor and not the spent configured
// token; a refused refresh token dead-letters at once. Which documented X behaviour each test
// follows: tests/data/x/README.md.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "fakes/fake_x.hpp"
#include "support.hpp"
#include "x_crash_scenario.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::fake_x;
using crisisd::testing::wait_until;

namespace {

const std::string statement_text = "We know about the outage and are working on it. Details: https://status.liwest.at";
const std::string billing_text = "We know invoices went out twice this month and will refund every double charge.";
const std::string hotline_text = "Our hotline is busy; we are adding staff and will call back everyone who waited.";

class x_channel : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-x-channel");
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

    // crisisd with the x channel; `refresh_token` goes to the file the config names. Three
    // rules, each posting its own statement: "liwest" complaints, "rechnung" (billing) and
    // "hotline" ones.
    void start(const std::string& refresh_token = "x-refresh-0") {
        std::ofstream(dir_ / "x-refresh-token") << refresh_token << "\n";
        std::ofstream(dir_ / "x-client-secret") << x_.client_secret() << "\n";
        std::ofstream(dir_ / "crisisd.yaml") << R"(sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0" }
channels:
  - name: brand-x
    type: x
    base_url: ")" << x_.base_url() << R"("
    client_id: ")" << x_.client_id() << R"("
    client_secret: "${file:)" << (dir_ / "x-client-secret").string() << R"(}"
    refresh_token: "${file:)" << (dir_ / "x-refresh-token").string() << R"(}"
    retry: { initial: 50ms, max: 200ms }
rules:
  - name: outage
    match: { keywords: [liwest] }
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    playbook: holding
  - name: billing
    match: { keywords: [rechnung] }
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    playbook: refund
  - name: hotline
    match: { keywords: [hotline] }
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    playbook: callback
playbooks:
  - { name: holding, steps: [ { statement: { name: outage, channel: brand-x, approval: auto } } ] }
  - { name: refund, steps: [ { statement: { name: billing, channel: brand-x, approval: auto } } ] }
  - { name: callback, steps: [ { statement: { name: hotline, channel: brand-x, approval: auto } } ] }
statements:
  - name: outage
    approved_by: Head of Communications
    approved_at: 2026-11-01
    text: { en: ")" << statement_text << R"(" }
  - name: billing
    approved_by: Head of Communications
    approved_at: 2026-11-01
    text: { en: ")" << billing_text << R"(" }
  - name: hotline
    approved_by: Head of Communications
    approved_at: 2026-11-01
    text: { en: ")" << hotline_text << R"(" }
admin: { listen: "127.0.0.1:0", tokens_file: ")" << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
        daemon_ = std::make_unique<child_process>(
            std::vector<std::string>{CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        auto admin = daemon_->wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        auto ingest = daemon_->wait_for_stderr(R"(HTTP ingest on \S+ \(port (\d+))", 10s);
        ASSERT_TRUE(admin && ingest) << daemon_->stderr_text();
        admin_ = static_cast<std::uint16_t>(std::stoi(*admin));
        ingest_ = static_cast<std::uint16_t>(std::stoi(*ingest));
    }

    void stop() {
        daemon_->signal(SIGTERM);
        EXPECT_EQ(daemon_->wait_exit(15s), 0) << daemon_->stderr_text();
        daemon_.reset();
    }

    // Six complaints from six people: the rule fires and the playbook posts the statement.
    void storm(const std::string& text = "liwest is down again, terrible", int first_id = 0) {
        std::string body;
        for (int i = first_id; i < first_id + 6; ++i)
            body += crisisd::testing::mention_json(i, "@user" + std::to_string(i), text) + "\n";
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + std::to_string(ingest_) + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.body = body;
        ASSERT_EQ(crisisd::testing::run_sync(io, client.send(req)).status, 202);
    }

    // The statement step's delivery status ("sent", "dead", …), "" while undecided; of the
    // incident of `rule` when one is named.
    std::string step_status(const std::string& rule = "") {
        auto doc = json::parse(admin_get(admin_, "/api/v1/incidents"));
        for (const auto& inc : doc.at("incidents").as_array()) {
            if (!rule.empty() && inc.at("rule").as_string() != rule) continue;
            for (const auto& st : inc.at("steps").as_array())
                if (const auto* s = st.as_object().if_contains("status")) return std::string(s->as_string());
        }
        return "";
    }

    // The refresh tokens X was shown, in order.
    std::vector<std::string> presented() const {
        std::vector<std::string> out;
        for (const auto& r : x_.token_requests()) out.push_back(r.refresh_token);
        return out;
    }

    // What the state database holds for the channel (the table of schema version 4).
    std::string stored_refresh_token() {
        sqlite3* raw = nullptr;
        std::string out;
        if (sqlite3_open_v2((dir_ / "state.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v2(raw, "SELECT token FROM channel_tokens WHERE channel = 'brand-x'", -1, &st, nullptr) ==
                    SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        sqlite3_close(raw);
        return out;
    }

    json::array dead_letters() { return json::parse(admin_get(admin_, "/api/v1/dead-letters")).at("dead_letters").as_array(); }

    fake_x x_;
    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t admin_ = 0, ingest_ = 0;
};

}  // namespace

TEST_F(x_channel, a_statement_is_posted_once_as_the_brand_account) {
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status() == "sent"; }, 20s)) << daemon_->stderr_text();
    auto posts = x_.posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].text, statement_text);
    EXPECT_EQ(x_.post_calls(), 1);
    EXPECT_EQ(x_.timeline_calls(), 0);  // a first attempt does not look
}

TEST_F(x_channel, an_attempt_whose_answer_was_lost_is_found_and_not_posted_again) {
    x_.lose_next_answer(503);  // posted, but a proxy answered 503
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status() == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_EQ(x_.posts().size(), 1u);
    EXPECT_EQ(x_.post_calls(), 1) << "the second attempt looked first and found the post";
    EXPECT_GE(x_.timeline_calls(), 1);
}

TEST_F(x_channel, a_connection_closed_after_posting_is_not_a_second_post) {
    // X posts and closes the connection unanswered: whoever sends the text again (the HTTP
    // client on a reused connection, or the next attempt) meets X's duplicate refusal, and the
    // timeline shows the post made since the action.
    x_.lose_next_answer();
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status() == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_EQ(x_.posts().size(), 1u);
    EXPECT_TRUE(dead_letters().empty());
}

TEST_F(x_channel, a_revoked_refresh_token_is_a_dead_letter_at_once_with_the_reason) {
    x_.revoke();  // the brand account took the app's access away
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return dead_letters().size() == 1; }, 20s)) << daemon_->stderr_text();
    auto dead = dead_letters().at(0).as_object();
    EXPECT_EQ(dead.at("attempts").as_int64(), 1) << "no retry loop";
    const std::string error(dead.at("error").as_string());
    EXPECT_NE(error.find("X refused the refresh token (HTTP 400 invalid_request: Value passed for the token was invalid.)"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("authorize the app again"), std::string::npos) << error;
    EXPECT_NE(daemon_->stderr_text().find("channel brand-x: X refused the refresh token"), std::string::npos)
        << daemon_->stderr_text();
    ASSERT_EQ(x_.token_requests().size(), 1u);
    EXPECT_EQ(x_.post_calls(), 0) << "nothing is posted without an access token";
}

TEST_F(x_channel, an_access_token_x_no_longer_takes_is_refreshed_and_the_statement_posted) {
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status("outage") == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_EQ(presented(), std::vector<std::string>{"x-refresh-0"});
    x_.expire_access_tokens();  // two hours later, as far as X is concerned
    storm("die rechnung kam doppelt, frechheit", 100);
    ASSERT_TRUE(wait_until([&] { return step_status("billing") == "sent"; }, 20s)) << daemon_->stderr_text();
    // The lapsed token met a 401, the successor of x-refresh-0 got a new one, the post went out.
    EXPECT_EQ(presented(), (std::vector<std::string>{"x-refresh-0", "x-refresh-1"}));
    EXPECT_EQ(x_.post_calls(), 3);
    ASSERT_EQ(x_.posts().size(), 2u);
    EXPECT_EQ(x_.posts()[1].text, billing_text);
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(stored_refresh_token(), "x-refresh-2");
}

TEST_F(x_channel, a_restart_presents_the_rotated_refresh_token_from_the_state_database) {
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status("outage") == "sent"; }, 20s)) << daemon_->stderr_text();
    stop();
    // The configured x-refresh-0 is spent at X now; its successor is in the database.
    EXPECT_EQ(stored_refresh_token(), "x-refresh-1");
    start();  // the same config, still naming x-refresh-0
    storm("die rechnung kam doppelt, frechheit", 100);
    ASSERT_TRUE(wait_until([&] { return step_status("billing") == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_EQ(presented(), (std::vector<std::string>{"x-refresh-0", "x-refresh-1"}));
    for (const auto& r : x_.token_requests()) EXPECT_EQ(r.status, 200) << r.refresh_token << ": " << r.error;
    EXPECT_EQ(x_.posts().size(), 2u);
    EXPECT_EQ(stored_refresh_token(), "x-refresh-2");
}

TEST_F(x_channel, a_chain_broken_by_a_lost_answer_is_mended_by_a_new_token_in_the_config) {
    start();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status("outage") == "sent"; }, 20s)) << daemon_->stderr_text();
    // The next refresh is done at X but its answer never arrives: x-refresh-1 (the one in the
    // database) is spent and its successor lost, as when crisisd dies between X's answer and
    // the database write.
    x_.expire_access_tokens();
    x_.lose_next_token_answer();
    storm("die rechnung kam doppelt, frechheit", 100);
    ASSERT_TRUE(wait_until([&] { return dead_letters().size() == 1; }, 20s)) << daemon_->stderr_text();
    EXPECT_NE(std::string(dead_letters().at(0).at("error").as_string()).find("X refused the refresh token"),
              std::string::npos)
        << dead_letters();
    stop();
    EXPECT_EQ(stored_refresh_token(), "x-refresh-1");
    // What ops do: authorize the app again as the brand account, put the new token in the
    // file, restart. The configured token is not the stored chain's origin, so it wins.
    x_.grant("x-refresh-reauthorized");
    start("x-refresh-reauthorized");
    storm("hotline seit einer stunde besetzt", 200);
    ASSERT_TRUE(wait_until([&] { return step_status("hotline") == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_NE(daemon_->stderr_text().find("the configured refresh token is a new one"), std::string::npos)
        << daemon_->stderr_text();
    EXPECT_EQ(presented().back(), "x-refresh-reauthorized");
    ASSERT_EQ(x_.posts().size(), 2u);
    EXPECT_EQ(x_.posts()[1].text, hotline_text);
    EXPECT_NE(stored_refresh_token(), "x-refresh-1");
}

TEST_F(x_channel, a_429_waits_for_the_rate_limit_reset_then_posts_once) {
    x_.script_post_statuses({429});
    start();
    auto begun = std::chrono::steady_clock::now();
    storm();
    ASSERT_TRUE(wait_until([&] { return step_status() == "sent"; }, 20s)) << daemon_->stderr_text();
    EXPECT_EQ(x_.post_calls(), 2);
    EXPECT_EQ(x_.posts().size(), 1u);
    // x-rate-limit-reset was a second ahead: not retried after the channel's own 50 ms.
    EXPECT_GE(std::chrono::steady_clock::now() - begun, 900ms);
}

// The crash trial once under ctest (crash_loop --network x runs it a hundred times): SIGKILL with
// the post in flight, restart, exactly one post.
TEST(x_channel_crash, killed_with_the_post_in_flight_then_restarted_posts_exactly_once) {
    auto r = crisisd::testing::run_x_crash_trial(CRISISD_BINARY);
    EXPECT_TRUE(r.ok) << r.why;
    EXPECT_EQ(r.posts, 1u);
    EXPECT_GE(r.timeline_calls, 1);
}
