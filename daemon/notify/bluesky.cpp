// Bluesky via the AT Protocol (PROTOCOLS.md §5): createSession once and cache it (the PDS allows
// 30 logins per 5 minutes), refresh on ExpiredToken, createRecord with a record key derived from
// the action, and getRecord to learn whether an attempt whose answer was lost had landed. The
// server has no idempotency of its own; the client-chosen rkey is what makes a retry safe.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify {

std::string bluesky_rkey(std::string_view action_key, core::timestamp at) {
    static constexpr char alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
    std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a
    for (unsigned char c : action_key) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(0, at.time_since_epoch().count()));
    std::uint64_t tid = ((micros & ((1ULL << 53) - 1)) << 10) | (hash & 0x3FF);
    std::string out(13, '2');
    for (int i = 12; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = alphabet[tid & 31];
        tid >>= 5;
    }
    return out;
}

namespace detail {
namespace {

constexpr std::string_view collection = "app.bsky.feed.post";

struct xrpc_error {
    std::string error;
    std::string message;
};

xrpc_error read_error(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    xrpc_error e;
    if (ec || !v.is_object()) return e;
    const auto& o = v.get_object();
    if (auto* x = o.if_contains("error"); x && x->is_string()) e.error = std::string(x->get_string());
    if (auto* x = o.if_contains("message"); x && x->is_string()) e.message = std::string(x->get_string());
    return e;
}

std::string field(std::string_view body, std::string_view name) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    auto* x = v.get_object().if_contains(name);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
}

class bluesky_channel final : public http_channel {
public:
    bluesky_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : http_channel(fixed(s), ex), base_(settings_.url) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        if (p->kind != incident::action_kind::statement)
            co_return make_result(outcome::failed, 0, "bluesky posts statements only; use a pager channel");
        if (access_.empty()) {
            if (auto failed = co_await login()) co_return *failed;
        }
        auto rkey = bluesky_rkey(platform_key(d), p->at);
        // An earlier attempt may have created the record and lost only the answer (or crisisd
        // died waiting for it): ask before creating, so the post exists exactly once.
        if (d.attempt > 1) {
            auto landed = co_await exists(rkey);
            if (landed.result == outcome::sent) {
                landed.detail = "already posted as " + rkey;
                co_return landed;
            }
            // Unknown (the PDS is failing): wait rather than risk a second post.
            if (landed.status != 404) co_return landed;
        }
        auto body = record_body(*p, rkey);
        auto resp = co_await request("POST", base_ + "/xrpc/com.atproto.repo.createRecord", auth(), body);
        if (resp.status == 400 || resp.status == 401) {
            auto e = read_error(resp.body);
            if (e.error == "ExpiredToken" || e.error == "InvalidToken" || e.error == "AuthRequired") {
                if (auto failed = co_await refresh()) co_return *failed;
                resp = co_await request("POST", base_ + "/xrpc/com.atproto.repo.createRecord", auth(), body);
            }
        }
        auto r = judge(resp);
        if (resp.status == 429) r.retry_after = reset_after(resp);
        if (r.result == outcome::sent || resp.status == 429) co_return r;
        // A failed create may be the duplicate of a record that landed (the error a PDS gives
        // for an existing rkey is not documented), or a 5xx after the commit: look it up.
        if (resp.status == 0 || resp.status == 400 || resp.status >= 500) {
            auto landed = co_await exists(rkey);
            if (landed.result == outcome::sent) {
                landed.detail = "already posted as " + rkey;
                co_return landed;
            }
        }
        co_return r;
    }
    std::string_view type() const override { return "bluesky"; }

private:
    static channel_settings fixed(channel_settings s) {
        if (s.url.empty()) s.url = "https://bsky.social";
        s.url = without_trailing_slashes(std::move(s.url));
        return s;
    }

    header_list auth() const { return {{"Authorization", "Bearer " + access_}}; }

    static std::optional<core::duration> reset_after(const net::http_response& resp) {
        auto v = resp.header("RateLimit-Reset");
        std::int64_t unix_seconds = 0;
        auto res = std::from_chars(v.data(), v.data() + v.size(), unix_seconds);
        if (res.ec != std::errc() || v.empty()) return std::nullopt;
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        auto wait = std::chrono::seconds(unix_seconds) - now;
        if (wait < std::chrono::seconds(0)) wait = std::chrono::seconds(0);
        if (wait > std::chrono::hours(1)) wait = std::chrono::hours(1);
        return wait;
    }

