// HTTP ingest on 127.0.0.1, port 0, with a real HTTP client.
#include "ingest/http_source.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <future>

#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "recording_events.hpp"

namespace crisisd::ingest {
namespace {

class http_source_test : public ::testing::Test {
protected:
    void SetUp() override {
        http_source_settings s;
        s.name = "push";
        s.listen = "127.0.0.1:0";
        s.token = "s3cret";
        s.max_body_bytes = 4096;
        s.max_line_bytes = 100;
        source_.emplace(server_io_.executor(), s,
                        [this](std::string_view line) -> std::string_view {
                            lines_.emplace_back(line);
                            if (line.find("\"id\"") == std::string_view::npos) return "missing_id";
                            return {};
                        },
                        events_);
        ASSERT_EQ(source_->start(), "");
    }
    void TearDown() override { source_->stop(); }

    net::http_response post(std::string body, std::string token = "s3cret", std::string path = "/api/v1/mentions") {
        net::http_request r;
        r.url = "http://127.0.0.1:" + std::to_string(source_->port()) + path;
        r.body = std::move(body);
        r.headers.emplace_back("Content-Type", "application/x-ndjson");
        if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
        net::http_client client(client_io_.get_executor());
        return testing::run_sync(client_io_, client.send(std::move(r)));
    }

    testing::io_thread server_io_;
    boost::asio::io_context client_io_;
    testing::recording_events events_;
    std::optional<http_source> source_;
    std::vector<std::string> lines_;  // written on the server thread, read after a response
};

TEST_F(http_source_test, accepts_an_ndjson_batch_and_says_what_it_rejected_and_why) {
    auto r = post("{\"id\":\"1\",\"text\":\"a\"}\n\n{\"text\":\"no id\"}\r\n{\"id\":\"3\",\"text\":\"c\"}\n" +
                  std::string(150, 'x') + "\n{\"id\":\"4\",\"text\":\"no newline at the end\"}");
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    EXPECT_EQ(r.body,
              R"({"accepted":3,"rejected":2,"reasons":{"missing_id":1,"oversized":1},)"
              R"("errors":[{"line":3,"reason":"missing_id"},{"line":5,"reason":"oversized"}]})");
    EXPECT_EQ(lines_.size(), 4u) << "blank lines are skipped, oversized ones never reach the parser";
    EXPECT_EQ(lines_[1], "{\"text\":\"no id\"}") << "CR stripped";
    EXPECT_EQ(events_.rejected(), std::vector<std::string>{"oversized"});
}

TEST_F(http_source_test, needs_the_bearer_token) {
    EXPECT_EQ(post("{\"id\":\"1\"}\n", "").status, 401);
    EXPECT_EQ(post("{\"id\":\"1\"}\n", "s3cre").status, 401);
    EXPECT_EQ(post("{\"id\":\"1\"}\n", "s3cretx").status, 401);
    EXPECT_TRUE(lines_.empty());
}

TEST_F(http_source_test, refuses_too_large_bodies_and_other_paths) {
    EXPECT_EQ(post(std::string(5000, '\n')).status, 413);
    EXPECT_EQ(post("{}", "s3cret", "/api/v1/other").status, 404);
    EXPECT_TRUE(lines_.empty());
}

// A reload rotating the token: the listener (and its port) stays, the next request needs the
// new token. A different address is not an update.
TEST_F(http_source_test, update_swaps_the_token_and_keeps_the_listener) {
    const auto port = source_->port();
    http_source_settings s;
    s.name = "push";
    s.listen = "127.0.0.1:0";
    s.token = "n3w-secret";
    s.max_body_bytes = 4096;
    s.max_line_bytes = 100;
    ASSERT_EQ(source_->update(s), "");
    EXPECT_EQ(source_->port(), port);
    EXPECT_EQ(post("{\"id\":\"1\"}\n", "s3cret").status, 401);
    EXPECT_EQ(post("{\"id\":\"1\"}\n", "n3w-secret").status, 202);
    s.listen = "127.0.0.1:1";
    EXPECT_NE(source_->update(s), "");
}

// A source stopped and started again on the same address in one go (a reload) takes the
// listening socket over: same port, no "Address already in use".
TEST_F(http_source_test, a_source_restarted_on_the_same_address_takes_the_listener_over) {
    const auto port = source_->port();
    http_source_settings s;
    s.name = "push";
    s.listen = "127.0.0.1:0";
    s.token = "s3cret";
    testing::recording_events events;
    http_source next(server_io_.executor(), s, [](std::string_view) -> std::string_view { return {}; }, events);
    // As the daemon does it: both in one handler on the io thread.
    std::promise<std::string> started;
    boost::asio::post(server_io_.executor(), [&] {
        source_->stop();
        started.set_value(next.start());
    });
    ASSERT_EQ(started.get_future().get(), "");
    EXPECT_EQ(next.port(), port);
    EXPECT_EQ(post("{\"id\":\"1\"}\n").status, 202);
    next.stop();
}

TEST(http_update_in_place, only_token_body_limit_and_proxy_on_the_same_address) {
    source_settings a;
    a.type = "http";
    a.listen = "127.0.0.1:9465";
    a.token = "one";
    auto b = a;
    b.token = "two";
    b.max_body_bytes = 1 << 20;
    EXPECT_TRUE(http_update_in_place(a, b));
    b.max_rate.count = 5;
    EXPECT_FALSE(http_update_in_place(a, b)) << "max_rate is the daemon's, a new source";
    b = a;
    b.listen = "127.0.0.1:9466";
    EXPECT_FALSE(http_update_in_place(a, b));
}

}  // namespace
}  // namespace crisisd::ingest
