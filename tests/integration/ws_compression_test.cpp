// Issue 14, compression reachable: a websocket source with `compression: deflate` offers
// permessage-deflate in its upgrade, and the compressed messages a server then sends are read
// like any other. Through the real binary against a Beast websocket server on loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <thread>

#include "child_process.hpp"
#include "support.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

// Accepts one websocket client, with permessage-deflate enabled on the server side, records
// the extensions it offered, sends `messages`, then holds the connection until it closes.
class deflate_server {
public:
    explicit deflate_server(std::vector<std::string> messages) : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this, messages = std::move(messages)] {
            boost::system::error_code ec;
            asio::ip::tcp::socket socket(io_);
            acceptor_.accept(socket, ec);
            if (ec) return;
            beast::flat_buffer buffer;
            beast::http::request<beast::http::string_body> req;
            beast::http::read(socket, buffer, req, ec);
            if (ec) return;
            {
                std::lock_guard lock(m_);
                offered_ = std::string(req[beast::http::field::sec_websocket_extensions]);
            }
            beast::websocket::stream<asio::ip::tcp::socket> ws(std::move(socket));
            beast::websocket::permessage_deflate pmd;
            pmd.server_enable = true;
            ws.set_option(pmd);
            ws.accept(req, ec);
            if (ec) return;
            for (const auto& m : messages) {
                ws.text(true);
                ws.write(asio::buffer(m), ec);
                if (ec) return;
            }
            beast::flat_buffer sink;
            while (!ec) ws.read(sink, ec);
        });
    }
    ~deflate_server() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string offered() const {
        std::lock_guard lock(m_);
        return offered_;
    }

private:
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex m_;
    std::string offered_;
};

}  // namespace

TEST(ws_compression, a_source_with_compression_deflate_negotiates_it_and_reads_compressed_messages) {
    std::vector<std::string> messages;
    for (int i = 0; i < 20; ++i)
        messages.push_back(crisisd::testing::mention_json(i, "@user" + std::to_string(i),
                                                          "liwest is down again in Linz, the same complaint as everyone"));
    deflate_server server(messages);
    const crisisd::testing::temp_dir dir("crisisd-ws-deflate");
    crisisd::testing::write_config(dir.path, R"(sources:
  - { name: ws, type: websocket, url: "ws://127.0.0.1:)" + std::to_string(server.port()) + R"(/", compression: deflate }
channels:
  - { name: pager, type: log }
rules:
  - { name: r, match: { keywords: [liwest] }, window: 10m, baseline: 1h, fire_when: { all: [count >= 1000] },
      clear_when: { all: [count < 1], for: 1h }, severity: critical, playbook: p }
playbooks:
  - { name: p, steps: [ { notify: [pager] } ] }
)");
    child_process d(crisisd::testing::crisisd_run(dir.path));
    const auto port = d.wait_for_port(crisisd::testing::console_line, 20s);
    ASSERT_NE(port, 0) << d.stderr_text();
    ASSERT_TRUE(wait_until(
        [&] { return metric(admin_get(port, "/metrics"), "crisisd_mentions_processed_total") == 20; }, 20s))
        << d.stderr_text();
    EXPECT_NE(server.offered().find("permessage-deflate"), std::string::npos) << server.offered();
    d.terminate(15s);
}