    // Failure of a session call as a delivery result: bad credentials are for a person to fix.
    static delivery_result session_failure(const net::http_response& resp, std::string_view what) {
        auto r = judge(resp);
        if (resp.status == 401 || resp.status == 400) {
            r.result = outcome::failed;
            r.detail = std::string(what) + " refused: " + describe_response(resp.status, resp.body);
        } else {
            r.detail = std::string(what) + ": " + r.detail;
        }
        return r;
    }

    boost::asio::awaitable<std::optional<delivery_result>> login() {
        std::string body = boost::json::serialize(
            boost::json::object{{"identifier", settings_.identifier}, {"password", settings_.password}});
        auto resp = co_await request("POST", base_ + "/xrpc/com.atproto.server.createSession", {}, std::move(body));
        if (resp.status != 200) co_return session_failure(resp, "createSession");
        adopt(resp.body);
        if (access_.empty() || did_.empty())
            co_return make_result(outcome::retry, 200, "createSession: answer without accessJwt/did");
        co_return std::nullopt;
    }

    boost::asio::awaitable<std::optional<delivery_result>> refresh() {
        access_.clear();
        if (!refresh_.empty()) {
            header_list h;
            h.emplace_back("Authorization", "Bearer " + refresh_);
            auto resp = co_await request("POST", base_ + "/xrpc/com.atproto.server.refreshSession", std::move(h), {});
            if (resp.status == 200) {
                adopt(resp.body);
                if (!access_.empty()) co_return std::nullopt;
            }
            if (resp.status == 0 || resp.status >= 500) co_return session_failure(resp, "refreshSession");
        }
        // The refresh token expired too (or was revoked): log in again.
        refresh_.clear();
        auto again = co_await login();
        co_return again;
    }

    void adopt(std::string_view body) {
        access_ = field(body, "accessJwt");
        refresh_ = field(body, "refreshJwt");
        if (auto did = field(body, "did"); !did.empty()) did_ = did;
    }

    // sent: the record exists; retry with status 404: it does not; anything else: unknown.
    boost::asio::awaitable<delivery_result> exists(const std::string& rkey) {
        auto url = base_ + "/xrpc/com.atproto.repo.getRecord?repo=" + did_ + "&collection=" + std::string(collection) +
                   "&rkey=" + rkey;
        auto resp = co_await request("GET", url, auth(), {});
        if (resp.status == 200) co_return make_result(outcome::sent, 200, "");
        if (resp.status == 400 || resp.status == 404) {
            auto e = read_error(resp.body);
            if (e.error == "RecordNotFound" || resp.status == 404)
                co_return make_result(outcome::retry, 404, "not posted yet");
            if (e.error == "ExpiredToken") access_.clear();
        }
        auto r = judge(resp);
        r.result = outcome::retry;
        if (r.detail.empty()) r.detail = "getRecord: " + describe_response(resp.status, resp.body);
        co_return r;
    }

    std::string record_body(const incident::action_payload& p, const std::string& rkey) const {
        boost::json::object record{{"$type", collection}, {"text", p.text}, {"createdAt", created_at(p.at)}};
        if (p.language.size() == 2) record["langs"] = boost::json::array{boost::json::string(p.language)};
        return boost::json::serialize(boost::json::object{
            {"repo", did_}, {"collection", collection}, {"rkey", rkey}, {"validate", true}, {"record", std::move(record)}});
    }

    // Lexicon datetimes want milliseconds; the action's time keeps retries identical.
    static std::string created_at(core::timestamp t) {
        auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(t);
        auto s = core::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(ms));
        auto frac = (ms.time_since_epoch().count() % 1000 + 1000) % 1000;
        char buf[8];
        std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
        return s.substr(0, s.size() - 1) + buf + "Z";
    }

    std::string base_;
    std::string access_;
    std::string refresh_;
    std::string did_;
};

}  // namespace

std::unique_ptr<channel> make_bluesky(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<bluesky_channel>(s, ex);
}

}  // namespace detail
}  // namespace crisisd::notify
