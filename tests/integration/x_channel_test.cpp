// The `x` channel through the real binary against a stand-in X (tests/fakes/fake_x.hpp): a
// statement is posted once; an attempt whose answer was lost is found among the account's posts
// instead of posted again; a refused token dead-letters at once; a 429 waits for the reset. Which
// documented X behaviour each test follows: tests/data/x/README.md.
#include <gtest/gtest.h>
#include <signal.h>

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

    void start(const std::string& token = "x-user-token") {
        std::ofstream(dir_ / "x-user-token") << token << "\n";
        std::ofstream(dir_ / "crisisd.yaml") << R"(sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0" }
channels:
  - name: brand-x
    type: x
    base_url: ")" << x_.base_url() << R"("
    token: "${file:)" << (dir_ / "x-user-token").string() << R"(}"
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
playbooks:
  - { name: holding, steps: [ { statement: { name: outage, channel: brand-x, approval: auto } } ] }
statements:
  - name: outage
    approved_by: Head of Communications
    approved_at: 2026-11-01
    text: { en: ")" << statement_text << R"(" }
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

    // Six complaints from six people: the rule fires and the playbook posts the statement.
    void storm() {
        std::string body;
        for (int i = 0; i < 6; ++i)
            body += crisisd::testing::mention_json(i, "@user" + std::to_string(i), "liwest is down again, terrible") + "\n";
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + std::to_string(ingest_) + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.body = body;
        ASSERT_EQ(crisisd::testing::run_sync(io, client.send(req)).status, 202);
    }

    // The statement step's delivery status ("sent", "dead", …), "" while undecided.
    std::string step_status() {
        auto doc = json::parse(admin_get(admin_, "/api/v1/incidents"));
        for (const auto& inc : doc.at("incidents").as_array())
            for (const auto& st : inc.at("steps").as_array())
                if (const auto* s = st.as_object().if_contains("status")) return std::string(s->as_string());
        return "";
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

TEST_F(x_channel, a_refused_token_is_a_dead_letter_at_once_with_the_reason) {
    start("a-revoked-token");
    storm();
    ASSERT_TRUE(wait_until([&] { return dead_letters().size() == 1; }, 20s)) << daemon_->stderr_text();
    auto dead = dead_letters().at(0).as_object();
    EXPECT_EQ(dead.at("attempts").as_int64(), 1);
    EXPECT_NE(std::string(dead.at("error").as_string()).find("X refused the token (HTTP 401"), std::string::npos)
        << dead.at("error");
    EXPECT_EQ(x_.post_calls(), 1);
    EXPECT_TRUE(x_.posts().empty());
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
