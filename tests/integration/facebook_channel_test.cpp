// Issue 14, the `facebook` channel, through the real binary against a fake Graph API on
// loopback (fake_graph in tests/fakes; tests/data/facebook/README.md, "Graph API"): a statement is posted to the Page once;
// an attempt whose answer was lost is found among the Page's posts instead of posted again; an
// expired token is a dead letter at once with the reason; a rate limit is retried.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "fakes/fake_apis.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::wait_until;

namespace {

const std::string page_id = "104820508212345";
const std::string page_token = "EAAGm0PX4ZCpsBAPageToken";

class facebook_channel : public ::testing::Test {
protected:
    void SetUp() override { dir_ = crisisd::testing::make_temp_dir("crisisd-fb-channel"); }
    void TearDown() override {
        if (daemon_) {
            daemon_->signal(SIGTERM);
            daemon_->wait_exit(15s);
        }
        fs::remove_all(dir_);
    }

    void start(const crisisd::testing::fake_graph& graph, const std::string& token) {
        std::ofstream(dir_ / "page-token") << token;
        std::ofstream(dir_ / "crisisd.yaml") << R"(sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0" }
channels:
  - name: brand-facebook
    type: facebook
    base_url: ")" << graph.base_url() << R"("
    page_id: ")" << page_id << R"("
    token: "${file:)" << (dir_ / "page-token").string() << R"(}"
    graph_version: v23.0
    timeout: 1s
    retry: { initial: 20ms, max: 200ms }
rules:
  - name: acme-outage
    match: { keywords: [acme] }
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    playbook: holding
playbooks:
  - { name: holding, steps: [ { statement: { name: outage, channel: brand-facebook, approval: auto } } ] }
statements:
  - name: outage
    approved_by: Head of Communications
    approved_at: 2026-11-01
    text: { en: "We know about the outage and are working on it. Next update within the hour." }
admin: { listen: "127.0.0.1:0", tokens_file: ")" << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
        daemon_ = std::make_unique<child_process>(
            std::vector<std::string>{CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        auto admin = daemon_->wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 30s);
        auto ingest = daemon_->wait_for_stderr(R"(HTTP ingest on \S+ \(port (\d+))", 10s);
        ASSERT_TRUE(admin && ingest) << daemon_->stderr_text();
        admin_ = static_cast<std::uint16_t>(std::stoi(*admin));
        ingest_ = *ingest;
    }

    // Six complaints: the rule fires, the incident opens, its statement goes to the Page.
    void storm() {
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = "POST";
        req.url = "http://127.0.0.1:" + ingest_ + "/api/v1/mentions";
        for (int i = 0; i < 6; ++i)
            req.body += R"({"id":"m)" + std::to_string(i) + R"(","lang":"en","text":"acme is down again, terrible outage"})" "\n";
        ASSERT_EQ(crisisd::testing::run_sync(io, client.send(req)).status, 202);
    }

    std::string statement_status() {
        auto doc = json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
        for (const auto& inc : doc.at("incidents").as_array())
            for (const auto& st : inc.at("steps").as_array())
                if (const auto* s = st.as_object().if_contains("status")) return std::string(s->as_string());
        return "";
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t admin_ = 0;
    std::string ingest_;
};

}  // namespace

TEST_F(facebook_channel, an_attempt_whose_answer_was_lost_is_found_on_the_page_and_not_posted_again) {
    crisisd::testing::fake_graph graph(page_id, page_token);
    graph.start();
    graph.hold_next(1, 3s);  // the post is made; its answer comes after crisisd's 1s timeout
    start(graph, page_token);
    ASSERT_FALSE(HasFatalFailure());
    storm();
    ASSERT_TRUE(wait_until([&] { return statement_status() == "sent"; }, 30s)) << daemon_->stderr_text();
    const auto posts = graph.posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].message, "We know about the outage and are working on it. Next update within the hour.");
    EXPECT_GE(graph.lookups(), 1u);
    EXPECT_EQ(graph.feed_requests(), 1u) << "the second attempt read the Page instead of posting";
}

TEST_F(facebook_channel, an_expired_token_is_a_dead_letter_at_once_with_the_reason) {
    crisisd::testing::fake_graph graph(page_id, page_token);
    graph.start();
    start(graph, "EAAG-an-expired-token");
    ASSERT_FALSE(HasFatalFailure());
    storm();
    std::string dead;
    ASSERT_TRUE(wait_until(
        [&] {
            dead = admin_get(admin_, "/api/v1/dead-letters");
            return dead.find("the Page access token expired or was revoked") != std::string::npos;
        },
        30s))
        << dead << daemon_->stderr_text();
    EXPECT_NE(dead.find("190/463"), std::string::npos) << dead;
    EXPECT_EQ(graph.feed_requests(), 1u) << "no retry loop";
    EXPECT_TRUE(graph.posts().empty());
}

TEST_F(facebook_channel, a_rate_limit_is_retried_until_the_statement_is_posted_once) {
    crisisd::testing::fake_graph graph(page_id, page_token);
    graph.start();
    graph.rate_limit_next(2);
    start(graph, page_token);
    ASSERT_FALSE(HasFatalFailure());
    storm();
    ASSERT_TRUE(wait_until([&] { return statement_status() == "sent"; }, 30s)) << daemon_->stderr_text();
    EXPECT_EQ(graph.posts().size(), 1u);
    EXPECT_EQ(graph.feed_requests(), 3u);
}
