// websocket_source against a real net::websocket_server on 127.0.0.1, port 0.
#include "ingest/websocket_source.hpp"
#include "fakes/localhost.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <mutex>
#include <optional>

#include "fakes/io_thread.hpp"
#include "net/websocket_server.hpp"
#include "recording_events.hpp"

namespace crisisd::ingest {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

const std::string tls_dir = std::string(CRISISD_TEST_DATA) + "/tls/";

class websocket_source_test : public ::testing::Test {
protected:
    void start_server(net::websocket_server_options options = {}) {
        server_.emplace(server_io_.executor(), std::move(options));
        server_->on_connect([this](const net::websocket_upgrade_info& info) {
            std::lock_guard lock(mutex_);
            targets_.push_back(info.target);
        });
        ASSERT_FALSE(server_->start());
    }
    source_settings settings(const std::string& scheme = "ws", const std::string& host = "127.0.0.1") {
        source_settings s;
        s.name = "test-stream";
        s.url = scheme + "://" + host + ":" + std::to_string(server_->port()) + "/subscribe";
        s.reconnect_initial = 20ms;
        s.reconnect_max = 200ms;
        return s;
    }
    void start_source(source_settings s) {
        source_.emplace(client_io_.executor(), std::move(s), [this](std::string_view f) { events_.on_frame(f); },
                        events_);
        configure_source(*source_);
        source_->start();
    }
    virtual void configure_source(websocket_source&) {}
    void TearDown() override {
        if (source_) source_->stop();
    }
    std::vector<std::string> targets() {
        std::lock_guard lock(mutex_);
        return targets_;
    }

    testing::io_thread server_io_;
    testing::io_thread client_io_;
    std::optional<net::websocket_server> server_;
    testing::recording_events events_;
    std::optional<websocket_source> source_;
    std::mutex mutex_;
    std::vector<std::string> targets_;
};

TEST_F(websocket_source_test, receives_frames_in_order) {
    start_server();
    start_source(settings());
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    for (int i = 0; i < 200; ++i) server_->broadcast("{\"id\":\"m-" + std::to_string(i) + "\"}");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 200; }));
    auto frames = events_.frames();
    for (int i = 0; i < 200; ++i) EXPECT_EQ(frames[i], "{\"id\":\"m-" + std::to_string(i) + "\"}");
    EXPECT_EQ(events_.connected(), std::vector<bool>{true});
    EXPECT_EQ(events_.reconnects(), 0);
}

TEST_F(websocket_source_test, an_oversized_frame_is_rejected_and_the_stream_continues) {
    start_server();
    auto s = settings();
    s.max_message_bytes = 1024;
    start_source(s);
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    server_->broadcast("before");
    server_->broadcast(std::string(100000, 'x'));
    server_->broadcast("after");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 2; }));
    EXPECT_EQ(events_.frames(), (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(events_.rejected(), std::vector<std::string>{"oversized"});
    EXPECT_EQ(server_->connections_accepted(), 1u) << "skipping a frame keeps the connection";
}

// A consumer that takes a few frames at a time and frees their room later, on the source's
// thread: with a frames handler the source hands over whole socket reads, never more than the
// room, and loses nothing while it waits.
struct slow_consumer final : flow_control {
    explicit slow_consumer(boost::asio::any_io_executor ex) : ex_(ex), room_signal_(ex) {
        room_signal_.expires_at(boost::asio::steady_timer::time_point::max());
    }
    bool has_room() const override { return free_ > 0; }
    std::size_t room() const override { return free_; }
    boost::asio::awaitable<void> wait_for_room() override {
        co_await room_signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    void take(std::span<const std::string_view> frames) {
        std::lock_guard lock(mutex_);
        if (frames.size() > free_) ++overfilled_;
        free_ -= std::min(free_, frames.size());
        for (auto f : frames) got_.emplace_back(f);
        boost::asio::post(ex_, [this, n = frames.size()] {
            free_ += n;
            room_signal_.cancel();
            room_signal_.expires_at(boost::asio::steady_timer::time_point::max());
        });
    }
    std::vector<std::string> got() {
        std::lock_guard lock(mutex_);
        return got_;
    }
    int overfilled() {
        std::lock_guard lock(mutex_);
        return overfilled_;
    }

private:
    boost::asio::any_io_executor ex_;
    boost::asio::steady_timer room_signal_;
    std::size_t free_ = 4;
    std::mutex mutex_;
    std::vector<std::string> got_;
    int overfilled_ = 0;
};

TEST_F(websocket_source_test, a_frames_handler_gets_whole_reads_in_order_within_the_flow_controls_room) {
    start_server();
    slow_consumer consumer(client_io_.executor());
    source_.emplace(client_io_.executor(), settings(), [this](std::string_view f) { events_.on_frame(f); }, events_);
    source_->set_frames_handler([&](std::span<const std::string_view> frames) { consumer.take(frames); });
    source_->set_flow_control(&consumer);
    source_->start();
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    std::vector<std::string> sent;
    for (int i = 0; i < 300; ++i) {
        sent.push_back("{\"id\":\"m-" + std::to_string(i) + "\"}");
        server_->broadcast(sent.back());
    }
    ASSERT_TRUE(eventually([&] { return consumer.got().size() == sent.size(); }));
    source_->stop();
    EXPECT_EQ(consumer.got(), sent);
    EXPECT_EQ(consumer.overfilled(), 0);
    EXPECT_TRUE(events_.frames().empty()) << "the frames handler replaces on_frame";
}

class resuming_source_test : public websocket_source_test {
protected:
    void configure_source(websocket_source& source) override {
        source.set_url_provider([this] {
            return "ws://127.0.0.1:" + std::to_string(server_->port()) + "/subscribe?cursor=" +
                   std::to_string(++attempts_);
        });
    }
    std::atomic<int> attempts_{0};
};

TEST_F(resuming_source_test, reconnects_after_the_server_drops_it_and_keeps_receiving) {
    start_server();
    start_source(settings());
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    server_->broadcast("first");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 1; }));
    server_->close_all();
    ASSERT_TRUE(eventually([&] { return server_->connections_accepted() == 2 && server_->connection_count() == 1; }));
    server_->broadcast("second");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 2; }));
    EXPECT_EQ(events_.frames(), (std::vector<std::string>{"first", "second"}));
    EXPECT_GE(events_.reconnects(), 1);
    EXPECT_EQ(events_.connected(), (std::vector<bool>{true, false, true}));
    auto t = targets();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0], "/subscribe?cursor=1");
    EXPECT_EQ(t[1].rfind("/subscribe?cursor=", 0), 0u);
    EXPECT_NE(t[1], t[0]) << "each attempt asks the provider again";
}

