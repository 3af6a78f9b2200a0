// websocket_client against websocket_server on 127.0.0.1, port 0 (plain and TLS).
#include <gtest/gtest.h>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <atomic>
#include <functional>

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
    // wss, presenting tests/data/tls/<name>.pem.
    void start_tls(const std::string& name) {
        websocket_server_options options;
        options.cert_file = tls_dir + name + ".pem";
        options.key_file = tls_dir + name + ".key";
        start(options);
    }
    // A client of wss://localhost that trusts the test CA.
    websocket_client_options wss_localhost(const std::string& target) {
        websocket_client_options options;
        options.url = url("wss", "localhost", target);
        options.tls.ca_file = tls_dir + "ca.pem";
        return options;
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

// read_batch(): what one socket read brought goes to the sink in order, never more than its
// room at once, with an oversized message reported in its place.
struct recording_sink final : websocket_client::message_sink {
    std::size_t limit = 3;
    std::size_t largest_batch = 0;
    std::vector<std::string> got;  // "<oversized>" where one was skipped
    std::size_t room() override { return limit; }
    void take(std::span<const websocket_client::message> batch) override {
        EXPECT_LE(batch.size(), limit);
        largest_batch = std::max(largest_batch, batch.size());
        for (const auto& m : batch) got.emplace_back(m.payload);
    }
    bool oversized() override {
        got.emplace_back("<oversized>");
        return true;
    }
};

TEST_F(websocket_test, read_batch_hands_over_buffered_messages_in_order_within_the_sinks_room) {
    start();
    websocket_client_options options;
    options.url = url("ws", "127.0.0.1", "/");
    options.max_message_bytes = 100;
    websocket_client client(io_.get_executor(), options);
    ASSERT_EQ(testing::run_sync(io_, client.connect()), "");
    ASSERT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
    std::vector<std::string> sent;
    for (int i = 0; i < 50; ++i) {
        sent.push_back(i == 20 ? std::string("<oversized>") : "m-" + std::to_string(i));
        server_->broadcast(i == 20 ? std::string(500, 'x') : sent.back());
    }
    recording_sink sink;
    for (int reads = 0; sink.got.size() < sent.size() && reads < 1000; ++reads) {
        auto r = testing::run_sync(io_, client.read_batch(sink));
        ASSERT_EQ(r.status, read_status::message) << r.error;
    }
    EXPECT_EQ(sink.got, sent);
    EXPECT_LE(sink.largest_batch, 3u);
    // No room: nothing is taken and nothing is lost.
    sink.limit = 0;
    server_->broadcast("later");
    auto r = testing::run_sync(io_, client.read_batch(sink));
    EXPECT_EQ(r.status, read_status::message);
    EXPECT_EQ(sink.got.size(), sent.size());
    sink.limit = 3;
    while (sink.got.size() == sent.size()) {
        r = testing::run_sync(io_, client.read_batch(sink));
        ASSERT_EQ(r.status, read_status::message) << r.error;
    }
    EXPECT_EQ(sink.got.back(), "later");
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
    start_tls("server");
    websocket_client client(io_.get_executor(), wss_localhost("/subscribe"));
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
    start_tls("wrong_host");
    websocket_client client(io_.get_executor(), wss_localhost("/"));
    auto error = testing::run_sync(io_, client.connect());
    EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
    EXPECT_EQ(server_->connections_accepted(), 0u);
}


// A server written with Beast's own websocket stream, driven step by step from a thread: the
// independent implementation our client's framing must interoperate with (pings, closes,
// fragments, permessage-deflate).
class beast_peer {
public:
    using socket_stream = boost::beast::websocket::stream<boost::asio::ip::tcp::socket>;
    explicit beast_peer(std::function<void(socket_stream&)> script, bool deflate = false)
        : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this, script = std::move(script), deflate] {
            boost::system::error_code ec;
            socket_stream ws(io_);
            acceptor_.accept(ws.next_layer(), ec);
            if (ec) return;
            if (deflate) {
                boost::beast::websocket::permessage_deflate pmd;
                pmd.server_enable = true;
                ws.set_option(pmd);
            }
            ws.control_callback([this](boost::beast::websocket::frame_type kind, std::string_view) {
                if (kind == boost::beast::websocket::frame_type::pong) ++pongs;
            });
            ws.accept(ec);
            if (ec) return;
            try {
                script(ws);
            } catch (const std::exception&) {
                // The client went away; the assertions are on its side.
            }
        });
    }
    ~beast_peer() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        thread_.join();
    }
    std::string url() const { return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/"; }
    std::atomic<int> pongs{0};

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

// Reads until the client goes (Beast answers pings and closes meanwhile).
void read_until_closed(beast_peer::socket_stream& ws) {
    boost::beast::flat_buffer b;
    boost::system::error_code ec;
    while (!ec) ws.read(b, ec);
}

websocket_client_options options_for(const std::string& url) {
    websocket_client_options o;
    o.url = url;
    return o;
}

TEST(websocket_peer, answers_pings_and_reports_the_servers_close_code) {
    beast_peer peer([](beast_peer::socket_stream& ws) {
        ws.ping({});
        ws.write(boost::asio::buffer(std::string("after the ping")));
        boost::beast::flat_buffer b;
        ws.read(b);  // our pong (counted by the control callback), then "thanks"
        ws.close({boost::beast::websocket::close_code::going_away, "maintenance"});
    });
    boost::asio::io_context io;
    websocket_client client(io.get_executor(), options_for(peer.url()));
    ASSERT_EQ(testing::run_sync(io, client.connect()), "");
    std::string message;
    auto r = testing::run_sync(io, client.read(message));
    ASSERT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, "after the ping");
    EXPECT_EQ(testing::run_sync(io, client.write("thanks")), "");
    r = testing::run_sync(io, client.read(message));
    EXPECT_EQ(r.status, read_status::closed);
    EXPECT_EQ(r.error, "closed by server (code 1001, maintenance)");
    EXPECT_EQ(peer.pongs.load(), 1);
}

