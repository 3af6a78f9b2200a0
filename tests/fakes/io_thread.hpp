#pragma once
// Test helpers for asynchronous code: an io_context running on a background thread (for
// servers), and run_sync() to drive one coroutine to completion on the calling thread.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <thread>
#include <utility>

namespace crisisd::testing {

// Declare it before the objects that use its executor, so they are destroyed first.
class io_thread {
public:
    io_thread() : guard_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~io_thread() {
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;

    boost::asio::any_io_executor executor() { return io_.get_executor(); }
    boost::asio::io_context& context() { return io_; }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

// Runs `task` on `io` (on this thread) until it finishes and returns its result. Other work
// on `io` runs meanwhile; run_sync returns as soon as the task is done.
template <class T>
T run_sync(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        result.emplace(std::move(value));
        done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

inline void run_sync(boost::asio::io_context& io, boost::asio::awaitable<void> task) {
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace crisisd::testing
