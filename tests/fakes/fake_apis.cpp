#include "fakes/fake_apis.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/time.hpp"
#include "net/http_server.hpp"

namespace crisisd::testing {

namespace asio = boost::asio;
namespace json = boost::json;

namespace detail {

// One HTTP server on its own io_context thread; the handler runs there.
struct fake_server {
    asio::io_context io;
    std::optional<net::http_server> server;
    std::thread thread;

    std::uint16_t start(net::http_handler handler, std::uint16_t port) {
        net::http_server_options o;
        o.listen = "127.0.0.1:" + std::to_string(port);
        server.emplace(io.get_executor(), o, std::move(handler));
        if (auto ec = server->start()) throw std::runtime_error("fake server: " + ec.message());
        thread = std::thread([this] {
            auto guard = asio::make_work_guard(io);
            io.run();
        });
        return server->port();
    }
    void stop() {
        if (!thread.joinable()) return;
        server->stop();
        io.stop();
        thread.join();
    }
    ~fake_server() { stop(); }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

}  // namespace detail

namespace {

net::http_response_out reply(int status, std::string body) {
    net::http_response_out r;
    r.status = status;
    r.content_type = "application/json; charset=utf-8";
    r.body = std::move(body);
    return r;
}

net::http_response_out xrpc_error(int status, std::string_view error, std::string_view message) {
    json::object o{{"error", error}, {"message", message}};
    return reply(status, json::serialize(o));
}

std::string str(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<json::object> body_object(const net::http_request_in& in) {
    boost::system::error_code ec;
    auto v = json::parse(in.body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.get_object();
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

}  // namespace

// ---- Mastodon ------------------------------------------------------------------------------

struct fake_mastodon::state {
    std::string token;
    mutable std::mutex mutex;
    mutable std::condition_variable arrived;
    std::vector<status> timeline;
    std::map<std::string, std::size_t> by_key;  // Idempotency-Key -> timeline index
    std::deque<int> errors;
    std::size_t requests = 0;
    int hold = 0;
    std::atomic<bool> released{false};
    std::atomic<bool> stopping{false};

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& in) {
        if (in.method != "POST" || in.path() != "/api/v1/statuses")
            co_return reply(404, R"({"error":"Record not found"})");
        bool held = false;
        net::http_response_out out;
        {
            std::lock_guard lock(mutex);
            ++requests;
            if (hold > 0) {
                --hold;
                held = true;
            }
            out = decide(in);
        }
        arrived.notify_all();
        if (held) {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            while (!released.load() && !stopping.load()) {
                timer.expires_after(std::chrono::milliseconds(2));
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
        co_return out;
    }

    // Called with the mutex held. Order follows Mastodon: authentication, rate limit, the
    // idempotency lookup, then validation and creation.
    net::http_response_out decide(const net::http_request_in& in) {
        if (in.header("Authorization") != "Bearer " + token)
            return reply(401, R"({"error":"The access token is invalid"})");
        if (!errors.empty()) {
            int code = errors.front();
            errors.pop_front();
            auto r = reply(code, code == 429 ? R"({"error":"Too many requests"})"
                                             : R"({"error":"Remote data could not be fetched"})");
            if (code == 429) {
                auto reset = std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now()) +
                             std::chrono::seconds(1);
                r.headers.emplace_back("X-RateLimit-Limit", "300");
                r.headers.emplace_back("X-RateLimit-Remaining", "0");
                r.headers.emplace_back("X-RateLimit-Reset", core::format_rfc3339(reset));
            }
            return r;
        }
        auto key = in.header("Idempotency-Key");
        if (!key.empty()) {
            if (auto it = by_key.find(key); it != by_key.end()) return reply(200, render(timeline[it->second]));
        }
        auto body = body_object(in);
        if (!body) return reply(422, R"({"error":"Validation failed: Text can't be blank"})");
        auto text = str(*body, "status");
        if (text.empty()) return reply(422, R"({"error":"Validation failed: Text can't be blank"})");
        if (code_points(text) > 500)
            return reply(422, R"({"error":"Validation failed: Text character limit of 500 exceeded"})");
        status s{std::to_string(109000000000000000ULL + timeline.size() + 1), text, str(*body, "visibility"),
                 str(*body, "language"), key};
        if (s.visibility.empty()) s.visibility = "public";
        timeline.push_back(s);
        if (!key.empty()) by_key[key] = timeline.size() - 1;
        return reply(200, render(s));
    }

    static std::string render(const status& s) {
        json::object o{{"id", s.id},
                       {"created_at", core::format_rfc3339(std::chrono::time_point_cast<core::duration>(
                                          std::chrono::system_clock::now()))},
                       {"visibility", s.visibility},
                       {"language", s.language.empty() ? json::value(nullptr) : json::value(s.language)},
                       {"uri", "https://mastodon.example/users/brand/statuses/" + s.id},
                       {"url", "https://mastodon.example/@brand/" + s.id},
                       {"content", "<p>" + s.text + "</p>"}};
        return json::serialize(o);
    }
};

fake_mastodon::fake_mastodon(std::string token) : state_(std::make_shared<state>()) { state_->token = std::move(token); }
fake_mastodon::~fake_mastodon() { stop(); }

std::uint16_t fake_mastodon::start(std::uint16_t port) {
    server_ = std::make_unique<detail::fake_server>();
    auto s = state_;
    return server_->start([s](const net::http_request_in& in) { return s->handle(in); }, port);
}
void fake_mastodon::stop() {
    state_->stopping = true;
    if (server_) server_->stop();
}
std::string fake_mastodon::base_url() const { return server_->base(); }
void fake_mastodon::hold_next(int n) {
    std::lock_guard lock(state_->mutex);
    state_->hold = n;
    state_->released = false;
}
void fake_mastodon::release() { state_->released = true; }
void fake_mastodon::script_errors(std::vector<int> statuses) {
    std::lock_guard lock(state_->mutex);
    state_->errors.assign(statuses.begin(), statuses.end());
}
std::vector<fake_mastodon::status> fake_mastodon::statuses() const {
    std::lock_guard lock(state_->mutex);
    return state_->timeline;
}
std::size_t fake_mastodon::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}
bool fake_mastodon::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->arrived.wait_for(lock, timeout, [&] { return state_->requests >= n; });
}

// ---- Bluesky -------------------------------------------------------------------------------

struct fake_bluesky::state {
    std::string identifier, password;
    std::string did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
    mutable std::mutex mutex;
    std::map<std::string, bool> access;  // token -> still valid
    std::set<std::string> refresh;
    std::map<std::string, post> records;  // rkey -> post
    std::vector<std::string> order;
    int created = 0, refreshed = 0, creates = 0, gets = 0, counter = 0;
    bool lose_next = false;

    std::string issue() {
        auto a = "access-" + std::to_string(++counter);
        auto r = "refresh-" + std::to_string(counter);
        access[a] = true;
        refresh.insert(r);
        json::object o{{"accessJwt", a}, {"refreshJwt", r}, {"handle", identifier}, {"did", did}, {"active", true}};
        return json::serialize(o);
    }

    // nullopt when authorised with a valid access token, else the XRPC error.
    std::optional<net::http_response_out> check_access(const net::http_request_in& in) {
        auto h = in.header("Authorization");
        if (h.rfind("Bearer ", 0) != 0) return xrpc_error(401, "AuthMissing", "Authentication Required");
        auto it = access.find(h.substr(7));
        if (it == access.end()) return xrpc_error(400, "InvalidToken", "Bad token scope");
        if (!it->second) return xrpc_error(400, "ExpiredToken", "Token has expired");
        return std::nullopt;
    }

    net::http_response_out handle_locked(const net::http_request_in& in) {
        auto path = in.path();
        if (path == "/xrpc/com.atproto.server.createSession" && in.method == "POST") {
            auto b = body_object(in);
            if (!b) return xrpc_error(400, "InvalidRequest", "Input must be an object");
            if (str(*b, "identifier") != identifier || str(*b, "password") != password)
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password");
            ++created;
            return reply(200, issue());
        }
        if (path == "/xrpc/com.atproto.server.refreshSession" && in.method == "POST") {
            auto h = in.header("Authorization");
            auto token = h.rfind("Bearer ", 0) == 0 ? h.substr(7) : std::string();
            if (!refresh.erase(token)) return xrpc_error(400, "ExpiredToken", "Token has been revoked");
            ++refreshed;
            return reply(200, issue());
        }
        if (path == "/xrpc/com.atproto.repo.createRecord" && in.method == "POST") {
            ++creates;
            if (auto e = check_access(in)) return *e;
            auto b = body_object(in);
            if (!b) return xrpc_error(400, "InvalidRequest", "Input must be an object");
            if (str(*b, "repo") != did && str(*b, "repo") != identifier)
                return xrpc_error(400, "InvalidRequest", "Could not find repo");
            if (str(*b, "collection") != "app.bsky.feed.post")
                return xrpc_error(400, "InvalidRequest", "Unsupported collection");
            auto* rec = b->if_contains("record");
            if (!rec || !rec->is_object()) return xrpc_error(400, "InvalidRequest", "Input must have the property \"record\"");
            auto text = str(rec->get_object(), "text");
            if (code_points(text) > 300)
                return xrpc_error(400, "InvalidRequest",
                                  "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes");
            auto rkey = str(*b, "rkey");
            if (rkey.empty()) rkey = "3kauto" + std::to_string(++counter);
            if (records.count(rkey)) return xrpc_error(400, "InvalidRequest", "Record already exists: " + rkey);
            records[rkey] = post{rkey, text, str(rec->get_object(), "createdAt")};
            order.push_back(rkey);
            if (lose_next) {
                lose_next = false;
                return reply(502, "Bad Gateway");
            }
            json::object o{{"uri", "at://" + did + "/app.bsky.feed.post/" + rkey},
                           {"cid", "bafyreib2rxk3rh6kzwq"},
                           {"validationStatus", "valid"}};
            return reply(200, json::serialize(o));
        }
        if (path == "/xrpc/com.atproto.repo.getRecord" && in.method == "GET") {
            ++gets;
            auto rkey = query_param(in.target, "rkey");
            auto it = records.find(rkey);
            if (it == records.end() || query_param(in.target, "repo") != did)
                return xrpc_error(400, "RecordNotFound", "Could not locate record: at://" + did +
                                                             "/app.bsky.feed.post/" + rkey);
            json::object value{{"$type", "app.bsky.feed.post"}, {"text", it->second.text},
                               {"createdAt", it->second.created_at}};
            json::object o{{"uri", "at://" + did + "/app.bsky.feed.post/" + rkey}, {"cid", "bafyreib2rxk3rh6kzwq"},
                           {"value", value}};
            return reply(200, json::serialize(o));
        }
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented");
    }

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& in) {
        std::lock_guard lock(mutex);
        co_return handle_locked(in);
    }
};

fake_bluesky::fake_bluesky(std::string identifier, std::string password) : state_(std::make_shared<state>()) {
    state_->identifier = std::move(identifier);
    state_->password = std::move(password);
}
fake_bluesky::~fake_bluesky() { stop(); }
std::uint16_t fake_bluesky::start() {
    server_ = std::make_unique<detail::fake_server>();
    auto s = state_;
    return server_->start([s](const net::http_request_in& in) { return s->handle(in); }, 0);
}
void fake_bluesky::stop() {
    if (server_) server_->stop();
}
std::string fake_bluesky::base_url() const { return server_->base(); }
std::string fake_bluesky::did() const { return state_->did; }
void fake_bluesky::expire_access_tokens() {
    std::lock_guard lock(state_->mutex);
    for (auto& [t, valid] : state_->access) valid = false;
}
void fake_bluesky::lose_next_answer() {
    std::lock_guard lock(state_->mutex);
    state_->lose_next = true;
}
std::vector<fake_bluesky::post> fake_bluesky::posts() const {
    std::lock_guard lock(state_->mutex);
    std::vector<post> out;
    for (const auto& k : state_->order) out.push_back(state_->records.at(k));
    return out;
}
int fake_bluesky::sessions_created() const {
    std::lock_guard lock(state_->mutex);
    return state_->created;
}
int fake_bluesky::sessions_refreshed() const {
    std::lock_guard lock(state_->mutex);
    return state_->refreshed;
}
int fake_bluesky::create_calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->creates;
}
int fake_bluesky::get_calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->gets;
}

// ---- PagerDuty -----------------------------------------------------------------------------

struct fake_pagerduty::state {
    std::string routing_key;
    mutable std::mutex mutex;
    std::deque<int> script;
    std::vector<event> events;
    std::map<std::string, std::string> alerts;  // dedup_key -> state
    std::size_t opened = 0;

