// Facebook Page posts via the Graph API: POST /{version}/{page-id}/feed with the Page access
// token. The Graph API has no idempotency key, so an attempt after one whose answer was lost (or
// during which crisisd died) first reads the Page's recent posts (GET /{page-id}/posts since a
// little before the action) and takes a post with exactly the statement's text as this one.
// Errors come as {"error":{"message","type","code","error_subcode","is_transient"}}: an expired or
// revoked token (code 190) and missing permissions are for a person to fix, so they dead-letter
// at once with the reason; rate limits (4, 17, 32, 613, 80001) and transient errors retry;
// policy refusals (368) dead-letter.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify {
namespace detail {
namespace {

struct graph_error {
    std::int64_t code = 0;
    std::int64_t subcode = 0;
    bool transient = false;
    std::string message;
};

std::optional<graph_error> read_graph_error(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* e = v.get_object().if_contains("error");
    if (e == nullptr || !e->is_object()) return std::nullopt;
    const auto& o = e->get_object();
    graph_error out;
    if (const auto* x = o.if_contains("code"); x && x->is_int64()) out.code = x->get_int64();
    if (const auto* x = o.if_contains("error_subcode"); x && x->is_int64()) out.subcode = x->get_int64();
    if (const auto* x = o.if_contains("is_transient"); x && x->is_bool()) out.transient = x->get_bool();
    if (const auto* x = o.if_contains("message"); x && x->is_string()) out.message = std::string(x->get_string());
    return out;
}

std::string form_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool is_rate_limit(std::int64_t code) { return code == 4 || code == 17 || code == 32 || code == 613 || code == 80001; }

class facebook_channel final : public http_channel {
public:
    facebook_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : http_channel(fixed(s), ex), page_(without_trailing_slashes(settings_.url) + "/" + settings_.graph_version + "/" +
                                            settings_.page_id) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        if (p->kind != incident::action_kind::statement)
            co_return make_result(outcome::failed, 0, "facebook posts statements only; use a pager channel");
        // An earlier attempt may have posted and lost only the answer: look before posting again.
        if (d.attempt > 1) {
            auto landed = co_await find(p->text, p->at);
            if (landed.result != outcome::retry || landed.status != 404) co_return landed;
        }
        auto resp = co_await send("POST", page_ + "/feed",
                                  "message=" + form_encode(p->text) + "&access_token=" + form_encode(settings_.token));
        if (resp.status == 200) {
            std::string id;
            boost::system::error_code ec;
            auto v = boost::json::parse(resp.body, ec);
            if (!ec && v.is_object())
                if (const auto* x = v.get_object().if_contains("id"); x && x->is_string()) id = std::string(x->get_string());
            co_return make_result(outcome::sent, 200, id.empty() ? "posted" : "posted as " + id);
        }
        co_return judge_graph(resp, "posting");
    }
    std::string_view type() const override { return "facebook"; }

private:
    static channel_settings fixed(channel_settings s) {
        if (s.url.empty()) s.url = "https://graph.facebook.com";
        return s;
    }

    boost::asio::awaitable<net::http_response> send(std::string method, std::string url, std::string form) {
        net::http_request req;
        req.method = std::move(method);
        req.url = std::move(url);
        req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.timeout);
        req.headers.emplace_back("User-Agent", "crisisd");
        if (!form.empty()) req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        req.body = std::move(form);
        co_return co_await client_->send(std::move(req));
    }

    // A Graph API failure as a delivery result (see the file comment).
    static delivery_result judge_graph(const net::http_response& resp, std::string_view doing) {
        auto r = judge(resp);
        if (resp.status == 0) return r;
        const auto e = read_graph_error(resp.body);
        if (!e) return r;
        const std::string codes = "Graph API error " + std::to_string(e->code) +
                                  (e->subcode != 0 ? "/" + std::to_string(e->subcode) : std::string()) + ": " + e->message;
        if (e->code == 190 || e->code == 102) {
            r.result = outcome::failed;
            r.detail = std::string(doing) + ": the Page access token expired or was revoked (" + codes +
                       "); give the channel a new token — not retrying";
        } else if (e->code == 10 || (e->code >= 200 && e->code <= 299)) {
            r.result = outcome::failed;
            r.detail = std::string(doing) + ": the token lacks a permission (" + codes + ") — not retrying";
        } else if (e->code == 368) {
            r.result = outcome::failed;
            r.detail = std::string(doing) + ": refused by Facebook's policies (" + codes + ") — not retrying";
        } else if (is_rate_limit(e->code) || e->transient || e->code == 1 || e->code == 2) {
            r.result = outcome::retry;
            r.detail = std::string(doing) + ": " + (is_rate_limit(e->code) ? "rate limited (" : "transient (") + codes + ")";
        } else {
            r.detail = std::string(doing) + ": " + codes;
        }
        return r;
    }

    // sent: a post with this text was made since a little before the action; retry with status
    // 404: there is none; anything else: unknown (the caller waits rather than risk a second post).
    boost::asio::awaitable<delivery_result> find(const std::string& text, core::timestamp at) {
        const auto since = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count() - 300;
        auto resp = co_await send("GET",
                                  page_ + "/posts?fields=id,message,created_time&limit=100&since=" + std::to_string(since) +
                                      "&access_token=" + form_encode(settings_.token),
                                  {});
        if (resp.status != 200) {
            auto r = judge_graph(resp, "reading the Page's posts");
            if (r.result == outcome::sent) r.result = outcome::retry;
            co_return r;
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(resp.body, ec);
        const boost::json::array* data = nullptr;
        if (!ec && v.is_object())
            if (const auto* x = v.get_object().if_contains("data"); x && x->is_array()) data = &x->get_array();
        if (data == nullptr) co_return make_result(outcome::retry, 200, "reading the Page's posts: an answer without data");
        for (const auto& post : *data) {
            if (!post.is_object()) continue;
            const auto* message = post.get_object().if_contains("message");
            if (message == nullptr || !message->is_string() || message->get_string() != text) continue;
            std::string id;
            if (const auto* x = post.get_object().if_contains("id"); x && x->is_string()) id = std::string(x->get_string());
            co_return make_result(outcome::sent, 200, "already posted as " + id);
        }
        co_return make_result(outcome::retry, 404, "not posted yet");
    }

    std::string page_;
};

}  // namespace

std::unique_ptr<channel> make_facebook(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<facebook_channel>(s, ex);
}

}  // namespace detail
}  // namespace crisisd::notify
