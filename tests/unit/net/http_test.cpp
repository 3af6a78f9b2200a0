// http_client against real local servers (http_receiver, http_server) on 127.0.0.1, port 0.
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <optional>
#include <thread>

#include "fakes/http_receiver.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace crisisd::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::io_thread;
using testing::run_sync;

class http_client_test : public ::testing::Test {
protected:
    void SetUp() override { port_ = receiver_.start(); }

    http_response send(http_request request) { return run_sync(io_, client_.send(std::move(request))); }

    http_request post(std::string body) {
        http_request r;
        r.url = receiver_.url("/hooks/oncall?x=1");
        r.headers = {{"Content-Type", "application/json"}, {"X-Crisisd-Key", "inc-7/step-1"}};
        r.body = std::move(body);
        return r;
    }

    testing::http_receiver receiver_;
    std::uint16_t port_ = 0;
    asio::io_context io_;
    http_client client_{io_.get_executor()};
};

TEST_F(http_client_test, posts_json_with_headers) {
    receiver_.set_response_body(R"({"ok":true})");
    auto res = send(post(R"({"incident":"inc-7"})"));
    EXPECT_EQ(res.error, "");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, R"({"ok":true})");
    EXPECT_EQ(res.header("content-type"), "application/json");
    ASSERT_EQ(receiver_.count(), 1u);
    auto req = receiver_.requests().front();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/hooks/oncall?x=1");
    EXPECT_EQ(req.body, R"({"incident":"inc-7"})");
    EXPECT_EQ(req.header("x-crisisd-key"), "inc-7/step-1");
    EXPECT_EQ(req.header("Content-Type"), "application/json");
    EXPECT_EQ(req.header("Host"), "127.0.0.1:" + std::to_string(port_));
}

TEST_F(http_client_test, reuses_one_connection_for_sequential_requests) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(send(post("{}")).status, 200);
    EXPECT_EQ(receiver_.count(), 5u);
    EXPECT_EQ(receiver_.connections_accepted(), 1u);
}

TEST_F(http_client_test, warm_up_opens_the_connection_ahead_of_need) {
    run_sync(io_, client_.warm_up(receiver_.url()));
    EXPECT_EQ(send(post("{}")).status, 200);
    EXPECT_EQ(receiver_.connections_accepted(), 1u);
}

TEST_F(http_client_test, server_errors_pass_through) {
    receiver_.script_statuses({500, 503});
    receiver_.set_response_body("broken", "text/plain");
    auto first = send(post("{}"));
    EXPECT_EQ(first.status, 500);
    EXPECT_EQ(first.error, "");
    EXPECT_EQ(first.body, "broken");
    EXPECT_EQ(send(post("{}")).status, 503);
    EXPECT_EQ(send(post("{}")).status, 200);
}

TEST_F(http_client_test, times_out_when_the_server_holds_the_response) {
    receiver_.hold_responses();
    auto request = post("{}");
    request.timeout = 300ms;
    auto started = std::chrono::steady_clock::now();
    auto res = send(request);
    EXPECT_EQ(res.status, 0);
    EXPECT_EQ(res.error, "timeout");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(receiver_.count(), 1u) << "a timed-out request is not retried";
    receiver_.release();
    EXPECT_EQ(send(post("{}")).status, 200) << "the client recovers with a fresh connection";
}