    net::http_response_out invalid(std::vector<std::string> errors) {
        json::array e;
        for (auto& x : errors) e.emplace_back(x);
        json::object o{{"status", "invalid event"}, {"message", "Event object is invalid"}, {"errors", e}};
        return reply(400, json::serialize(o));
    }

    net::http_response_out handle_locked(const net::http_request_in& in) {
        if (in.method != "POST" || in.path() != "/v2/enqueue") return reply(404, R"({"status":"not found"})");
        auto b = body_object(in);
        event ev;
        if (b) {
            ev.action = str(*b, "event_action");
            ev.dedup_key = str(*b, "dedup_key");
            if (auto* p = b->if_contains("payload"); p && p->is_object()) {
                ev.summary = str(p->get_object(), "summary");
                ev.severity = str(p->get_object(), "severity");
            }
        }
        net::http_response_out out;
        if (!script.empty()) {
            int code = script.front();
            script.pop_front();
            out = reply(code, code >= 500 ? R"({"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]})"
                                          : R"({"status":"throttle event","message":"Requests for this service are arriving too quickly."})");
        } else if (!b) {
            out = invalid({"JSON parse error"});
        } else {
            std::vector<std::string> errors;
            if (str(*b, "routing_key").size() != 32) errors.push_back("'routing_key' must be 32 characters");
            else if (str(*b, "routing_key") != routing_key) errors.push_back("'routing_key' is not recognised");
            if (ev.action != "trigger" && ev.action != "acknowledge" && ev.action != "resolve")
                errors.push_back("'event_action' is invalid");
            if (ev.dedup_key.size() > 255) errors.push_back("'dedup_key' is too long");
            if (ev.action != "trigger" && ev.dedup_key.empty()) errors.push_back("'dedup_key' is missing");
            if (ev.action == "trigger") {
                static const std::set<std::string> severities{"critical", "error", "warning", "info"};
                auto* p = b->if_contains("payload");
                if (!p || !p->is_object()) errors.push_back("'payload' is missing");
                else {
                    if (ev.summary.empty() || ev.summary.size() > 1024) errors.push_back("'payload.summary' is invalid");
                    if (str(p->get_object(), "source").empty()) errors.push_back("'payload.source' is missing");
                    if (!severities.count(ev.severity)) errors.push_back("'payload.severity' is invalid");
                }
            }
            if (!errors.empty()) {
                out = invalid(errors);
            } else {
                auto& st = alerts[ev.dedup_key];
                if (ev.action == "trigger" && (st.empty() || st == "resolved")) {
                    st = "triggered";
                    ++opened;
                } else if (ev.action == "acknowledge" && st == "triggered") {
                    st = "acknowledged";
                } else if (ev.action == "resolve" && (st == "triggered" || st == "acknowledged")) {
                    st = "resolved";
                }
                json::object o{{"status", "success"}, {"message", "Event processed"}, {"dedup_key", ev.dedup_key}};
                out = reply(202, json::serialize(o));
            }
        }
        ev.answered = out.status;
        events.push_back(ev);
        return out;
    }

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& in) {
        std::lock_guard lock(mutex);
        co_return handle_locked(in);
    }
};

