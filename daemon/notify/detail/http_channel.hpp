#pragma once
// Shared plumbing of the channels that speak HTTP: one keep-alive client per channel (so each
// destination host keeps its warm connection), JSON requests with the channel's timeout, and
// the mapping of transport failures to "retry".
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/http_client.hpp"
#include "notify/channel.hpp"
#include "notify/detail/payload.hpp"

namespace crisisd::notify::detail {

using header_list = std::vector<std::pair<std::string, std::string>>;

// A plain function, because GCC 12 miscompiles some aggregate temporaries inside co_return.
inline delivery_result make_result(outcome o, int status, std::string detail) {
    delivery_result r;
    r.result = o;
    r.status = status;
    r.detail = std::move(detail);
    return r;
}

// "https://mastodon.example/" → "https://mastodon.example": a base URL as configured, ready
// for an API path to be appended.
inline std::string without_trailing_slashes(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

class http_channel : public channel {
public:
    http_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : channel(s), client_(std::make_unique<net::http_client>(ex, net::tls_options{s.ca_file})) {}

    boost::asio::awaitable<void> warm_up() override {
        if (!settings_.url.empty()) co_await client_->warm_up(settings_.url);
    }

protected:
    boost::asio::awaitable<net::http_response> request(std::string method, std::string url, header_list headers,
                                                       std::string body) {
        net::http_request req;
        req.method = std::move(method);
        req.url = std::move(url);
        req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
        // JSON unless the caller names another type (an OAuth form).
        const bool typed = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Content-Type"; });
        if (!body.empty() && !typed) req.headers.emplace_back("Content-Type", "application/json");
        req.headers.emplace_back("User-Agent", "crisisd");
        for (auto& h : headers) req.headers.push_back(std::move(h));
        req.body = std::move(body);
        co_return co_await client_->send(std::move(req));
    }

    // The outcome of a plain request: no response is a transient failure.
    static delivery_result judge(const net::http_response& resp) {
        delivery_result r;
        if (resp.status == 0) {
            r.result = outcome::retry;
            r.detail = resp.error.empty() ? "no response" : resp.error;
            return r;
        }
        r.status = resp.status;
        r.result = classify_http_status(resp.status);
        if (r.result != outcome::sent) {
            r.detail = describe_response(resp.status, resp.body);
            if (auto ra = resp.header("Retry-After"); !ra.empty()) r.retry_after = parse_retry_after(ra);
        }
        return r;
    }

    static delivery_result bad_payload() {
        return make_result(outcome::failed, 0, "action payload is not a JSON object");
    }

    std::unique_ptr<net::http_client> client_;
};

std::unique_ptr<channel> make_pagerduty(const channel_settings& s, boost::asio::any_io_executor ex);
std::unique_ptr<channel> make_alertmanager(const channel_settings& s, boost::asio::any_io_executor ex);
std::unique_ptr<channel> make_mastodon(const channel_settings& s, boost::asio::any_io_executor ex);
std::unique_ptr<channel> make_bluesky(const channel_settings& s, boost::asio::any_io_executor ex);
std::unique_ptr<channel> make_facebook(const channel_settings& s, boost::asio::any_io_executor ex);
std::unique_ptr<channel> make_x(const channel_settings& s, boost::asio::any_io_executor ex, token_store* tokens);

// "[critical] incident 7 opened: <summary>" — the line people see in chat and on pagers.
std::string headline(const incident::action_payload& p);

}  // namespace crisisd::notify::detail