TEST(websocket_peer, joins_a_fragmented_message) {
    beast_peer peer([](beast_peer::socket_stream& ws) {
        ws.write_some(false, boost::asio::buffer(std::string(R"({"id":"1",)")));
        ws.write_some(false, boost::asio::buffer(std::string(R"("text":"split )")));
        ws.write_some(true, boost::asio::buffer(std::string(R"(in three"})")));
        read_until_closed(ws);
    });
    boost::asio::io_context io;
    websocket_client client(io.get_executor(), options_for(peer.url()));
    ASSERT_EQ(testing::run_sync(io, client.connect()), "");
    std::string message;
    auto r = testing::run_sync(io, client.read(message));
    ASSERT_EQ(r.status, read_status::message);
    EXPECT_EQ(message, R"({"id":"1","text":"split in three"})");
    client.close();
}

TEST(websocket_peer, inflates_permessage_deflate_messages) {
    std::vector<std::string> sent;
    for (int i = 0; i < 50; ++i)
        sent.push_back(R"({"kind":"commit","time_us":17255196261344)" + std::to_string(i) +
                       R"(,"commit":{"operation":"create","record":{"text":"acme outage again, nothing works"}}})");
    sent.push_back(std::string(200000, 'x'));  // one large message, inflated in many pieces
    beast_peer peer(
        [&sent](beast_peer::socket_stream& ws) {
            for (const auto& m : sent) ws.write(boost::asio::buffer(m));
            read_until_closed(ws);
        },
        /*deflate=*/true);
    boost::asio::io_context io;
    auto options = options_for(peer.url());
    options.permessage_deflate = true;
    websocket_client client(io.get_executor(), options);
    ASSERT_EQ(testing::run_sync(io, client.connect()), "");
    std::string message;
    for (const auto& expected : sent) {
        auto r = testing::run_sync(io, client.read(message));
        ASSERT_EQ(r.status, read_status::message) << r.error;
        ASSERT_EQ(message, expected);
    }
    client.close();
}

TEST(websocket_peer, a_silent_server_that_ignores_pings_ends_the_connection_after_the_idle_timeout) {
    std::atomic<bool> done{false};
    beast_peer peer([&done](beast_peer::socket_stream&) {
        // Accepts, then never reads (so never answers a ping) and never writes.
        while (!done) std::this_thread::sleep_for(5ms);
    });
    boost::asio::io_context io;
    auto options = options_for(peer.url());
    options.idle_timeout = 300ms;
    websocket_client client(io.get_executor(), options);
    ASSERT_EQ(testing::run_sync(io, client.connect()), "");
    std::string message;
    const auto started = std::chrono::steady_clock::now();
    auto r = testing::run_sync(io, client.read(message));
    done = true;
    EXPECT_EQ(r.status, read_status::closed);
    EXPECT_EQ(r.error, "idle timeout: nothing received for 300 ms");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST(websocket_peer, a_server_that_answers_pings_keeps_an_otherwise_quiet_connection) {
    beast_peer peer([](beast_peer::socket_stream& ws) {
        read_until_closed(ws);  // Beast answers our pings while it reads; nothing else is sent
    });
    boost::asio::io_context io;
    auto options = options_for(peer.url());
    options.idle_timeout = 200ms;
    websocket_client client(io.get_executor(), options);
    ASSERT_EQ(testing::run_sync(io, client.connect()), "");
    // Three idle timeouts of quiet: the pongs count as traffic, so the connection survives.
    std::string message;
    bool ended = false;
    boost::asio::co_spawn(io, client.read(message), [&](std::exception_ptr, websocket_client::read_result) { ended = true; });
    io.restart();
    io.run_for(600ms);
    EXPECT_FALSE(ended);
    client.close();
    io.restart();
    io.run_for(100ms);
    EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace crisisd::net
