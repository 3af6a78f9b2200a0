#include "app/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"

namespace crisisd::app::systemd {

std::uint64_t monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

notifier::notifier() {
    if (const char* s = std::getenv("NOTIFY_SOCKET"); s && (s[0] == '/' || s[0] == '@') && s[1] != '\0')
        address_ = s;
    const char* usec = std::getenv("WATCHDOG_USEC");
    const char* pid = std::getenv("WATCHDOG_PID");
    if (usec && *usec) {
        char* end = nullptr;
        auto value = std::strtoull(usec, &end, 10);
        bool ours = true;
        if (pid && *pid) ours = std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid());
        // Half the interval, as sd_watchdog_enabled() recommends: one lost or late ping must
        // not be enough to get the service killed.
        if (end && *end == '\0' && value > 0 && ours) watchdog_period_ = std::chrono::microseconds(value / 2);
    }
}

notifier::~notifier() {
    if (fd_ >= 0) ::close(fd_);
}

bool notifier::send(std::string_view state) {
    if (address_.empty()) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (address_.size() >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    // "@name" is a Linux abstract socket: the name starts with a NUL byte and is not
    // NUL-terminated, so the address length must count exactly its bytes.
    if (address_[0] == '@') addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() + (address_[0] == '@' ? 0 : 1));
    if (fd_ < 0) fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    ssize_t n;
    do {
        n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (!warned_) core::log_warning("sd_notify to " + address_ + " failed: " + std::strerror(errno));
        warned_ = true;
        return false;
    }
    return true;
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

struct watchdog::impl : std::enable_shared_from_this<impl> {
    boost::asio::steady_timer timer;
    notifier& n;
    std::chrono::microseconds period;
    bool running = false;

    impl(boost::asio::any_io_executor ex, notifier& no, std::chrono::microseconds p)
        : timer(std::move(ex)), n(no), period(p) {}

    void ping() {
        if (!running) return;
        n.send("WATCHDOG=1");
        timer.expires_after(period);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->ping();
        });
    }
};

watchdog::watchdog(boost::asio::any_io_executor ex, notifier& n, std::chrono::microseconds period)
    : impl_(std::make_shared<impl>(std::move(ex), n, period)) {}

watchdog::~watchdog() { stop(); }

void watchdog::start() {
    if (impl_->running || impl_->period.count() <= 0) return;
    impl_->running = true;
    impl_->ping();
}

void watchdog::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

}  // namespace crisisd::app::systemd