TEST_F(websocket_source_test, keeps_retrying_while_the_server_is_down) {
    std::uint16_t port = 0;
    {
        boost::asio::io_context tmp;
        boost::asio::ip::tcp::acceptor probe(tmp, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }  // nothing listens on the port any more
    source_settings s;
    s.name = "down";
    s.url = "ws://127.0.0.1:" + std::to_string(port) + "/";
    s.reconnect_initial = 20ms;
    s.reconnect_max = 100ms;
    start_source(s);
    ASSERT_TRUE(eventually([&] { return events_.reconnects() >= 3; }));
    EXPECT_TRUE(events_.connected().empty());
}

class subscribing_source_test : public websocket_source_test {
protected:
    void configure_source(websocket_source& source) override {
        source.set_subscribe_messages({R"({"type":"subscribe","stream":"public"})",
                                       R"({"type":"subscribe","stream":"hashtag","tag":"liwest"})"});
    }
};

TEST_F(subscribing_source_test, wss_with_token_and_test_ca_sends_subscriptions) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    net::websocket_server_options options;
    options.cert_file = tls_dir + "server.pem";
    options.key_file = tls_dir + "server.key";
    options.required_token = "t0ken";
    start_server(options);
    std::mutex m;
    std::vector<std::string> subscriptions;
    server_->on_message([&](std::string_view text) {
        std::lock_guard lock(m);
        subscriptions.emplace_back(text);
    });
    auto s = settings("wss", "localhost");
    s.ca_file = tls_dir + "ca.pem";
    s.token = "t0ken";
    start_source(s);
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(m);
        return subscriptions.size() == 2;
    }));
    server_->broadcast("secure frame");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 1; }));
    EXPECT_EQ(events_.frames()[0], "secure frame");
    std::lock_guard lock(m);
    EXPECT_EQ(subscriptions[1], R"({"type":"subscribe","stream":"hashtag","tag":"liwest"})");
}

TEST_F(websocket_source_test, refuses_a_certificate_for_another_host) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    net::websocket_server_options options;
    options.cert_file = tls_dir + "wrong_host.pem";
    options.key_file = tls_dir + "wrong_host.key";
    start_server(options);
    auto s = settings("wss", "localhost");
    s.ca_file = tls_dir + "ca.pem";
    start_source(s);
    ASSERT_TRUE(eventually([&] { return events_.reconnects() >= 2; }));
    EXPECT_TRUE(events_.connected().empty());
    EXPECT_EQ(server_->connections_accepted(), 0u);
}

TEST_F(websocket_source_test, a_rejected_token_is_fatal_not_a_retry_loop) {
    net::websocket_server_options options;
    options.required_token = "right";
    start_server(options);
    auto s = settings();
    s.token = "wrong";
    start_source(s);
    ASSERT_TRUE(eventually([&] { return !events_.fatal().empty(); }));
    EXPECT_NE(events_.fatal().find("HTTP 401"), std::string::npos) << events_.fatal();
    std::this_thread::sleep_for(300ms);  // longer than reconnect_max: no further attempts
    EXPECT_EQ(events_.reconnects(), 0);
}

}  // namespace
}  // namespace crisisd::ingest

namespace crisisd::ingest {
namespace {

TEST_F(websocket_source_test, invalid_utf8_in_a_text_frame_goes_to_the_parser_and_the_connection_stays) {
    start_server();
    start_source(settings());
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    server_->broadcast("good");
    server_->broadcast("bad \xff\xfe text");
    server_->broadcast("after");
    ASSERT_TRUE(eventually([&] { return events_.frames().size() == 3; }));
    // The parser downstream rejects it as invalid_utf8 (parse tests, spine test); here it must
    // neither be lost nor cost the connection and what follows it.
    EXPECT_EQ(events_.frames(), (std::vector<std::string>{"good", "bad \xff\xfe text", "after"}));
    EXPECT_TRUE(events_.rejected().empty());
    EXPECT_EQ(server_->connections_accepted(), 1u);
    EXPECT_EQ(events_.reconnects(), 0);
}

}  // namespace
}  // namespace crisisd::ingest
