// X (API v2): a statement is one POST /2/tweets {"text"} as the brand account, with an OAuth 2.0
// user-context access token (Authorization: Bearer). X has no idempotency key, so a retry is
// made safe by looking first: before re-sending an attempt whose answer was lost, the account's
// posts since the action (GET /2/users/:id/tweets?start_time=…) are read, and an identical text
// there is the attempt that landed. X itself refuses a text identical to a recent post of the
// account with 403 (duplicate content): that too is looked up, and counts as posted only when
// the identical post is one made since the action.
// A refused token (401) or a refused post (403) is for a person to fix: dead letter at once,
// no retry loop. 429: retry after x-rate-limit-reset. See tests/data/x/README.md.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify::detail {
namespace {

std::string json_field(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// "Forbidden: You are not allowed to create a Tweet with duplicate content." from a v2 problem
// document (title, detail) or an errors array; "" when the body has neither.
std::string problem_text(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto& o = v.get_object();
    std::string title = json_field(o, "title"), detail = json_field(o, "detail");
    if (title.empty() && detail.empty()) {
        if (auto* errors = o.if_contains("errors");
            errors && errors->is_array() && !errors->get_array().empty() && errors->get_array()[0].is_object()) {
            const auto& first = errors->get_array()[0].get_object();
            title = json_field(first, "title");
            detail = json_field(first, "message");
            if (detail.empty()) detail = json_field(first, "detail");
        }
    }
    if (detail.empty() || detail == title) return title;
    return title.empty() ? detail : title + ": " + detail;
}

bool duplicate_content(std::string_view body) { return problem_text(body).find("duplicate content") != std::string::npos; }

// How X hands a text back in a timeline: with &, < and > as HTML entities and links replaced
// by t.co links. Both sides of a comparison go through this, so a statement with a link still
// recognises its own post.
std::string comparable(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 5, "&amp;") == 0) {
            out += '&';
            i += 5;
        } else if (text.compare(i, 4, "&lt;") == 0) {
            out += '<';
            i += 4;
        } else if (text.compare(i, 4, "&gt;") == 0) {
            out += '>';
            i += 4;
        } else if (text.compare(i, 7, "http://") == 0 || text.compare(i, 8, "https://") == 0) {
            out += "<link>";
            while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') ++i;
        } else {
            out += text[i++];
        }
    }
    return out;
}

class x_channel final : public http_channel {
public:
    x_channel(const channel_settings& s, boost::asio::any_io_executor ex) : http_channel(fixed(s), ex), base_(settings_.url) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        if (p->kind != incident::action_kind::statement) co_return make_result(outcome::failed, 0, "x posts statements only; use a pager channel");
        // An earlier attempt may have posted and lost only the answer (or crisisd died waiting
        // for it): look before posting, so the statement is on X exactly once.
        if (d.attempt > 1) {
            auto landed = co_await find_post(*p);
            if (landed.result != outcome::retry || landed.status != 404) co_return landed;
        }
        std::string body = boost::json::serialize(boost::json::object{{"text", p->text}});
        auto resp = co_await request("POST", base_ + "/2/tweets", auth(), std::move(body));
        if (resp.status == 201 || resp.status == 200) {
            std::string id;
            boost::system::error_code ec;
            auto v = boost::json::parse(resp.body, ec);
            if (!ec && v.is_object())
                if (auto* data = v.get_object().if_contains("data"); data && data->is_object())
                    id = json_field(data->get_object(), "id");
            co_return make_result(outcome::sent, resp.status, id.empty() ? "" : "posted as " + id);
        }
        // X refuses the same text twice. The earlier one may be this very attempt, sent again by
        // the HTTP client on a connection X closed after posting, or an older statement with
        // the same words: only a post since the action counts as this one.
        if (resp.status == 403 && duplicate_content(resp.body)) {
            auto landed = co_await find_post(*p);
            if (landed.result == outcome::sent) co_return landed;
            if (landed.status == 404) co_return judge_post(resp);  // an older post: a person decides
            co_return landed;                                       // unknown: look again later
        }
        co_return judge_post(resp);
    }
    std::string_view type() const override { return "x"; }

