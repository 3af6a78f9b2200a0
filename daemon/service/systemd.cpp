#include "service/systemd.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"

namespace crisisd::service {

std::uint64_t monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

notifier::notifier() {
    // sd_notify itself says nothing when NOTIFY_SOCKET is unset (it returns 0); enabled() tells
    // the caller beforehand, so a terminal run skips building status texts altogether.
    const char* s = std::getenv("NOTIFY_SOCKET");
    enabled_ = s && *s;
    std::uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID is unset or ours. Half the interval,
    // as sd_watchdog_enabled(3) recommends: one lost or late ping must not get the service killed.
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_period_ = std::chrono::microseconds(usec / 2);
}

bool notifier::send(std::string_view state) {
    if (!enabled_) return false;
    const std::string text(state);  // sd_notify takes a NUL-terminated string
    const int r = ::sd_notify(0, text.c_str());
    if (r < 0) {
        if (!warned_) {
            const char* socket = std::getenv("NOTIFY_SOCKET");
            core::log_warning(std::string("sd_notify to ") + (socket ? socket : "?") + " failed: " + std::strerror(-r));
        }
        warned_ = true;
        return false;
    }
    return r > 0;
}

bool notifier::ready(std::string_view status_text) {
    std::string m = "READY=1";
    if (!status_text.empty()) m.append("\nSTATUS=").append(status_text);
    return send(m);
}

bool notifier::reloading() {
    return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading configuration");
}

bool notifier::stopping() { return send("STOPPING=1\nSTATUS=shutting down"); }

bool notifier::status(std::string_view text) { return send("STATUS=" + std::string(text)); }

struct periodic_notice::impl : std::enable_shared_from_this<impl> {
    boost::asio::steady_timer timer;
    notifier& n;
    std::chrono::microseconds period;
    std::function<std::string()> message;
    bool running = false;

    impl(boost::asio::any_io_executor ex, notifier& no, std::chrono::microseconds p, std::function<std::string()> m)
        : timer(std::move(ex)), n(no), period(p), message(std::move(m)) {}

    void ping() {
        if (!running) return;
        n.send(message());
        timer.expires_after(period);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->ping();
        });
    }
};

periodic_notice::periodic_notice(boost::asio::any_io_executor ex, notifier& n, std::chrono::microseconds period,
                                 std::function<std::string()> message)
    : impl_(std::make_shared<impl>(std::move(ex), n, period, std::move(message))) {}

periodic_notice::~periodic_notice() { stop(); }

void periodic_notice::start() {
    if (impl_->running || impl_->period.count() <= 0) return;
    impl_->running = true;
    impl_->ping();
}

void periodic_notice::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

supervision::supervision(boost::asio::any_io_executor ex, notifier& n, std::function<std::string()> status_line) {
    if (auto period = n.watchdog_period()) {
        watchdog_.emplace(ex, n, *period, [] { return std::string("WATCHDOG=1"); });
        watchdog_->start();
    }
    if (n.enabled())
        status_.emplace(ex, n, std::chrono::seconds(10), [line = std::move(status_line)] { return "STATUS=" + line(); });
}

void supervision::start() {
    if (status_) status_->start();
}

void supervision::stop() {
    if (watchdog_) watchdog_->stop();
    if (status_) status_->stop();
}

}  // namespace crisisd::service
