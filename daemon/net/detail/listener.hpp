#pragma once
// The listening side that http_server and websocket_server share: binding the acceptor, the
// accept loop that hands every connection, on a strand of its own, to the server's session as a
// plain or a TLS stream, and the set of open connections that stop() closes. Internal (heavy
// Asio and Beast headers).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "net/detail/async.hpp"

namespace crisisd::net::detail {

// Opens, binds and listens. Returns the port bound (what port 0 became), or 0 with `ec` set.
std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint,
                        boost::system::error_code& ec);

// A warning that may repeat many times a second (accept failing with EMFILE, connections
// refused at a cap) is logged at most once per `every`, saying how many were left unsaid, so a
// flood cannot also flood the journal. Not thread-safe: one strand uses it.
class log_throttle {
public:
    explicit log_throttle(std::chrono::steady_clock::duration every = std::chrono::seconds(10)) : every_(every) {}
    void warn(const std::string& message) {
        const auto now = std::chrono::steady_clock::now();
        if (logged_once_ && now - last_ < every_) {
            ++unsaid_;
            return;
        }
        std::string line = message;
        if (unsaid_ > 0) line += " (" + std::to_string(unsaid_) + " more like it since the last report)";
        core::log_warning(line);
        logged_once_ = true;
        last_ = now;
        unsaid_ = 0;
    }

private:
    std::chrono::steady_clock::duration every_;
    std::chrono::steady_clock::time_point last_{};
    bool logged_once_ = false;
    std::uint64_t unsaid_ = 0;
};

// Accepts until the acceptor is closed. Each connection gets a strand of its own on `ex` and goes
// to `serve` as a beast::tcp_stream, or, when `tls` is set, as a beast::ssl_stream over one whose
// handshake is serve's to do (under its own deadline). `what` names the server in the log.
template <class Serve>
boost::asio::awaitable<void> accept_connections(boost::asio::ip::tcp::acceptor& acceptor,
                                                boost::asio::any_io_executor ex,
                                                std::shared_ptr<boost::asio::ssl::context> tls, std::string what,
                                                Serve serve) {
    namespace beast = boost::beast;
    log_throttle throttle;
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(boost::asio::make_strand(ex), nothrow);
        if (ec) {
            if (!acceptor.is_open() || ec == boost::asio::error::operation_aborted) co_return;
            // Out of file descriptors and the like: keep serving the open connections and
            // try again shortly instead of spinning (the pending connection stays queued).
            throttle.warn(what + " accept: " + ec.message());
            boost::asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(nothrow);
            continue;
        }
        beast::tcp_stream plain(std::move(socket));
        if (tls)
            serve(beast::ssl_stream<beast::tcp_stream>(std::move(plain), *tls));
        else
            serve(std::move(plain));
    }
}

// The connections a server has open. Sessions add and remove themselves on their own strands
// while stop() and the counters may run on any thread, hence the mutex. T is the server's handle
// on one connection (something that closes it, or a peer to broadcast to).
template <class T>
class connection_set {
public:
    // The connection's id, or 0 once the set is closed: the caller ends the connection.
    std::uint64_t add(T connection) {
        std::lock_guard lock(mutex_);
        if (closed_) return 0;
        auto id = ++next_id_;
        open_.emplace(id, std::move(connection));
        return id;
    }

    void remove(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        open_.erase(id);
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return open_.size();
    }

    std::vector<T> snapshot() const {
        std::lock_guard lock(mutex_);
        return copy_open();
    }

    // Refuses connections from now on and returns the open ones to close; nullopt when the set
    // was closed already, so that stop() is idempotent. They stay in the set until they
    // remove themselves, so size() counts what is still draining.
    std::optional<std::vector<T>> close() { return close_and(false); }
    // Like close(), but the set forgets them at once: for connections that are dropped rather
    // than drained.
    std::optional<std::vector<T>> close_and_forget() { return close_and(true); }

private:
    std::optional<std::vector<T>> close_and(bool forget) {
        std::lock_guard lock(mutex_);
        if (closed_) return std::nullopt;
        closed_ = true;
        auto out = copy_open();
        if (forget) open_.clear();
        return out;
    }

    std::vector<T> copy_open() const {
        std::vector<T> out;
        out.reserve(open_.size());
        for (const auto& [id, connection] : open_) out.push_back(connection);
        return out;
    }

    mutable std::mutex mutex_;  // guards the fields below
    bool closed_ = false;
    std::uint64_t next_id_ = 0;
    std::map<std::uint64_t, T> open_;
};

}  // namespace crisisd::net::detail
