#pragma once
// Coroutine helpers shared by net/ and its users' .cpp files. Internal (heavy Asio headers).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <string>
#include <utility>

#include "core/log.hpp"

namespace crisisd::net::detail {

// Expected I/O errors come back as values: `auto [ec, n] = co_await op(nothrow);`
inline constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

// Completion handler for co_spawn: nothing may escape a coroutine silently, so an exception
// that reaches the top of one is logged with the coroutine's name.
struct log_completion {
    std::string name;
    template <class... Result>
    void operator()(std::exception_ptr error, Result&&...) const {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            core::log_error(name + ": unexpected exception: " + e.what());
        } catch (...) {
            core::log_error(name + ": unexpected exception");
        }
    }
};

}  // namespace crisisd::net::detail