TEST(http_client, reports_connection_refused) {
    std::uint16_t port = 0;
    {
        asio::io_context tmp;
        asio::ip::tcp::acceptor probe(tmp, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    asio::io_context io;
    http_client client(io.get_executor());
    http_request r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    auto res = run_sync(io, client.send(r));
    EXPECT_EQ(res.status, 0);
    EXPECT_EQ(res.error, "connection refused");
}

TEST(http_client, rejects_invalid_urls_without_throwing) {
    asio::io_context io;
    http_client client(io.get_executor());
    http_request r;
    r.url = "not a url";
    auto res = run_sync(io, client.send(r));
    EXPECT_EQ(res.status, 0);
    EXPECT_NE(res.error.find("invalid url"), std::string::npos);
}

class http_server_test : public ::testing::Test {
protected:
    void start(http_server_options options, http_handler handler) {
        server_.emplace(server_io_.executor(), std::move(options), std::move(handler));
        ASSERT_FALSE(server_->start());
        base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    }
    http_response send(http_request r) { return run_sync(io_, client_.send(std::move(r))); }

    io_thread server_io_;
    std::optional<http_server> server_;
    std::string base_;
    asio::io_context io_;
    http_client client_{io_.get_executor()};
};

TEST_F(http_server_test, answers_with_the_handlers_response) {
    start({}, [](const http_request_in& in) -> asio::awaitable<http_response_out> {
        http_response_out out;
        out.status = in.path() == "/healthz" ? 200 : 404;
        out.content_type = "application/json";
        out.headers = {{"X-Path", std::string(in.path())}};
        out.body = R"({"method":")" + in.method + R"("})";
        co_return out;
    });
    auto ok = send({"GET", base_ + "/healthz?verbose=1", {}, "", 5s});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, R"({"method":"GET"})");
    EXPECT_EQ(ok.header("x-path"), "/healthz");
    EXPECT_EQ(send({"DELETE", base_ + "/nope", {}, "", 5s}).status, 404);
}

TEST_F(http_server_test, rejects_bodies_over_the_limit_with_413) {
    http_server_options options;
    options.body_limit = 1024;
    start(options, [](const http_request_in& in) -> asio::awaitable<http_response_out> {
        http_response_out out;
        out.body = std::to_string(in.body.size());
        co_return out;
    });
    EXPECT_EQ(send({"POST", base_ + "/in", {}, std::string(1000, 'x'), 5s}).body, "1000");
    auto big = send({"POST", base_ + "/in", {}, std::string(200000, 'x'), 5s});
    EXPECT_EQ(big.error, "");
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(send({"POST", base_ + "/in", {}, "{}", 5s}).status, 200) << "server keeps serving";
}

TEST_F(http_server_test, a_throwing_handler_gives_500) {
    start({}, [](const http_request_in&) -> asio::awaitable<http_response_out> {
        throw std::runtime_error("boom");
        co_return http_response_out{};
    });
    EXPECT_EQ(send({"GET", base_ + "/", {}, "", 5s}).status, 500);
}

TEST_F(http_server_test, retries_a_stale_pooled_connection_once) {
    http_server_options options;
    options.idle_timeout = 200ms;  // the server drops idle keep-alive connections quickly
    start(options, [](const http_request_in&) -> asio::awaitable<http_response_out> {
        co_return http_response_out{};
    });
    EXPECT_EQ(send({"POST", base_ + "/", {}, "1", 5s}).status, 200);
    // Wait until the server has closed the idle connection the client still pools.
    for (int i = 0; i < 200 && server_->connections_open() > 0; ++i)
        std::this_thread::sleep_for(10ms);
    ASSERT_EQ(server_->connections_open(), 0u);
    auto res = send({"POST", base_ + "/", {}, "2", 5s});
    EXPECT_EQ(res.error, "");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(server_->connections_accepted(), 2u);
}

TEST_F(http_server_test, streams_server_sent_events_until_closed) {
    start({}, [](const http_request_in&) -> asio::awaitable<http_response_out> {
        http_response_out out;
        out.on_stream = [](std::shared_ptr<sse_stream> stream) {
            EXPECT_TRUE(stream->send("{\"n\":1}"));
            EXPECT_TRUE(stream->send("line one\nline two", "incident"));
            // Nothing is written before on_stream returns: both events wait, counted in bytes.
            constexpr std::string_view both = "data: {\"n\":1}\n\nevent: incident\ndata: line one\ndata: line two\n\n";
            EXPECT_EQ(stream->queued_bytes(), both.size());
            stream->close();
            EXPECT_FALSE(stream->send("too late"));
        };
        co_return out;
    });
    auto res = send({"GET", base_ + "/api/v1/events", {}, "", 5s});
    EXPECT_EQ(res.error, "");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("content-type"), "text/event-stream");
    EXPECT_EQ(res.body, "data: {\"n\":1}\n\nevent: incident\ndata: line one\ndata: line two\n\n");
}

