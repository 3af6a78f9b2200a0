#pragma once
// A real HTTP server for integration tests: records every request, answers with a scripted
// status sequence (e.g. 500, 500, then 200), can hold answers until released, and runs its
// own io_context on its own thread. Every member is thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace crisisd::testing {

struct recorded_request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

class http_receiver {
public:
    http_receiver();
    ~http_receiver();  // stop()
    http_receiver(const http_receiver&) = delete;
    http_receiver& operator=(const http_receiver&) = delete;

    // Listens on 127.0.0.1 (a free port) and returns the port; throws if it cannot bind.
    std::uint16_t start();
    void stop();
    std::uint16_t port() const;
    std::string url(std::string_view path = "/") const;  // "http://127.0.0.1:<port><path>"

    // Answers the next requests with these statuses in order, then with the default status.
    void script_statuses(std::vector<int> statuses);
    void set_default_status(int status);
    void set_response_body(std::string body, std::string content_type = "application/json");

    // While held, requests are recorded at once but answered only after release().
    void hold_responses();
    void release();

    std::vector<recorded_request> requests() const;
    std::size_t count() const;
    // True when at least n requests arrived within timeout.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
    std::uint64_t connections_accepted() const;

private:
    struct state;
    std::shared_ptr<state> state_;
    std::thread thread_;
};

}  // namespace crisisd::testing
