// X (API v2): a statement is one POST /2/tweets {"text"} as the brand account, with an OAuth 2.0
// user-context access token (Authorization: Bearer). X has no idempotency key, so a retry is
// made safe by looking first: before re-sending an attempt whose answer was lost, the account's
// posts since the action (GET /2/users/:id/tweets?start_time=…) are read, and an identical text
// there is the attempt that landed. X itself refuses a text identical to a recent post of the
// account with 403 (duplicate content): that too is looked up, and counts as posted only when
// the identical post is one made since the action.
//
// Access tokens come from the refresh-token grant (POST /2/oauth2/token): they live about two
// hours and are renewed before they lapse and on a 401. X's refresh tokens are single-use: each
// refresh spends the token presented and answers with its successor, which is saved (the state
// database, through token_store) before the access token that came with it is used. A refresh
// X refuses (spent, revoked, the app's client refused) is for a person: dead letter at once.
// A refused post (403) is too; 429: retry after x-rate-limit-reset. See tests/data/x/README.md.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "core/log.hpp"
#include "notify/detail/http_channel.hpp"
#include "notify/detail/oauth.hpp"

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
    x_channel(const channel_settings& s, boost::asio::any_io_executor ex, token_store* tokens)
        : http_channel(fixed(s), ex), base_(settings_.url), tokens_(tokens) {}

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
        delivery_result failure;
        auto resp = co_await call("POST", base_ + "/2/tweets", std::move(body), failure);
        if (!resp) co_return failure;
        if (resp->status == 201 || resp->status == 200) {
            std::string id;
            boost::system::error_code ec;
            auto v = boost::json::parse(resp->body, ec);
            if (!ec && v.is_object())
                if (auto* data = v.get_object().if_contains("data"); data && data->is_object())
                    id = json_field(data->get_object(), "id");
            co_return make_result(outcome::sent, resp->status, id.empty() ? "" : "posted as " + id);
        }
        // X refuses the same text twice. The earlier one may be this very attempt, sent again by
        // the HTTP client on a connection X closed after posting, or an older statement with
        // the same words: only a post since the action counts as this one.
        if (resp->status == 403 && duplicate_content(resp->body)) {
            auto landed = co_await find_post(*p);
            if (landed.result == outcome::sent) co_return landed;
            if (landed.status == 404) co_return judge_post(*resp);  // an older post: a person decides
            co_return landed;                                        // unknown: look again later
        }
        co_return judge_post(*resp);
    }
    std::string_view type() const override { return "x"; }

