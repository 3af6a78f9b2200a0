// Issue 14, `type: facebook`, through the real binary: Meta's subscription handshake, every POST
// checked against X-Hub-Signature-256 before parsing (right, wrong, missing and truncated
// signatures; only the right one gets in, the rest are counted), posts and comments added or
// edited become mentions while reactions, likes and removals do not, and a redelivered change
// or an edited comment counts once. Payloads: tests/data/facebook/ (README.md there).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "ingest/facebook_source.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

const std::string app_secret = "meta-app-secret-3c9e1f7a5b2d4e60";
const std::string verify_token = "verify-me-81d2c4";

std::string data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/facebook/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class facebook_source : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-facebook");
        std::ofstream(dir_ / "app-secret") << app_secret;
        std::ofstream(dir_ / "verify-token") << verify_token;
        std::ofstream(dir_ / "crisisd.yaml") << R"(sources:
  - name: page
    type: facebook
    listen: "127.0.0.1:0"
    verify_token: ${file:)" << (dir_ / "verify-token").string() << R"(}
    app_secret: ${file:)" << (dir_ / "app-secret").string() << R"(}
channels:
  - { name: pager, type: file, path: ")" << (dir_ / "pages.jsonl").string() << R"(" }
rules:
  - name: page-talk
    match: { keywords: ["liwest"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 1] }
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
        port_ = daemon_->wait_for_port(R"(source page: Facebook webhook on .* \(port (\d+)\))", 20s);
        ASSERT_NE(port_, 0) << daemon_->stderr_text();
        admin_ = daemon_->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        ASSERT_NE(admin_, 0) << daemon_->stderr_text();
    }
    void TearDown() override {
        if (daemon_) {
            daemon_->signal(SIGTERM);
            EXPECT_EQ(daemon_->wait_exit(15s), 0);
        }
        fs::remove_all(dir_);
    }

    crisisd::net::http_response request(const std::string& method, const std::string& target, const std::string& body,
                                        const std::optional<std::string>& signature) {
        boost::asio::io_context io;
        crisisd::net::http_client client(io.get_executor());
        crisisd::net::http_request req;
        req.method = method;
        req.url = "http://127.0.0.1:" + std::to_string(port_) + target;
        if (method == "POST") req.headers.emplace_back("Content-Type", "application/json");
        if (signature) req.headers.emplace_back("X-Hub-Signature-256", *signature);
        req.body = body;
        return crisisd::testing::run_sync(io, client.send(req));
    }
    crisisd::net::http_response deliver(const std::string& body) {
        return request("POST", "/", body, crisisd::ingest::hub_signature_256(app_secret, body));
    }

    double value(const std::string& series) { return metric(admin_get(admin_, "/metrics"), series); }
    std::size_t incidents() {
        auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
        return doc.at("incidents").as_array().size();
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t port_ = 0, admin_ = 0;
};

const std::string processed = "crisisd_mentions_processed_total";
const std::string signature_rejected = R"(crisisd_mentions_rejected_total{reason="signature",source="page"})";

std::string frames(const std::string& kind) {
    return R"(crisisd_source_frames_total{kind=")" + kind + R"(",source="page"})";
}

}  // namespace

TEST_F(facebook_source, the_subscription_handshake_echoes_the_challenge_only_for_the_verify_token) {
    auto ok = request("GET", "/?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verify_token, "", {});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "1158201444");
    auto wrong = request("GET", "/?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess", "", {});
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(wrong.body.find("1158201444"), std::string::npos);
    auto no_mode = request("GET", "/?hub.challenge=1158201444&hub.verify_token=" + verify_token, "", {});
    EXPECT_EQ(no_mode.status, 403);
}

TEST_F(facebook_source, only_a_rightly_signed_delivery_gets_in_and_wrong_missing_or_truncated_ones_are_counted) {
    const auto body = data("feed-changes.json");
    const auto right = crisisd::ingest::hub_signature_256(app_secret, body);
    EXPECT_EQ(request("POST", "/", body, crisisd::ingest::hub_signature_256("another-secret", body)).status, 403);
    EXPECT_EQ(request("POST", "/", body, std::nullopt).status, 403);
    EXPECT_EQ(request("POST", "/", body, right.substr(0, right.size() - 8)).status, 403);
    // A signature of another body (the attacker replays a real signature with their own text).
    EXPECT_EQ(request("POST", "/", body + " ", right).status, 403);
    ASSERT_TRUE(wait_until([&] { return value(signature_rejected) == 4; }, 10s)) << admin_get(admin_, "/metrics");
    EXPECT_EQ(value(processed), 0);
    EXPECT_EQ(incidents(), 0u);

    // The right one: a comment and a post; the reaction, the like and the removal are ignored.
    auto r = request("POST", "/", body, right);
    EXPECT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(wait_until([&] { return value(processed) == 2; }, 10s)) << daemon_->stderr_text();
    EXPECT_EQ(value(frames("ignored")), 3);
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 10s)) << daemon_->stderr_text();
    auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
    EXPECT_EQ(doc.at("incidents").as_array()[0].at("rule").as_string(), "page-talk");
}

TEST_F(facebook_source, a_redelivered_change_and_an_edited_comment_count_once) {
    const auto body = data("feed-changes.json");
    ASSERT_EQ(deliver(body).status, 200);
    ASSERT_TRUE(wait_until([&] { return value(processed) == 2; }, 10s)) << daemon_->stderr_text();
    // Meta redelivers what it thinks was lost; the comment is then edited.
    ASSERT_EQ(deliver(body).status, 200);
    ASSERT_EQ(deliver(data("comment-edited.json")).status, 200);
    ASSERT_TRUE(wait_until([&] { return value(frames("duplicate")) == 3; }, 10s)) << admin_get(admin_, "/metrics");
    EXPECT_EQ(value(processed), 2);
}

TEST_F(facebook_source, a_signed_body_that_is_not_a_page_webhook_is_answered_400_and_counted) {
    auto r = deliver(R"({"object":"user","entry":[]})");
    EXPECT_EQ(r.status, 400);
    auto bad = deliver("not json");
    EXPECT_EQ(bad.status, 400);
    ASSERT_TRUE(wait_until(
        [&] { return value(R"(crisisd_mentions_rejected_total{reason="malformed_json",source="page"})") == 1; }, 10s));
    EXPECT_EQ(value(processed), 0);
}