fake_pagerduty::fake_pagerduty(std::string routing_key) : state_(std::make_shared<state>()) {
    state_->routing_key = std::move(routing_key);
}
fake_pagerduty::~fake_pagerduty() { stop(); }
std::uint16_t fake_pagerduty::start() {
    server_ = std::make_unique<detail::fake_server>();
    auto s = state_;
    return server_->start([s](const net::http_request_in& in) { return s->handle(in); }, 0);
}
void fake_pagerduty::stop() {
    if (server_) server_->stop();
}
std::string fake_pagerduty::url() const { return server_->base() + "/v2/enqueue"; }
void fake_pagerduty::script_statuses(std::vector<int> statuses) {
    std::lock_guard lock(state_->mutex);
    state_->script.assign(statuses.begin(), statuses.end());
}
std::vector<fake_pagerduty::event> fake_pagerduty::events() const {
    std::lock_guard lock(state_->mutex);
    return state_->events;
}
std::string fake_pagerduty::alert_state(const std::string& dedup_key) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->alerts.find(dedup_key);
    return it == state_->alerts.end() ? std::string() : it->second;
}
std::size_t fake_pagerduty::alerts_opened() const {
    std::lock_guard lock(state_->mutex);
    return state_->opened;
}

// --- fake_graph ---

