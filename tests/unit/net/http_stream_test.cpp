// net::http_stream against a raw socket server on loopback: a chunked body read as it arrives,
// its end, a silent body failing as "stalled", and an error response with its body and headers.
#include "net/http_stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <functional>
#include <thread>

#include "fakes/io_thread.hpp"

namespace asio = boost::asio;
using crisisd::testing::run_sync;
using namespace std::chrono_literals;

namespace {

// Accepts one connection, reads the request head, then runs `script` on the socket.
class raw_server {
public:
    explicit raw_server(std::function<void(asio::ip::tcp::socket&)> script)
        : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this, script = std::move(script)] {
            asio::ip::tcp::socket s(io_);
            boost::system::error_code ec;
            acceptor_.accept(s, ec);
            if (ec) return;
            asio::streambuf buffer;
            asio::read_until(s, buffer, "\r\n\r\n", ec);
            script(s);
        });
    }
    ~raw_server() { thread_.join(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/stream"; }

private:
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

void send(asio::ip::tcp::socket& s, const std::string& text) { asio::write(s, asio::buffer(text)); }

}  // namespace

TEST(http_stream, reads_a_chunked_body_as_it_arrives_and_reports_its_end) {
    raw_server server([](asio::ip::tcp::socket& s) {
        send(s, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        send(s, "7\r\n{\"a\":1}\r\n");
        std::this_thread::sleep_for(20ms);
        send(s, "2\r\n\r\n\r\n");  // a keep-alive newline
        send(s, "9\r\n{\"b\":22}\n\r\n0\r\n\r\n");
    });
    asio::io_context io;
    crisisd::net::http_stream stream(io.get_executor(), {server.url(), {}, {}, 5000ms, 5000ms, 1024});
    ASSERT_EQ(run_sync(io, stream.open()), "");
    EXPECT_EQ(stream.status(), 200);
    std::string body, why;
    while ((why = run_sync(io, stream.read_some(body))).empty()) {
    }
    EXPECT_EQ(why, "end of stream");
    EXPECT_EQ(body, "{\"a\":1}\r\n{\"b\":22}\n");
}

TEST(http_stream, a_body_silent_past_the_stall_timeout_fails_as_stalled) {
    std::atomic<bool> done{false};
    raw_server server([&](asio::ip::tcp::socket& s) {
        send(s, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n\r\n\r\n");
        while (!done) std::this_thread::sleep_for(5ms);
    });
    asio::io_context io;
    crisisd::net::http_stream stream(io.get_executor(), {server.url(), {}, {}, 5000ms, 200ms, 1024});
    ASSERT_EQ(run_sync(io, stream.open()), "");
    std::string body;
    EXPECT_EQ(run_sync(io, stream.read_some(body)), "");
    EXPECT_EQ(body, "\r\n");
    const auto begun = std::chrono::steady_clock::now();
    EXPECT_EQ(run_sync(io, stream.read_some(body)), "stalled");
    EXPECT_GE(std::chrono::steady_clock::now() - begun, 150ms);
    done = true;
}

TEST(http_stream, an_error_response_has_its_status_headers_and_bounded_body) {
    raw_server server([](asio::ip::tcp::socket& s) {
        send(s, "HTTP/1.1 429 Too Many Requests\r\nx-rate-limit-reset: 1764490000\r\ncontent-length: 20\r\n\r\n"
                "{\"title\":\"tooooo\"} ");
    });
    asio::io_context io;
    crisisd::net::http_stream stream(io.get_executor(), {server.url(), {}, {}, 5000ms, 5000ms, 10});
    ASSERT_EQ(run_sync(io, stream.open()), "");
    EXPECT_EQ(stream.status(), 429);
    EXPECT_EQ(stream.header("X-Rate-Limit-Reset"), "1764490000");
    EXPECT_EQ(run_sync(io, stream.read_body()), "{\"title\":\"");
}

TEST(http_stream, a_refused_connection_is_an_error_not_a_response) {
    asio::io_context io;
    std::string url;
    {
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        url = "http://127.0.0.1:" + std::to_string(a.local_endpoint().port()) + "/";
    }
    crisisd::net::http_stream stream(io.get_executor(), {url, {}, {}, 2000ms, 2000ms, 1024});
    EXPECT_NE(run_sync(io, stream.open()), "");
    EXPECT_EQ(stream.status(), 0);
}