private:
    static channel_settings fixed(channel_settings s) {
        if (s.url.empty()) s.url = "https://api.x.com";
        s.url = without_trailing_slashes(std::move(s.url));
        return s;
    }

    // --- the refresh-token grant ---

    // The refresh token to present: the configured one, unless the state database holds a
    // successor of that very token (same origin), which is newer. A configured token that is not
    // the stored chain's origin was put there by a person after the chain: it wins.
    void load_refresh_token() {
        loaded_ = true;
        origin_ = token_fingerprint(settings_.refresh_token);
        refresh_ = settings_.refresh_token;
        if (!tokens_) return;
        auto stored = tokens_->load(settings_.name);
        if (!stored) return;
        if (stored->origin == origin_) {
            refresh_ = stored->token;
            core::log_info("channel " + settings_.name + ": using the refresh token X last handed over (state database)");
        } else {
            core::log(core::log_level::notice, "channel " + settings_.name +
                                                   ": the configured refresh token is a new one; it replaces the token "
                                                   "kept in the state database");
        }
    }

    // Saves the successor X handed over; until that worked, nothing is sent with its access
    // token (a restart would otherwise present a spent token while X holds a post made with it).
    bool save_refresh_token() {
        if (!tokens_ || tokens_->save(settings_.name, {refresh_, origin_})) {
            unsaved_ = false;
            return true;
        }
        unsaved_ = true;
        return false;
    }

    delivery_result unsaved_failure() const {
        auto why = tokens_ ? tokens_->last_error() : std::string();
        return make_result(outcome::retry, 0,
                           "X handed over a new refresh token that could not be saved to the state database" +
                               (why.empty() ? std::string() : " (" + why + ")") +
                               "; it is kept in memory and nothing is posted until it is saved");
    }

    // A usable access token, refreshing when there is none or it is due. false with `failure`
    // set when there is none to be had now.
    boost::asio::awaitable<bool> ensure_access(delivery_result& failure) {
        if (!loaded_) load_refresh_token();
        if (unsaved_ && !save_refresh_token()) {
            failure = unsaved_failure();
            co_return false;
        }
        if (!access_.empty() && std::chrono::steady_clock::now() < access_until_) co_return true;
        co_return co_await refresh(failure);
    }

    boost::asio::awaitable<bool> refresh(delivery_result& failure) {
        access_.clear();
        const bool confidential = !settings_.client_secret.empty();
        header_list h{{"Content-Type", "application/x-www-form-urlencoded"}};
        if (confidential) h.emplace_back("Authorization", basic_credentials(settings_.client_id, settings_.client_secret));
        const auto asked = std::chrono::steady_clock::now();
        auto resp = co_await request("POST", base_ + "/2/oauth2/token", std::move(h),
                                     refresh_form(refresh_, settings_.client_id, confidential));
        auto answer = parse_token_answer(resp.body);
        if (resp.status == 200 && answer && !answer->access_token.empty()) {
            // X rotates: the token just presented is spent, and only the successor works now.
            // The access token waits behind the save (ensure_access checks unsaved_ first).
            access_ = answer->access_token;
            access_until_ = asked + use_for(answer->expires_in);
            core::log_info("channel " + settings_.name + ": new access token from X, valid " +
                           core::format_duration(answer->expires_in));
            if (!answer->refresh_token.empty() && answer->refresh_token != refresh_) {
                refresh_ = answer->refresh_token;
                if (!save_refresh_token()) {
                    failure = unsaved_failure();
                    core::log_error("channel " + settings_.name + ": " + failure.detail);
                    co_return false;
                }
            }
            co_return true;
        }
        failure = refresh_refused(resp, answer);
        if (failure.result == outcome::failed) core::log_error("channel " + settings_.name + ": " + failure.detail);
        co_return false;
    }

    // What a token endpoint's refusal means. RFC 6749 §5.2: 400 invalid_grant (X answers a
    // spent or revoked refresh token with invalid_request, "Value passed for the token was
    // invalid"), 401 invalid_client; neither gets better by asking again.
    static delivery_result refresh_refused(const net::http_response& resp, const std::optional<token_answer>& answer) {
        if (resp.status == 0 || classify_http_status(resp.status) == outcome::retry) {
            auto r = judge(resp);
            r.result = outcome::retry;
            r.detail = "refreshing the access token: " + (r.detail.empty() ? describe_response(resp.status, resp.body) : r.detail);
            return r;
        }
        std::string why = "HTTP " + std::to_string(resp.status);
        if (answer && !answer->error.empty()) {
            why += " " + answer->error;
            if (!answer->error_description.empty()) why += ": " + answer->error_description;
        } else if (resp.status != 200) {
            why = describe_response(resp.status, resp.body);
        }
        if (resp.status == 200)
            return make_result(outcome::retry, 200, "refreshing the access token: X's answer holds no access token");
        const bool client = answer && (answer->error == "invalid_client" || answer->error == "unauthorized_client");
        if (client)
            return make_result(outcome::failed, resp.status,
                               "X refused the app's OAuth 2.0 client (" + why +
                                   "): check the channel's client_id and client_secret against the app's keys");
        return make_result(outcome::failed, resp.status,
                           "X refused the refresh token (" + why +
                               "): it is spent, revoked or expired; authorize the app again as the brand account "
                               "(scopes tweet.read tweet.write users.read offline.access), put the new refresh token "
                               "in the channel's refresh_token file and restart crisisd");
    }

    header_list bearer() const { return {{"Authorization", "Bearer " + access_}}; }

    // One API request with a current access token. A 401 on a token held from before means X
    // no longer takes it (it lapsed early, or was revoked): refreshed once and asked again,
    // which is safe because a 401 request did nothing. nullopt with `failure` set when no token
    // could be had.
    boost::asio::awaitable<std::optional<net::http_response>> call(std::string method, std::string url, std::string body,
                                                                    delivery_result& failure) {
        // A token fetched for this very request that meets a 401 is not stale: asking X for
        // another would only spend one more refresh token on the same refusal.
        const bool held = !access_.empty() && std::chrono::steady_clock::now() < access_until_;
        if (!co_await ensure_access(failure)) co_return std::nullopt;
        auto resp = co_await request(method, url, bearer(), body);
        if (resp.status != 401 || !held) co_return resp;
        core::log_info("channel " + settings_.name + ": X refused the access token (401); refreshing it");
        access_.clear();
        if (!co_await ensure_access(failure)) co_return std::nullopt;
        co_return co_await request(std::move(method), std::move(url), bearer(), std::move(body));
    }

    static delivery_result refused(const net::http_response& resp) {
        auto why = problem_text(resp.body);
        if (resp.status == 401)
            return make_result(outcome::failed, 401,
                               "X refused the access token (HTTP 401" + (why.empty() ? std::string() : ": " + why) +
                                   ") even as freshly refreshed: the grant lacks a scope or the account is locked");
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
        auto resp = co_await call("GET", base_ + "/2/users/me", {}, failure);
        if (!resp) co_return std::nullopt;
        if (resp->status == 401 || resp->status == 403) {
            failure = refused(*resp);
            co_return std::nullopt;
        }
        if (resp->status == 200) {
            boost::system::error_code ec;
            auto v = boost::json::parse(resp->body, ec);
            if (!ec && v.is_object())
                if (auto* data = v.get_object().if_contains("data"); data && data->is_object())
                    user_id_ = json_field(data->get_object(), "id");
            if (!user_id_.empty()) co_return user_id_;
        }
        failure = judge(*resp);
        failure.result = outcome::retry;
        failure.detail = "users/me: " + (failure.detail.empty() ? describe_response(resp->status, resp->body) : failure.detail);
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
        auto resp = co_await call("GET", url, {}, failure);
        if (!resp) co_return failure;
        if (resp->status == 401 || resp->status == 403) co_return refused(*resp);
        if (resp->status != 200) {
            auto r = judge(*resp);
            r.result = outcome::retry;
            r.detail = "reading the account's posts: " + (r.detail.empty() ? describe_response(resp->status, resp->body) : r.detail);
            co_return r;
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(resp->body, ec);
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
    token_store* tokens_;
    bool loaded_ = false;
    bool unsaved_ = false;     // refresh_ is a successor not yet in the state database
    std::string refresh_;      // the refresh token to present next
    std::string origin_;       // token_fingerprint of the configured refresh token
    std::string access_;       // empty: none usable
    std::chrono::steady_clock::time_point access_until_{};
};

}  // namespace

std::unique_ptr<channel> make_x(const channel_settings& s, boost::asio::any_io_executor ex, token_store* tokens) {
    return std::make_unique<x_channel>(s, ex, tokens);
}

}  // namespace crisisd::notify::detail