TEST_F(http_server_test, stop_ends_open_event_streams) {
    std::shared_ptr<sse_stream> live;
    std::mutex m;
    bool closed_seen = false;
    start({}, [&](const http_request_in&) -> asio::awaitable<http_response_out> {
        http_response_out out;
        out.on_stream = [&](std::shared_ptr<sse_stream> stream) {
            stream->on_close([&] {
                std::lock_guard lock(m);
                closed_seen = true;
            });
            std::lock_guard lock(m);
            live = stream;
        };
        co_return out;
    });
    std::thread stopper([&] {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(m);
                if (live) break;
            }
            std::this_thread::sleep_for(5ms);
        }
        {
            std::lock_guard lock(m);
            if (live) live->send("hello");
        }
        std::this_thread::sleep_for(50ms);
        server_->stop();
    });
    auto res = send({"GET", base_ + "/events", {}, "", 5s});
    stopper.join();
    EXPECT_EQ(res.error, "");
    EXPECT_EQ(res.body, "data: hello\n\n");
    auto seen = [&] {
        std::lock_guard lock(m);
        return closed_seen;
    };
    for (int i = 0; i < 200 && !seen(); ++i) std::this_thread::sleep_for(5ms);
    std::lock_guard lock(m);
    EXPECT_TRUE(closed_seen);
    EXPECT_FALSE(live->is_open());
}

// Issue 13: what a flood at a listener may take.
namespace {
// A blocking loopback TCP connection for the tests below, which must send half requests.
asio::ip::tcp::socket raw_connection(asio::io_context& io, const std::string& from, std::uint16_t port) {
    asio::ip::tcp::socket sock(io);
    sock.open(asio::ip::tcp::v4());
    sock.bind({asio::ip::make_address(from), 0});
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    return sock;
}

// Everything the server sends until it closes the connection.
std::string read_to_close(asio::ip::tcp::socket& sock) {
    std::string out;
    std::array<char, 4096> buf;
    boost::system::error_code ec;
    for (;;) {
        auto n = sock.read_some(asio::buffer(buf), ec);
        out.append(buf.data(), n);
        if (ec) return out;
    }
}
}  // namespace

