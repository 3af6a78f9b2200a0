// websocket_client against websocket_server on 127.0.0.1, port 0 (plain and TLS).
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <thread>

#include "fakes/io_thread.hpp"
#include "fakes/localhost.hpp"
#include "net/websocket_client.hpp"
#include "net/websocket_server.hpp"

namespace crisisd::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using read_status = websocket_client::read_status;

const std::string tls_dir = std::string(CRISISD_TEST_DATA) + "/tls/";

bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 1000; ++i) {
        if (condition()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

class websocket_test : public ::testing::Test {
protected:
    void start(websocket_server_options options = {}) {
        server_.emplace(server_io_.executor(), std::move(options));
        server_->on_connect([this](const websocket_upgrade_info& info) {
            std::lock_guard lock(mutex_);
            targets_.push_back(info.target);
        });
        ASSERT_FALSE(server_->start());
    }
    std::string url(const std::string& scheme, const std::string& host, const std::string& target) {
        return scheme + "://" + host + ":" + std::to_string(server_->port()) + target;
    }

    testing::io_thread server_io_;
    std::optional<websocket_server> server_;
    std::mutex mutex_;
    std::vector<std::string> targets_;
    asio::io_context io_;
};

TEST_F(websocket_test, receives_messages_in_order_and_skips_oversized_ones) {
    start();
    websocket_client_options options;
    options.url = url("ws", "127.0.0.1", "/subscribe?cursor=42");
    options.max_message_bytes = 1000;
    websocket_client client(io_.get_executor(), options);
    ASSERT_EQ(testing::run_sync(io_, client.connect()), "");
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    {
        std::lock_guard lock(mutex_);
        ASSERT_EQ(targets_.size(), 1u);
        EXPECT_EQ(targets_[0], "/subscribe?cursor=42");
    }
    server_->broadcast("one");
    server_->broadcast(std::string(5000, 'x'));
    server_->broadcast(std::string(1000, 'y'));  // exactly at the limit: accepted
    server_->broadcast("two");
    std::string message;
    auto r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, "one");
    r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::oversized);
    r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, std::string(1000, 'y'));
    r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, "two");
    EXPECT_FALSE(r.binary);
}

TEST_F(websocket_test, sends_messages_to_the_server) {
    start();
    std::mutex m;
    std::vector<std::string> got;
    server_->on_message([&](std::string_view text) {
        std::lock_guard lock(m);
        got.emplace_back(text);
    });
    websocket_client client(io_.get_executor(), {url("ws", "127.0.0.1", "/api/v1/streaming"), {}, {}});
    ASSERT_EQ(testing::run_sync(io_, client.connect()), "");
    EXPECT_EQ(testing::run_sync(io_, client.write(R"({"type":"subscribe","stream":"public"})")), "");
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(m);
        return got.size() == 1;
    }));
    std::lock_guard lock(m);
    EXPECT_EQ(got[0], R"({"type":"subscribe","stream":"public"})");
}

TEST_F(websocket_test, sees_the_server_dropping_the_connection) {
    start();
    websocket_client client(io_.get_executor(), {url("ws", "127.0.0.1", "/"), {}, {}});
    ASSERT_EQ(testing::run_sync(io_, client.connect()), "");
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    server_->close_all();
    std::string message;
    auto r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::closed);
    EXPECT_FALSE(r.error.empty());
    EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(websocket_test, declined_upgrade_reports_the_status_and_sends_the_token) {
    websocket_server_options options;
    options.required_token = "s3cret";
    start(options);
    websocket_client bad(io_.get_executor(), {url("ws", "127.0.0.1", "/"), {{"Authorization", "Bearer nope"}}, {}});
    auto error = testing::run_sync(io_, bad.connect());
    EXPECT_EQ(error, "upgrade declined: HTTP 401");
    EXPECT_EQ(bad.upgrade_status(), 401);
    websocket_client good(io_.get_executor(), {url("ws", "127.0.0.1", "/"), {{"Authorization", "Bearer s3cret"}}, {}});
    EXPECT_EQ(testing::run_sync(io_, good.connect()), "");
}

TEST_F(websocket_test, wss_verifies_with_the_test_ca) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    websocket_server_options options;
    options.cert_file = tls_dir + "server.pem";
    options.key_file = tls_dir + "server.key";
    start(options);
    websocket_client_options client_options;
    client_options.url = url("wss", "localhost", "/subscribe");
    client_options.tls.ca_file = tls_dir + "ca.pem";
    websocket_client client(io_.get_executor(), client_options);
    ASSERT_EQ(testing::run_sync(io_, client.connect()), "");
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    server_->broadcast("over tls");
    std::string message;
    auto r = testing::run_sync(io_, client.read(message));
    EXPECT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, "over tls");

    websocket_client untrusted(io_.get_executor(), {url("wss", "127.0.0.1", "/"), {}, {}});
    EXPECT_EQ(testing::run_sync(io_, untrusted.connect()).rfind("tls: ", 0), 0u);
}

TEST_F(websocket_test, wss_refuses_a_certificate_for_another_host) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    websocket_server_options options;
    options.cert_file = tls_dir + "wrong_host.pem";
    options.key_file = tls_dir + "wrong_host.key";
    start(options);
    websocket_client_options client_options;
    client_options.url = url("wss", "localhost", "/");
    client_options.tls.ca_file = tls_dir + "ca.pem";
    websocket_client client(io_.get_executor(), client_options);
    auto error = testing::run_sync(io_, client.connect());
    EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
    EXPECT_EQ(server_->connections_accepted(), 0u);
}

}  // namespace
}  // namespace crisisd::net