namespace {

std::string form_field(std::string_view form, std::string_view name) {
    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    while (!form.empty()) {
        auto amp = form.find('&');
        auto pair = form.substr(0, amp);
        form.remove_prefix(amp == std::string_view::npos ? form.size() : amp + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
        std::string out;
        for (std::size_t i = eq + 1; i < pair.size(); ++i) {
            if (pair[i] == '%' && i + 2 < pair.size()) {
                out += static_cast<char>(hex(pair[i + 1]) * 16 + hex(pair[i + 2]));
                i += 2;
            } else {
                out += pair[i] == '+' ? ' ' : pair[i];
            }
        }
        return out;
    }
    return {};
}

net::http_response_out graph_error(int code, int subcode, std::string_view message) {
    json::object e{{"message", message}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "AbCdEfGh"}};
    if (subcode != 0) e["error_subcode"] = subcode;
    return reply(400, json::serialize(json::object{{"error", e}}));
}

}  // namespace

struct fake_graph::state {
    std::string page, token, version;
    mutable std::mutex mutex;
    mutable std::condition_variable arrived;
    std::vector<post> posts;
    std::size_t feed_requests = 0, lookups = 0;
    int hold = 0;
    std::chrono::milliseconds hold_for{0};
    int rate_limited = 0;
    std::atomic<bool> released{false};
    std::atomic<bool> stopping{false};

