#pragma once
// A plain client of the console's event stream (GET /api/v1/events) for tests and benchmarks:
// a ticket fetched with the test token, a raw socket, and a thread that reads events (or, for a
// client that stalls, reads nothing at all). Events are kept with their name and data; the
// bytes read are counted.
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace crisisd::testing {

inline std::string event_ticket(std::uint16_t port) {
    auto r = admin_request(port, "POST", "/api/v1/events/ticket");
    if (r.status != 200) throw std::runtime_error("no ticket: " + std::to_string(r.status) + " " + r.body);
    return std::string(boost::json::parse(r.body).at("ticket").as_string());
}

class sse_client {
public:
    struct event {
        std::string name, data;
    };

    // reading=false: a client that connects and then never reads (its receive buffer kept small,
    // so crisisd's writes stall at once).
    sse_client(std::uint16_t port, bool reading) : socket_(io_) {
        namespace asio = boost::asio;
        const auto ticket = event_ticket(port);
        socket_.open(asio::ip::tcp::v4());
        if (!reading) {
            int small = 4096;
            ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
        socket_.connect({asio::ip::address_v4::loopback(), port});
        std::string req = "GET /api/v1/events?ticket=" + ticket + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                          std::to_string(port) + "\r\n\r\n";
        asio::write(socket_, asio::buffer(req));
        if (reading) reader_ = std::thread([this] { read_loop(); });
    }
    ~sse_client() { close(); }

    void close() {
        boost::system::error_code ec;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        if (reader_.joinable()) reader_.join();
    }

    std::string status_line() const {
        std::lock_guard lock(m_);
        return head_.substr(0, head_.find("\r\n"));
    }
    std::vector<event> events() const {
        std::lock_guard lock(m_);
        return events_;
    }
    std::size_t size() const {
        std::lock_guard lock(m_);
        return events_.size();
    }
    std::size_t count(const std::string& name) const {
        std::lock_guard lock(m_);
        std::size_t n = 0;
        for (const auto& e : events_) n += e.name == name ? 1 : 0;
        return n;
    }
    std::uint64_t bytes() const { return bytes_.load(); }
    bool ended() const { return ended_.load(); }

private:
    void read_loop() {
        std::string buf;
        std::size_t scanned = 0;  // of buf, known to hold no blank line (a list can be megabytes)
        bool in_body = false;
        char chunk[65536];
        for (;;) {
            boost::system::error_code ec;
            auto n = socket_.read_some(boost::asio::buffer(chunk), ec);
            if (ec || n == 0) break;
            bytes_ += n;
            buf.append(chunk, n);
            if (!in_body) {
                auto end = buf.find("\r\n\r\n");
                if (end == std::string::npos) continue;
                std::lock_guard lock(m_);
                head_ = buf.substr(0, end);
                buf.erase(0, end + 4);
                in_body = true;
            }
            // Events end with a blank line; "event:" names it, "data:" lines carry it.
            std::size_t start = 0;
            for (auto end = buf.find("\n\n", scanned); end != std::string::npos; end = buf.find("\n\n", start)) {
                std::string block = buf.substr(start, end - start);
                start = end + 2;
                event e;
                std::size_t pos = 0;
                while (pos <= block.size()) {
                    auto nl = block.find('\n', pos);
                    auto line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
                    if (line.starts_with("event: ")) e.name = line.substr(7);
                    else if (line.starts_with("data: ")) e.data += (e.data.empty() ? "" : "\n") + line.substr(6);
                    if (nl == std::string::npos) break;
                    pos = nl + 1;
                }
                if (e.name.empty() && e.data.empty()) continue;  // a heartbeat comment
                std::lock_guard lock(m_);
                events_.push_back(std::move(e));
            }
            buf.erase(0, start);
            scanned = buf.empty() ? 0 : buf.size() - 1;
        }
        {
            std::lock_guard lock(m_);
            if (head_.empty()) head_ = buf;  // an error answer: status line and all
        }
        ended_ = true;
    }

    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    std::thread reader_;
    mutable std::mutex m_;
    std::string head_;
    std::vector<event> events_;
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<bool> ended_{false};
};

}  // namespace crisisd::testing
