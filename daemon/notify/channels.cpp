#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/this_coro.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "notify/channel.hpp"
#include "net/http_client.hpp"

namespace crisisd::notify {

std::string_view to_string(outcome o) {
    switch (o) {
        case outcome::sent: return "sent";
        case outcome::retry: return "retry";
        case outcome::failed: return "failed";
    }
    return "failed";
}

outcome classify_http_status(int status) {
    if (status >= 200 && status < 300) return outcome::sent;
    if (status == 408 || status == 429 || status >= 500) return outcome::retry;
    return outcome::failed;
}

boost::asio::awaitable<void> channel::warm_up() { co_return; }

namespace {

// Retry-After is either delta-seconds or an HTTP date; only the first form is worth honouring
// here (an HTTP date from a webhook receiver is rare, and we back off anyway).
std::optional<core::duration> parse_retry_after(std::string_view v) {
    unsigned long seconds = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return std::nullopt;
    return std::chrono::seconds(std::min<unsigned long>(seconds, 3600));
}

// POSTs the action's JSON to a URL. The Idempotency-Key header lets receivers that support it
// drop the duplicate a retry after a lost response would otherwise cause.
class webhook_channel final : public channel {
public:
    webhook_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : settings_(s), client_(std::make_unique<net::http_client>(ex, net::tls_options{s.ca_file})) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        net::http_request req;
        req.method = "POST";
        req.url = settings_.url;
        req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
        req.headers.emplace_back("Content-Type", "application/json");
        req.headers.emplace_back("Idempotency-Key", d.key);
        req.headers.emplace_back("User-Agent", "crisisd");
        for (const auto& [k, v] : settings_.headers) req.headers.emplace_back(k, v);
        req.body = d.payload;
        auto resp = co_await client_->send(std::move(req));
        delivery_result r;
        if (resp.status == 0) {
            r.result = outcome::retry;
            r.detail = resp.error.empty() ? "no response" : resp.error;
            co_return r;
        }
        r.status = resp.status;
        r.result = classify_http_status(resp.status);
        if (r.result != outcome::sent) {
            r.detail = "HTTP " + std::to_string(resp.status);
            if (auto ra = resp.header("Retry-After"); !ra.empty()) r.retry_after = parse_retry_after(ra);
        }
        co_return r;
    }

    boost::asio::awaitable<void> warm_up() override { co_await client_->warm_up(settings_.url); }
    std::string_view type() const override { return "webhook"; }

private:
    channel_settings settings_;
    std::unique_ptr<net::http_client> client_;
};

// Appends each action as one JSON line and fsyncs, for local pipelines and the demo's outbox.
class file_channel final : public channel {
public:
    explicit file_channel(const channel_settings& s) : settings_(s) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        delivery_result r;
        int fd = ::open(settings_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            r.result = outcome::retry;
            r.detail = "open " + settings_.path + ": " + std::strerror(errno);
            co_return r;
        }
        std::string line = d.payload;
        line += '\n';
        const char* p = line.data();
        std::size_t left = line.size();
        while (left > 0) {
            auto n = ::write(fd, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                r.result = outcome::retry;
                r.detail = "write " + settings_.path + ": " + std::strerror(errno);
                ::close(fd);
                co_return r;
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        ::fsync(fd);
        ::close(fd);
        co_return r;
    }
    std::string_view type() const override { return "file"; }

private:
    channel_settings settings_;
};

class log_channel final : public channel {
public:
    log_channel(const channel_settings& s, log_sink sink) : name_(s.name), sink_(std::move(sink)) {}
    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        if (sink_) sink_(name_, d);
        co_return delivery_result{};
    }
    std::string_view type() const override { return "log"; }

private:
    std::string name_;
    log_sink sink_;
};

}  // namespace

std::unique_ptr<channel> make_channel(const channel_settings& settings, boost::asio::any_io_executor ex,
                                      const log_sink& log, std::string& error) {
    if (settings.type == "webhook") return std::make_unique<webhook_channel>(settings, ex);
    if (settings.type == "file") return std::make_unique<file_channel>(settings);
    if (settings.type == "log") return std::make_unique<log_channel>(settings, log);
    error = "channel '" + settings.name + "': unknown type '" + settings.type + "'";
    return nullptr;
}

}  // namespace crisisd::notify