    asio::awaitable<net::http_response_out> handle(const net::http_request_in& in) {
        const std::string prefix = "/" + version + "/" + page;
        const std::string path(in.path());
        bool held = false;
        std::chrono::milliseconds held_for{0};
        net::http_response_out out;
        {
            std::lock_guard lock(mutex);
            if (in.method == "GET" && path == prefix + "/posts") {
                ++lookups;
                if (form_field(query_of(in.target), "access_token") != token)
                    co_return graph_error(190, 463, "Error validating access token: Session has expired.");
                json::array data;
                for (auto it = posts.rbegin(); it != posts.rend(); ++it)
                    data.push_back(json::object{{"id", it->id}, {"message", it->message},
                                                {"created_time", "2026-12-04T07:40:00+0000"}});
                co_return reply(200, json::serialize(json::object{{"data", data}}));
            }
            if (in.method != "POST" || path != prefix + "/feed")
                co_return graph_error(2500, 0, "Unknown path components");
            ++feed_requests;
            if (form_field(in.body, "access_token") != token) {
                out = graph_error(190, 463, "Error validating access token: Session has expired.");
            } else if (rate_limited > 0) {
                --rate_limited;
                out = graph_error(32, 0, "(#32) Page request limit reached");
            } else {
                posts.push_back({page + "_" + std::to_string(900000000 + posts.size()), form_field(in.body, "message")});
                out = reply(200, json::serialize(json::object{{"id", posts.back().id}}));
                if (hold > 0) {
                    --hold;
                    held = true;
                    held_for = hold_for;
                }
            }
        }
        arrived.notify_all();
        if (held) {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            const auto until = std::chrono::steady_clock::now() + held_for;
            while (!released.load() && !stopping.load() &&
                   (held_for.count() == 0 || std::chrono::steady_clock::now() < until)) {
                timer.expires_after(std::chrono::milliseconds(2));
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
        co_return out;
    }

    static std::string_view query_of(std::string_view target) {
        auto q = target.find('?');
        return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    }
};

fake_graph::fake_graph(std::string page_id, std::string token, std::string version)
    : state_(std::make_shared<state>()) {
    state_->page = std::move(page_id);
    state_->token = std::move(token);
    state_->version = std::move(version);
}
fake_graph::~fake_graph() { stop(); }
std::uint16_t fake_graph::start() {
    server_ = std::make_unique<detail::fake_server>();
    auto s = state_;
    return server_->start([s](const net::http_request_in& in) { return s->handle(in); }, 0);
}
void fake_graph::stop() {
    state_->stopping = true;
    if (server_) server_->stop();
}
std::string fake_graph::base_url() const { return server_->base(); }
void fake_graph::hold_next(int n, std::chrono::milliseconds hold_for) {
    std::lock_guard lock(state_->mutex);
    state_->hold = n;
    state_->hold_for = hold_for;
    state_->released = false;
}
void fake_graph::release() { state_->released = true; }
void fake_graph::rate_limit_next(int n) {
    std::lock_guard lock(state_->mutex);
    state_->rate_limited = n;
}
std::vector<fake_graph::post> fake_graph::posts() const {
    std::lock_guard lock(state_->mutex);
    return state_->posts;
}
std::size_t fake_graph::feed_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->feed_requests;
}
std::size_t fake_graph::lookups() const {
    std::lock_guard lock(state_->mutex);
    return state_->lookups;
}
bool fake_graph::wait_for_feed_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->arrived.wait_for(lock, timeout, [&] { return state_->feed_requests >= n; });
}

}  // namespace crisisd::testing
