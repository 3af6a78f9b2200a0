#pragma once
// The service manager protocol through libsystemd: readiness, reload and stop notifications
// (sd_notify) to $NOTIFY_SOCKET, and notices repeated from the event loop: the watchdog, so that
// a stuck loop — not merely a live process — is what systemd restarts, and the status line
// `systemctl status` shows.
//
// Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op, so `crisisd run` behaves the
// same in a terminal, a container or a unit. notifier is not thread-safe: the daemon's thread
// owns it. periodic_notice runs on the io_context it is given and must be stopped (or
// destroyed) before that io_context.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::service {

class notifier {
public:
    // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment once (through
    // sd_watchdog_enabled for the last two); the environment is left as it is.
    notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    // True when a notification socket was named.
    bool enabled() const { return enabled_; }
    // Sends newline-separated assignments ("READY=1\nSTATUS=…") with sd_notify. False when
    // disabled or the send failed (the failure is logged once, never thrown).
    bool send(std::string_view state);

    bool ready(std::string_view status = {});
    // RELOADING=1 with MONOTONIC_USEC, which systemd (253+) needs to match the reload to the
    // READY=1 that ends it; older versions ignore the extra field.
    bool reloading();
    bool stopping();
    bool status(std::string_view text);

    // Half of WATCHDOG_USEC — how often WATCHDOG=1 must be sent — when systemd asked for a
    // watchdog for this process (WATCHDOG_PID unset or equal to ours).
    std::optional<std::chrono::microseconds> watchdog_period() const { return watchdog_period_; }

private:
    bool enabled_ = false;
    bool warned_ = false;
    std::optional<std::chrono::microseconds> watchdog_period_;
};

// Sends what `message` returns ("WATCHDOG=1", "STATUS=…") at start and then every period, from
// a timer on the event loop. For the watchdog that is the point: when the loop blocks, the pings
// stop and systemd restarts the service after WatchdogSec.
class periodic_notice {
public:
    periodic_notice(boost::asio::any_io_executor ex, notifier& n, std::chrono::microseconds period,
                    std::function<std::string()> message);
    ~periodic_notice();
    void start();
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// What a running service repeats from its event loop: WATCHDOG=1 from construction when systemd
// asked for a watchdog (a loop that wedges stops the pings, and systemd restarts the service,
// which a separate thread would never notice), and from start() the status line
// (`systemctl status`: STATUS= what `status_line` returns) every 10 s. Both end at stop().
class supervision {
public:
    supervision(boost::asio::any_io_executor ex, notifier& n, std::function<std::string()> status_line);
    void start();
    void stop();

private:
    std::optional<periodic_notice> watchdog_, status_;
};

// Microseconds of CLOCK_MONOTONIC, as systemd's MONOTONIC_USEC expects.
std::uint64_t monotonic_usec();

}  // namespace crisisd::service
