// Issue 14, the `facebook` channel, through the real binary against a fake Graph API on
// loopback (tests/data/facebook/README.md, "Graph API"): a statement is posted to the Page once;
// an attempt whose answer was lost is found among the Page's posts instead of posted again; an
// expired token is a dead letter at once with the reason; a rate limit is retried.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
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

std::string form_value(std::string_view form, std::string_view name) {
    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (std::size_t at = 0; at <= form.size();) {
        auto end = form.find('&', at);
        if (end == std::string_view::npos) end = form.size();
        auto pair = form.substr(at, end - at);
        at = end + 1;
        auto eq = pair.find('=');
        if (pair.substr(0, eq) != name || eq == std::string_view::npos) continue;
        std::string out;
        for (std::size_t i = eq + 1; i < pair.size(); ++i) {
            if (pair[i] == '%' && i + 2 < pair.size()) {
                out += static_cast<char>(hex(pair[i + 1]) * 16 + hex(pair[i + 2]));
                i += 2;
            } else {
                out += pair[i] == '+' ? ' ' : pair[i];
            }
        }
        return out;
    }
    return {};
}

// The Graph API as a Page's feed sees it: POST /{version}/{page}/feed makes a post and answers
// {"id"}; GET /{version}/{page}/posts lists them ({"data":[{id,message,created_time}]}); errors
// are {"error":{message,type,code,error_subcode,fbtrace_id}} with HTTP 400.
class fake_graph {
public:
    struct post {
        std::string id, message;
    };

    fake_graph()
        : server_(io_.executor(), options(), [this](const crisisd::net::http_request_in& req)
                                                 -> boost::asio::awaitable<crisisd::net::http_response_out> {
              co_return co_await answer(req);
          }) {
        if (auto ec = server_.start()) throw std::runtime_error(ec.message());
    }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

    void lose_next_answer() {
        std::lock_guard l(m_);
        lose_ = true;
    }
    void rate_limit_next(int n) {
        std::lock_guard l(m_);
        rate_limited_ = n;
    }
    std::vector<post> posts() {
        std::lock_guard l(m_);
        return posts_;
    }
    int feed_requests() {
        std::lock_guard l(m_);
        return feed_requests_;
    }
    int lookups() {
        std::lock_guard l(m_);
        return lookups_;
    }

private:
    static crisisd::net::http_server_options options() {
        crisisd::net::http_server_options o;
        o.listen = "127.0.0.1:0";
        return o;
    }
    static crisisd::net::http_response_out error(int code, int subcode, const std::string& message) {
        crisisd::net::http_response_out r;
        r.status = 400;
        r.content_type = "application/json";
        json::object e{{"message", message}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "AbCdEf"}};
        if (subcode != 0) e["error_subcode"] = subcode;
        r.body = json::serialize(json::object{{"error", e}});
        return r;
    }

    boost::asio::awaitable<crisisd::net::http_response_out> answer(const crisisd::net::http_request_in& req) {
        crisisd::net::http_response_out r;
        r.content_type = "application/json";
        const std::string prefix = "/v23.0/" + page_id;
        bool lose = false;
        {
            std::lock_guard l(m_);
            const std::string path(req.path());
            const std::string query = req.target.find('?') == std::string::npos ? "" : req.target.substr(req.target.find('?') + 1);
            const bool post_feed = req.method == "POST" && path == prefix + "/feed";
            const bool get_posts = req.method == "GET" && path == prefix + "/posts";
            if (!post_feed && !get_posts) {
                r.status = 404;
                r.body = R"({"error":{"message":"Unknown path components","type":"OAuthException","code":2500}})";
                co_return r;
            }
            const auto token = form_value(post_feed ? std::string_view(req.body) : std::string_view(query), "access_token");
            if (post_feed) ++feed_requests_;
            else ++lookups_;
            if (token != page_token)
                co_return error(190, 463, "Error validating access token: Session has expired on Friday, 04-Dec-26.");
            if (get_posts) {
                json::array data;
                for (auto it = posts_.rbegin(); it != posts_.rend(); ++it)
                    data.push_back(json::object{{"id", it->id}, {"message", it->message},
                                                {"created_time", "2026-12-04T07:40:00+0000"}});
                r.body = json::serialize(json::object{{"data", data}});
                co_return r;
            }
            if (rate_limited_ > 0) {
                --rate_limited_;
                co_return error(32, 0, "(#32) Page request limit reached");
            }
            posts_.push_back({page_id + "_" + std::to_string(900000 + posts_.size()), form_value(req.body, "message")});
            r.body = json::serialize(json::object{{"id", posts_.back().id}});
            lose = std::exchange(lose_, false);
        }
        if (lose) {
            // The post exists, but the answer comes after crisisd stopped waiting for it.
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 3s);
            co_await t.async_wait(boost::asio::use_awaitable);
        }
        co_return r;
    }

    crisisd::testing::io_thread io_;
    std::mutex m_;
    std::vector<post> posts_;
    bool lose_ = false;
    int rate_limited_ = 0;
    int feed_requests_ = 0;
    int lookups_ = 0;
    crisisd::net::http_server server_;
};

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

    void start(const fake_graph& graph, const std::string& token) {
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
    fake_graph graph;
    graph.lose_next_answer();
    start(graph, page_token);
    ASSERT_FALSE(HasFatalFailure());
    storm();
    ASSERT_TRUE(wait_until([&] { return statement_status() == "sent"; }, 30s)) << daemon_->stderr_text();
    const auto posts = graph.posts();
    ASSERT_EQ(posts.size(), 1u);
    EXPECT_EQ(posts[0].message, "We know about the outage and are working on it. Next update within the hour.");
    EXPECT_GE(graph.lookups(), 1);
    EXPECT_EQ(graph.feed_requests(), 1) << "the second attempt read the Page instead of posting";
}

TEST_F(facebook_channel, an_expired_token_is_a_dead_letter_at_once_with_the_reason) {
    fake_graph graph;
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
    EXPECT_EQ(graph.feed_requests(), 1) << "no retry loop";
    EXPECT_TRUE(graph.posts().empty());
}

TEST_F(facebook_channel, a_rate_limit_is_retried_until_the_statement_is_posted_once) {
    fake_graph graph;
    graph.rate_limit_next(2);
    start(graph, page_token);
    ASSERT_FALSE(HasFatalFailure());
    storm();
    ASSERT_TRUE(wait_until([&] { return statement_status() == "sent"; }, 30s)) << daemon_->stderr_text();
    EXPECT_EQ(graph.posts().size(), 1u);
    EXPECT_EQ(graph.feed_requests(), 3);
}