private:
    static channel_settings fixed(channel_settings s) {
        if (s.url.empty()) s.url = "https://api.x.com";
        s.url = without_trailing_slashes(std::move(s.url));
        return s;
    }

    header_list auth() const { return {{"Authorization", "Bearer " + settings_.token}}; }

    static delivery_result refused(const net::http_response& resp) {
        auto why = problem_text(resp.body);
        if (resp.status == 401)
            return make_result(outcome::failed, 401,
                               "X refused the token (HTTP 401" + (why.empty() ? std::string() : ": " + why) +
                                   "): it is wrong, expired or revoked; put a fresh user-context token in the channel's token file");
        return make_result(outcome::failed, resp.status,
                           "X refused the post (HTTP 403" + (why.empty() ? std::string() : ": " + why) +
                               "): the account may not post this, or lacks the tweet.write scope");
    }

    delivery_result judge_post(const net::http_response& resp) const {
        if (resp.status == 401 || resp.status == 403) return refused(resp);
        auto r = judge(resp);
        if (resp.status == 429) {
            r.result = outcome::retry;
            if (auto wait = reset_after(resp)) r.retry_after = wait;
        }
        if (r.result != outcome::sent && !resp.body.empty()) {
            if (auto why = problem_text(resp.body); !why.empty())
                r.detail = "HTTP " + std::to_string(resp.status) + ": " + why;
        }
        return r;
    }

    // X's x-rate-limit-reset: the epoch second the window reopens; capped at an hour.
    static std::optional<core::duration> reset_after(const net::http_response& resp) {
        auto v = resp.header("x-rate-limit-reset");
        std::int64_t unix_seconds = 0;
        auto res = std::from_chars(v.data(), v.data() + v.size(), unix_seconds);
        if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size()) return std::nullopt;
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        auto wait = std::chrono::seconds(unix_seconds) - now;
        if (wait < std::chrono::seconds(1)) wait = std::chrono::seconds(1);
        if (wait > std::chrono::hours(1)) wait = std::chrono::hours(1);
        return wait;
    }

    // The account's id, learnt once (GET /2/users/me). nullopt with `failure` set otherwise.
    boost::asio::awaitable<std::optional<std::string>> account(delivery_result& failure) {
        if (!user_id_.empty()) co_return user_id_;
        auto resp = co_await request("GET", base_ + "/2/users/me", auth(), {});
        if (resp.status == 401 || resp.status == 403) {
            failure = refused(resp);
            co_return std::nullopt;
        }
        if (resp.status == 200) {
            boost::system::error_code ec;
            auto v = boost::json::parse(resp.body, ec);
            if (!ec && v.is_object())
                if (auto* data = v.get_object().if_contains("data"); data && data->is_object())
                    user_id_ = json_field(data->get_object(), "id");
            if (!user_id_.empty()) co_return user_id_;
        }
        failure = judge(resp);
        failure.result = outcome::retry;
        failure.detail = "users/me: " + (failure.detail.empty() ? describe_response(resp.status, resp.body) : failure.detail);
        co_return std::nullopt;
    }

    // sent: the text is among the account's posts since the action; retry with status 404: it
    // is not; anything else: unknown (X is failing), so wait rather than risk a second post.
    boost::asio::awaitable<delivery_result> find_post(const incident::action_payload& p) {
        delivery_result failure;
        auto id = co_await account(failure);
        if (!id) co_return failure;
        // A minute before the action, for clocks that disagree; an older identical text is an
        // earlier incident's statement, not this attempt.
        auto since = std::chrono::time_point_cast<std::chrono::seconds>(p.at - std::chrono::minutes(1));
        auto url = base_ + "/2/users/" + *id + "/tweets?max_results=100&tweet.fields=created_at&start_time=" +
                   core::format_rfc3339(since);
        auto resp = co_await request("GET", url, auth(), {});
        if (resp.status == 401 || resp.status == 403) co_return refused(resp);
        if (resp.status != 200) {
            auto r = judge(resp);
            r.result = outcome::retry;
            r.detail = "reading the account's posts: " + (r.detail.empty() ? describe_response(resp.status, resp.body) : r.detail);
            co_return r;
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(resp.body, ec);
        if (ec || !v.is_object()) co_return make_result(outcome::retry, 200, "reading the account's posts: not JSON");
        const auto wanted = comparable(p.text);
        if (auto* data = v.get_object().if_contains("data"); data && data->is_array()) {
            for (const auto& post : data->get_array()) {
                if (!post.is_object()) continue;
                if (comparable(json_field(post.get_object(), "text")) == wanted)
                    co_return make_result(outcome::sent, 200, "already posted as " + json_field(post.get_object(), "id"));
            }
        }
        co_return make_result(outcome::retry, 404, "not posted yet");
    }

    std::string base_;
    std::string user_id_;
};

}  // namespace

std::unique_ptr<channel> make_x(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<x_channel>(s, ex);
}

}  // namespace crisisd::notify::detail
