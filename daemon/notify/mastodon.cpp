// Mastodon POST /api/v1/statuses (PROTOCOLS.md §4). The Idempotency-Key header makes a retry
// after a lost answer (or a crash mid-request) return the first status instead of posting a
// second one; Mastodon keeps keys for an hour, far longer than the outbox retries a statement.
#include <openssl/sha.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify {

std::string mastodon_idempotency_key(std::string_view action_key, std::string_view base_url) {
    std::string input = "crisisd\n";
    input += action_key;
    input += '\n';
    input += base_url;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "crisisd-";
    for (unsigned char b : digest) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

namespace detail {
namespace {

class mastodon_channel final : public http_channel {
public:
    mastodon_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : http_channel(s, ex), endpoint_(without_trailing_slashes(s.url) + "/api/v1/statuses") {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        if (p->kind != incident::action_kind::statement)
            co_return make_result(outcome::failed, 0, "mastodon posts statements only; use a pager channel");
        boost::json::object status{{"status", p->text}, {"visibility", settings_.visibility}};
        if (p->language.size() == 2) status["language"] = p->language;
        std::string body = boost::json::serialize(status);
        header_list h{{"Authorization", "Bearer " + settings_.token},
                      {"Idempotency-Key", mastodon_idempotency_key(platform_key(d), settings_.url)}};
        auto resp = co_await request("POST", endpoint_, std::move(h), std::move(body));
        auto r = judge(resp);
        // 401 (bad token), 403 (account disabled), 422 (text refused) land in the dead letters via
        // judge(); a 429 says when the window resets, as an ISO 8601 time rather than seconds.
        if (resp.status == 429) {
            if (auto reset = core::parse_rfc3339(resp.header("X-RateLimit-Reset"))) {
                auto now = std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
                auto wait = *reset - now;
                if (wait < core::duration::zero()) wait = core::duration::zero();
                if (wait > std::chrono::hours(1)) wait = std::chrono::hours(1);
                r.retry_after = wait;
            }
        }
        co_return r;
    }
    std::string_view type() const override { return "mastodon"; }

private:
    std::string endpoint_;
};

}  // namespace

std::unique_ptr<channel> make_mastodon(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<mastodon_channel>(s, ex);
}

}  // namespace detail
}  // namespace crisisd::notify
