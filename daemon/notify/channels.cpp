#include <fcntl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>

#include "net/http_client.hpp"
#include "notify/channel.hpp"
#include "notify/detail/http_channel.hpp"

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

std::string platform_key(const delivery& d) { return d.instance.empty() ? d.key : d.instance + "/" + d.key; }

namespace detail {

std::string headline(const incident::action_payload& p) {
    std::string out;
    if (p.incident && p.incident->severity) out += "[" + std::string(incident::to_string(*p.incident->severity)) + "] ";
    if (p.incident) {
        const auto& inc = *p.incident;
        out += "incident " + std::to_string(inc.id);
        if (!inc.rule.empty()) out += " (" + inc.rule + (inc.key.empty() ? "" : " / " + inc.key) + ")";
        if (p.event && *p.event != incident::action_event::none) out += " " + std::string(incident::to_string(*p.event));
        if (!p.text.empty()) out += ": ";
    }
    out += p.text;
    return out;
}

}  // namespace detail

namespace {

// POSTs the action's JSON to a URL. The Idempotency-Key header lets receivers that support it
// drop the duplicate a retry after a lost response would otherwise cause.
class webhook_channel final : public detail::http_channel {
public:
    using http_channel::http_channel;

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        detail::header_list h{{"Idempotency-Key", platform_key(d)}};
        for (const auto& [k, v] : settings_.headers) h.emplace_back(k, v);
        auto resp = co_await request("POST", settings_.url, std::move(h), d.payload);
        co_return judge(resp);
    }
    std::string_view type() const override { return "webhook"; }
};

// Slack incoming webhook: {"text": …}; success is 200 "ok". Slack has no idempotency, so a
// retry after a lost answer can double-post: acceptable for a page, which is why statements
// never go to Slack.
class slack_channel final : public detail::http_channel {
public:
    using http_channel::http_channel;

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        std::string text = detail::headline(*p);
        if (!p->console_url.empty()) text += " <" + p->console_url + "|open in crisisd>";
        std::string body = boost::json::serialize(boost::json::object{{"text", text}});
        auto resp = co_await request("POST", settings_.url, {}, std::move(body));
        co_return judge(resp);
    }
    std::string_view type() const override { return "slack"; }
};

// Appends each action as one JSON line and fsyncs, for local pipelines and the demo's outbox.
class file_channel final : public channel {
public:
    using channel::channel;

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
};

class log_channel final : public channel {
public:
    log_channel(const channel_settings& s, log_sink sink) : channel(s), sink_(std::move(sink)) {}
    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        if (sink_) sink_(settings_.name, d);
        co_return delivery_result{};
    }
    std::string_view type() const override { return "log"; }

private:
    log_sink sink_;
};

}  // namespace

std::unique_ptr<channel> make_channel(const channel_settings& settings, boost::asio::any_io_executor ex,
                                      const log_sink& log, std::string& error) {
    const auto& t = settings.type;
    if (t == "webhook") return std::make_unique<webhook_channel>(settings, ex);
    if (t == "slack") return std::make_unique<slack_channel>(settings, ex);
    if (t == "pagerduty") return detail::make_pagerduty(settings, ex);
    if (t == "alertmanager") return detail::make_alertmanager(settings, ex);
    if (t == "mastodon") return detail::make_mastodon(settings, ex);
    if (t == "bluesky") return detail::make_bluesky(settings, ex);
    if (t == "facebook") return detail::make_facebook(settings, ex);
    if (t == "x") return detail::make_x(settings, ex);
    if (t == "file") return std::make_unique<file_channel>(settings);
    if (t == "log") return std::make_unique<log_channel>(settings, log);
    error = "channel '" + settings.name + "': unknown type '" + t + "'";
    return nullptr;
}

}  // namespace crisisd::notify