TEST_F(http_server_test, a_client_trickling_its_headers_is_cut_off_at_the_header_deadline) {
    http_server_options options;
    options.header_timeout = 200ms;
    options.idle_timeout = 60s;
    start(options, [](const http_request_in&) -> asio::awaitable<http_response_out> { co_return http_response_out{}; });
    asio::io_context io;
    auto sock = raw_connection(io, "127.0.0.1", server_->port());
    asio::write(sock, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n")));
    // The server closes the connection; the read returns (with nothing: no answer is owed).
    EXPECT_EQ(read_to_close(sock), "");
}

TEST_F(http_server_test, connections_beyond_the_per_address_cap_get_503_when_none_is_idle_and_others_still_connect) {
    http_server_options options;
    options.max_connections_per_address = 2;
    std::atomic<int> entered{0};
    std::atomic<bool> go_on{false};
    start(options, [&](const http_request_in&) -> asio::awaitable<http_response_out> {
        // Holds the request in the middle (not idle) until the test lets it go.
        ++entered;
        asio::steady_timer wait(co_await asio::this_coro::executor);
        while (!go_on) {
            wait.expires_after(5ms);
            co_await wait.async_wait(asio::use_awaitable);
        }
        co_return http_response_out{};
    });
    asio::io_context io;
    auto a = raw_connection(io, "127.0.0.2", server_->port());
    auto b = raw_connection(io, "127.0.0.2", server_->port());
    for (auto* s : {&a, &b}) asio::write(*s, asio::buffer(std::string_view("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")));
    for (int i = 0; i < 400 && entered < 2; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(entered.load(), 2);
    auto c = raw_connection(io, "127.0.0.2", server_->port());
    EXPECT_NE(read_to_close(c).find("503 Service Unavailable"), std::string::npos);
    EXPECT_EQ(server_->connections_refused(), 1u);
    EXPECT_EQ(server_->connections_evicted(), 0u);
    go_on = true;
    EXPECT_EQ(send({"GET", base_ + "/", {}, "", 5s}).status, 200) << "another address is not capped";
}

TEST_F(http_server_test, at_the_per_address_cap_the_longest_idle_connection_makes_room) {
    http_server_options options;
    options.max_connections_per_address = 2;
    start(options, [](const http_request_in&) -> asio::awaitable<http_response_out> { co_return http_response_out{}; });
    asio::io_context io;
    auto a = raw_connection(io, "127.0.0.2", server_->port());
    for (int i = 0; i < 400 && server_->connections_open() < 1; ++i) std::this_thread::sleep_for(5ms);
    auto b = raw_connection(io, "127.0.0.2", server_->port());
    for (int i = 0; i < 400 && server_->connections_open() < 2; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(server_->connections_open(), 2u);
    // Neither has sent a byte: both wait for a request, a the longer. c's request is answered.
    auto c = raw_connection(io, "127.0.0.2", server_->port());
    asio::write(c, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    EXPECT_NE(read_to_close(c).find("200 OK"), std::string::npos);
    EXPECT_EQ(read_to_close(a), "") << "the longest-idle connection is closed";
    EXPECT_EQ(server_->connections_evicted(), 1u);
    EXPECT_EQ(server_->connections_refused(), 0u);
    asio::write(b, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    EXPECT_NE(read_to_close(b).find("200 OK"), std::string::npos) << "the other one was left alone";
}

TEST_F(http_server_test, a_connection_that_never_sent_a_request_makes_room_before_a_kept_alive_one) {
    http_server_options options;
    options.max_connections_per_address = 2;
    start(options, [](const http_request_in&) -> asio::awaitable<http_response_out> { co_return http_response_out{}; });
    asio::io_context io;
    // a has answered a request and idles longer than b, which never sent anything.
    auto a = raw_connection(io, "127.0.0.2", server_->port());
    asio::write(a, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::array<char, 4096> buf;
    auto got = a.read_some(asio::buffer(buf));
    ASSERT_NE(std::string_view(buf.data(), got).find("200 OK"), std::string_view::npos);
    auto b = raw_connection(io, "127.0.0.2", server_->port());
    for (int i = 0; i < 400 && server_->connections_open() < 2; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(server_->connections_open(), 2u);
    auto c = raw_connection(io, "127.0.0.2", server_->port());
    EXPECT_EQ(read_to_close(b), "") << "the connection that never sent a request goes first";
    asio::write(a, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    EXPECT_NE(read_to_close(a).find("200 OK"), std::string::npos) << "the kept-alive client keeps its connection";
    EXPECT_EQ(server_->connections_evicted(), 1u);
}

TEST_F(http_server_test, a_head_check_refuses_before_the_body_is_read) {
    std::atomic<int> handled{0};
    http_server_options options;
    options.check_head = [](const http_request_in& head) -> std::optional<http_response_out> {
        if (head.header("Authorization") == "Bearer ok") return std::nullopt;
        return http_response_out{401, "text/plain", {}, "no\n", {}};
    };
    start(options, [&](const http_request_in& in) -> asio::awaitable<http_response_out> {
        ++handled;
        http_response_out out;
        out.body = std::to_string(in.body.size());
        co_return out;
    });
    const auto before = request_bytes_in_flight();
    auto refused = send({"POST", base_ + "/in", {}, std::string(500000, 'x'), 5s});
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(handled.load(), 0);
    auto allowed = send({"POST", base_ + "/in", {{"Authorization", "Bearer ok"}}, std::string(1000, 'x'), 5s});
    EXPECT_EQ(allowed.status, 200);
    EXPECT_EQ(allowed.body, "1000");
    // Given back once the server is done with the request, just after the answer went out.
    for (int i = 0; i < 400 && request_bytes_in_flight() != before; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(request_bytes_in_flight(), before) << "each body's share of the budget is given back";
}

TEST_F(http_server_test, bodies_beyond_the_process_budget_get_503) {
    set_request_bytes_in_flight_limit(100);
    start({}, [](const http_request_in&) -> asio::awaitable<http_response_out> { co_return http_response_out{}; });
    auto res = send({"POST", base_ + "/in", {}, std::string(1000, 'x'), 5s});
    set_request_bytes_in_flight_limit(64u << 20);
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "1");
    EXPECT_EQ(send({"POST", base_ + "/in", {}, std::string(50, 'x'), 5s}).status, 200);
}

}  // namespace
}  // namespace crisisd::net
