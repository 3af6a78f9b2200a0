#include "fakes/http_receiver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <stdexcept>

#include "net/http_server.hpp"

namespace crisisd::testing {

namespace asio = boost::asio;

struct http_receiver::state {
    asio::io_context io;
    std::optional<net::http_server> server;

    mutable std::mutex mutex;
    mutable std::condition_variable arrived;
    std::vector<recorded_request> requests;
    std::deque<int> script;
    int default_status = 200;
    std::string body = "{}";
    std::string content_type = "application/json";
    std::atomic<bool> held{false};
    std::atomic<bool> stopping{false};

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& in) {
        net::http_response_out out;
        {
            std::lock_guard lock(mutex);
            requests.push_back({in.method, in.target, in.headers, in.body});
            if (!script.empty()) {
                out.status = script.front();
                script.pop_front();
            } else {
                out.status = default_status;
            }
            out.body = body;
            out.content_type = content_type;
        }
        arrived.notify_all();
        // Polling keeps release() free of cross-thread timer juggling; 2 ms is far below any
        // timeout a test holds a response for.
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (held.load() && !stopping.load()) {
            timer.expires_after(std::chrono::milliseconds(2));
            co_await timer.async_wait(asio::use_awaitable);
        }
        co_return out;
    }
};

std::string recorded_request::header(std::string_view name) const {
    auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
                   return std::tolower(x) == std::tolower(y);
               });
    };
    for (const auto& [key, value] : headers)
        if (same(key, name)) return value;
    return {};
}

http_receiver::http_receiver() : state_(std::make_shared<state>()) {}

http_receiver::~http_receiver() { stop(); }

std::uint16_t http_receiver::start() {
    auto s = state_;
    net::http_server_options options;
    options.listen = "127.0.0.1:0";
    // A raw pointer: the server is a member of the state, so the state outlives the handler.
    state* raw = s.get();
    s->server.emplace(s->io.get_executor(), options,
                      [raw](const net::http_request_in& in) { return raw->handle(in); });
    if (auto ec = s->server->start()) throw std::runtime_error("http_receiver: " + ec.message());
    auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
        s->io.get_executor());
    thread_ = std::thread([s, guard]() mutable {
        (void)guard;
        s->io.run();
    });
    // The work guard lives in the thread's lambda until stop() resets the server and stops io.
    return s->server->port();
}

void http_receiver::stop() {
    if (!thread_.joinable()) return;
    state_->stopping = true;
    state_->server->stop();
    state_->io.stop();
    thread_.join();
}

std::uint16_t http_receiver::port() const { return state_->server ? state_->server->port() : 0; }

std::string http_receiver::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

void http_receiver::script_statuses(std::vector<int> statuses) {
    std::lock_guard lock(state_->mutex);
    state_->script.assign(statuses.begin(), statuses.end());
}

void http_receiver::set_default_status(int status) {
    std::lock_guard lock(state_->mutex);
    state_->default_status = status;
}

void http_receiver::set_response_body(std::string body, std::string content_type) {
    std::lock_guard lock(state_->mutex);
    state_->body = std::move(body);
    state_->content_type = std::move(content_type);
}

void http_receiver::hold_responses() { state_->held = true; }
void http_receiver::release() { state_->held = false; }

std::vector<recorded_request> http_receiver::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::size_t http_receiver::count() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests.size();
}

bool http_receiver::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->arrived.wait_for(lock, timeout, [&] { return state_->requests.size() >= n; });
}

std::uint64_t http_receiver::connections_accepted() const {
    return state_->server ? state_->server->connections_accepted() : 0;
}

}  // namespace crisisd::testing
