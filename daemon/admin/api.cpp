#include "admin/api.hpp"
#include "admin/feed.hpp"

#include <openssl/crypto.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <mutex>
#include <variant>

#include "core/log.hpp"
#include "core/time.hpp"
#include "net/http_client.hpp"

namespace crisisd::admin {
namespace {

using steady = std::chrono::steady_clock;

constexpr auto ticket_lifetime = std::chrono::seconds(30);
constexpr std::size_t max_tickets = 256;
constexpr auto refusal_minute = std::chrono::minutes(1);
constexpr std::size_t max_failure_windows = 4096;
// A peer that has not answered in this long is named as unanswered: a console waits for the
// slowest replica, so a hung one must cost seconds, not the client's own timeout.
constexpr auto peer_timeout = std::chrono::milliseconds(2000);

net::http_response_out json_response(int status, std::string body) {
    net::http_response_out r;
    r.status = status;
    r.content_type = "application/json";
    r.body = std::move(body);
    return r;
}

net::http_response_out error_response(int status, std::string_view message) {
    return json_response(status, boost::json::serialize(boost::json::object{{"error", message}}));
}

net::http_response_out unauthorised(std::string_view message) {
    auto r = error_response(401, message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"crisisd\"");
    return r;
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
    std::uint64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return parts;
}

// The value of `name` in the query of `target` ("" when absent). Tickets and limits are plain
// tokens and numbers, so no percent-decoding is needed.
std::string query_value(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return "";
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return "";
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view status_name(command_status s) {
    switch (s) {
        case command_status::done: return "done";
        case command_status::already_done: return "already done";
        case command_status::not_found: return "not found";
        case command_status::not_allowed: return "not allowed";
        case command_status::bad_request: return "bad request";
    }
    return "done";
}

constexpr std::size_t max_silence_text = 256;

// POST /api/v1/silences: {"rule": "isp-outage", "key": "liwest", "duration": "2h"}. `note`
// gets what was asked and how it ended, for the audit log.
net::http_response_out silence_request(daemon_access& daemon, std::string_view body, std::string_view who,
                                       audit_entry& note) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    note.outcome = "bad request";
    if (ec || !v.is_object()) return error_response(400, "body must be a JSON object with rule and duration");
    const auto& o = v.get_object();
    auto text = [&](std::string_view k) -> std::optional<std::string> {
        auto* x = o.if_contains(k);
        if (!x) return std::string();
        if (!x->is_string()) return std::nullopt;
        return std::string(x->get_string());
    };
    auto rule = text("rule");
    auto key = text("key");
    auto length = text("duration");
    if (!rule || rule->empty()) return error_response(400, "'rule' must be a rule name");
    if (!key) return error_response(400, "'key' must be a string (omit it to silence every key)");
    // Keys are topics, source names and languages from the config: none is near this long, and a
    // silence row is kept and shown for its whole life, so a megabyte key is refused, not stored.
    if (rule->size() > max_silence_text || key->size() > max_silence_text)
        return error_response(400, "'rule' and 'key' must be at most " + std::to_string(max_silence_text) + " bytes");
    note.target = "rule " + rule->substr(0, 128) + (key->empty() ? "" : " key " + key->substr(0, 128));
    if (!length || length->empty()) return error_response(400, "'duration' must be a duration like 2h");
    auto d = core::parse_duration(*length);
    if (!d || *d <= core::duration::zero()) return error_response(400, "'duration' must be a duration like 2h");
    if (*d > std::chrono::hours(24 * 30)) return error_response(400, "'duration' must be at most 30d");
    note.target += " for " + core::format_duration(*d);
    auto outcome = daemon.silence(*rule, *key, std::chrono::duration_cast<std::chrono::seconds>(*d), who);
    note.outcome = std::string(status_name(outcome.status));
    switch (outcome.status) {
        case command_status::done:
        case command_status::already_done: {
            return json_response(200, boost::json::serialize(boost::json::object{{"rule", *rule},
                                                                                 {"key", *key},
                                                                                 {"duration", core::format_duration(*d)},
                                                                                 {"result", outcome.message}}));
        }
        case command_status::not_found: return error_response(404, outcome.message);
        case command_status::not_allowed: return error_response(409, outcome.message);
        case command_status::bad_request: return error_response(400, outcome.message);
    }
    return error_response(500, "unexpected outcome");
}

struct principal {
    std::string name;
    role granted = role::viewer;
    token_digest digest{};
};

// A command's path: POST /api/v1/[cluster/]incidents/{id}/{ack|resolve} or
// …/{id}/steps/{n}/{approve|veto}; `parts` starts at "incidents".
struct command_path {
    std::uint64_t id = 0;
    std::string_view verb;
    std::optional<std::size_t> step;
};
std::variant<command_path, net::http_response_out> parse_command(std::span<const std::string_view> parts) {
    if (parts.size() < 3 || parts[0] != "incidents") return error_response(404, "not found");
    auto id = parse_number(parts[1]);
    if (!id) return error_response(400, "incident id must be a number");
    command_path c{*id, {}, std::nullopt};
    if (parts.size() == 3 && (parts[2] == "ack" || parts[2] == "resolve")) {
        c.verb = parts[2];
    } else if (parts.size() == 5 && parts[2] == "steps" && (parts[4] == "approve" || parts[4] == "veto")) {
        auto n = parse_number(parts[3]);
        if (!n) return error_response(400, "step must be a number");
        c.step = static_cast<std::size_t>(*n);
        c.verb = parts[4];
    } else {
        return error_response(404, "not found");
    }
    return c;
}

// The answer of a peer, passed on as it came; a peer that did not answer is a 502 naming it.
net::http_response_out relayed(const peer_answer& a) {
    if (a.status == 0)
        return error_response(502, "replica " + a.name + " (the owner) did not answer: " + (a.error.empty() ? "no answer" : a.error));
    return json_response(a.status, a.body);
}

// Helpers that build with initializer lists: GCC 12 refuses ("array used as initializer") an
// initializer list whose life spans a co_await inside a coroutine, so coroutines call these.
std::vector<peer> only(const peer& p) {
    std::vector<peer> out;
    out.push_back(p);
    return out;
}
std::string forward_body(std::string_view who, std::string_view via) {
    return boost::json::serialize(boost::json::object{{"who", who}, {"via", via}});
}
boost::json::object unanswered_entry(const peer_answer& a) {
    return boost::json::object{{"name", a.name},
                               {"error", a.status == 0 ? a.error : "HTTP " + std::to_string(a.status) + ": " + a.body}};
}

// One request sent to several peers (api::impl::fan_out).
struct fan_out_call {
    std::vector<peer> to;
    std::string method;
    std::string path;
    std::string body;
};

// The string members of a JSON object body; nullopt when it is not one.
std::optional<boost::json::object> json_object(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}
std::string string_member(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

command_outcome daemon_access::silence(std::string_view, std::string_view, std::chrono::seconds, std::string_view) {
    return {command_status::not_allowed, "silences are not supported here"};
}

std::string daemon_access::missing_incident(std::uint64_t) { return "no such incident"; }
std::vector<std::uint64_t> daemon_access::live_incident_ids() { return {}; }
std::optional<std::string> daemon_access::incident_feed_json(std::uint64_t id) { return incident_json(id); }
std::string daemon_access::now_rfc3339() { return ""; }
std::string daemon_access::dead_letters_json() { return "{\"dead_letters\":[]}"; }
void daemon_access::audit(const audit_entry&) {}
std::string daemon_access::audit_json(std::size_t) { return "{\"audit\":[]}"; }

struct api::impl {
    admin_settings settings;
    metrics& m;
    daemon_access& daemon;
    std::vector<asset> assets;

    // Guards everything below up to the streams: tokens, tickets, the Host list and the
    // refusal windows. daemon_access is never called while it is held.
    mutable std::mutex mutex;
    std::vector<token_entry> tokens;        // from the tokens file, replaced by each load
    std::vector<token_entry> extra_tokens;  // add_token(): kept across loads
    std::vector<std::string> hosts;         // accepted Host values, lower case
    struct ticket {
        principal who;
        steady::time_point expires;
    };
    std::map<std::string, ticket> tickets;
    // Refusals per (address, name, action): when the current minute began and how many more came
    // in it. Every bad token from one address is one key, so a flood is one entry a minute.
    struct failure_window {
        steady::time_point start;
        std::uint64_t more = 0;
        audit_entry last;
    };
    std::map<std::string, failure_window> failures;

    // The console's live feed; each stream remembers the token that opened it, so revoking the
    // token closes it.
    feed events;

    // Cluster mode (set_cluster): peers and owners, and the token replicas present to each other
    // (kept in memory: this replica sends it; only its digest is compared).
    cluster_access* cluster = nullptr;
    std::string peer_token;
    std::optional<token_digest> peer_digest;

    impl(admin_settings s, metrics& mm, daemon_access& d, std::vector<asset> a)
        : settings(std::move(s)),
          m(mm),
          daemon(d),
          assets(std::move(a)),
          events(d, mm, settings.max_event_streams, settings.event_stream_buffer) {
        compute_hosts(0);
    }

    void compute_hosts(std::uint16_t bound) {
        auto colon = settings.listen.rfind(':');
        std::string host = settings.listen.substr(0, colon);
        std::string port = bound ? std::to_string(bound) : settings.listen.substr(colon + 1);
        hosts.clear();
        for (std::string name : {std::string("localhost"), std::string("127.0.0.1"), std::string("[::1]"), host})
            if (!name.empty() && name != "0.0.0.0" && name != "[::]") hosts.push_back(lower(name + ":" + port));
        for (const auto& h : settings.hosts) hosts.push_back(lower(h));
    }

    bool host_allowed(std::string_view presented) const {
        auto h = lower(presented);
        if (h.empty()) return false;
        std::lock_guard lock(mutex);
        for (const auto& allowed : hosts) {
            if (h == allowed) return true;
            // A name without a port accepts the name on any port ("crisis.example.com" behind a
            // proxy on 443). An IPv6 literal's colons are inside its brackets.
            const bool has_port = allowed.rfind(':') != std::string::npos &&
                                  (allowed.front() != '[' || allowed.rfind(':') > allowed.find(']'));
            if (!has_port && h.size() > allowed.size() && h.compare(0, allowed.size(), allowed) == 0 &&
                h[allowed.size()] == ':')
                return true;
        }
        return false;
    }

    // The token's holder, compared against every entry by hash in constant time: timing reveals
    // neither which entry matched nor how much of a hash did.
    std::optional<principal> authenticate(std::string_view presented) const {
        if (presented.size() < min_token_length || presented.size() > 512) return std::nullopt;
        const auto digest = sha256(presented);
        std::lock_guard lock(mutex);
        const token_entry* found = nullptr;
        for (const auto* list : {&tokens, &extra_tokens})
            for (const auto& t : *list)
                if (CRYPTO_memcmp(t.digest.data(), digest.data(), digest.size()) == 0) found = &t;
        if (!found) return std::nullopt;
        return principal{found->name, found->granted, digest};
    }

    std::optional<principal> bearer(const net::http_request_in& req) const {
        auto h = req.header("Authorization");
        constexpr std::string_view prefix = "Bearer ";
        if (h.size() <= prefix.size() || std::string_view(h).substr(0, prefix.size()) != prefix) return std::nullopt;
        return authenticate(std::string_view(h).substr(prefix.size()));
    }

    bool token_valid(const token_digest& d) const {
        std::lock_guard lock(mutex);
        for (const auto* list : {&tokens, &extra_tokens})
            for (const auto& t : *list)
                if (t.digest == d) return true;
        return false;
    }

    std::string new_ticket(const principal& who) {
        auto t = new_token();
        if (t.empty()) return t;
        std::lock_guard lock(mutex);
        const auto now = steady::now();
        std::erase_if(tickets, [&](const auto& kv) { return kv.second.expires <= now; });
        if (tickets.size() >= max_tickets) tickets.erase(tickets.begin());
        tickets[t] = ticket{who, now + ticket_lifetime};
        return t;
    }

    std::optional<principal> redeem(const std::string& t) {
        std::lock_guard lock(mutex);
        auto it = tickets.find(t);
        if (it == tickets.end()) return std::nullopt;
        auto who = it->second;
        tickets.erase(it);  // single use
        if (who.expires <= steady::now()) return std::nullopt;
        return who.who;
    }

    // A refused request: counted always, audited at most once a minute per address, name and action;
    // the others of that minute become one "N more" entry when the next minute's first comes
    // (or the audit log is read).
    void refused(const net::http_request_in& req, std::string_view reason, std::string who, std::string action,
                 std::string outcome) {
        m.admin_refused(reason);
        audit_entry e{who.empty() ? "-" : std::move(who), req.remote_address, std::move(action),
                      std::string(req.method) + " " + std::string(req.path()).substr(0, 200), std::move(outcome)};
        std::vector<audit_entry> write;
        {
            std::lock_guard lock(mutex);
            const auto now = steady::now();
            collect_closed_windows(now, write);
            std::string key = e.address + "\n" + e.who + "\n" + e.action;
            auto it = failures.find(key);
            if (it == failures.end() && failures.size() >= max_failure_windows) key = "*";  // one shared window
            auto& w = failures[key];
            if (w.start != steady::time_point{} && now - w.start < refusal_minute) {
                ++w.more;
                w.last = e;
            } else {
                w = failure_window{now, 0, e};
                write.push_back(std::move(e));
            }
        }
        for (const auto& x : write) daemon.audit(x);
    }

    // Windows whose minute is over: their "N more" entry (if any), and the window goes.
    void collect_closed_windows(steady::time_point now, std::vector<audit_entry>& out) {
        for (auto it = failures.begin(); it != failures.end();) {
            if (now - it->second.start < refusal_minute) {
                ++it;
                continue;
            }
            if (it->second.more > 0) {
                auto e = it->second.last;
                e.outcome = std::to_string(it->second.more) + " more refused in the minute after the first: " + e.outcome;
                out.push_back(std::move(e));
            }
            it = failures.erase(it);
        }
    }

    void flush_failures() {
        std::vector<audit_entry> write;
        {
            std::lock_guard lock(mutex);
            collect_closed_windows(steady::now(), write);
        }
        for (const auto& x : write) daemon.audit(x);
    }

    bool peer_authenticated(const net::http_request_in& req) const {
        if (!peer_digest) return false;
        auto h = req.header("Authorization");
        constexpr std::string_view prefix = "Bearer ";
        if (h.size() <= prefix.size() || std::string_view(h).substr(0, prefix.size()) != prefix) return false;
        auto presented = std::string_view(h).substr(prefix.size());
        if (presented.size() < min_token_length || presented.size() > 512) return false;
        const auto d = sha256(presented);
        return CRYPTO_memcmp(d.data(), peer_digest->data(), d.size()) == 0;
    }

    // Sends one request to each of `to` at once, with the peer token, and waits for every answer
    // (each bounded by peer_timeout). On the event loop: the requests are asynchronous.
    boost::asio::awaitable<std::vector<peer_answer>> fan_out(fan_out_call call) {
        namespace asio = boost::asio;
        const auto& to = call.to;
        auto ex = co_await asio::this_coro::executor;
        std::vector<peer_answer> out(to.size());
        auto left = std::make_shared<std::size_t>(to.size());
        asio::steady_timer all_in(ex, asio::steady_timer::time_point::max());
        for (std::size_t i = 0; i < to.size(); ++i) {
            out[i].name = to[i].name;
            net::http_request req;
            req.method = call.method;
            req.url = to[i].url + call.path;
            req.timeout = peer_timeout;
            req.headers.emplace_back("Authorization", "Bearer " + peer_token);
            if (!call.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
            req.body = call.body;
            auto client = std::make_shared<net::http_client>(ex);
            asio::co_spawn(ex, client->send(std::move(req)),
                           [client, left, i, &out, &all_in](std::exception_ptr e, net::http_response r) {
                               if (e) out[i].error = "request failed";
                               else {
                                   out[i].status = r.status;
                                   out[i].body = std::move(r.body);
                                   out[i].error = std::move(r.error);
                               }
                               if (--*left == 0) all_in.cancel();
                           });
        }
        // This frame (and `out`) lives until every request has completed: each ends by its timeout.
        if (*left > 0) {
            boost::system::error_code ec;
            co_await all_in.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        co_return out;
    }

    boost::asio::awaitable<net::http_response_out> handle_peer(const net::http_request_in& req);
    boost::asio::awaitable<net::http_response_out> cluster_command(const net::http_request_in& req, const principal& who,
                                                                   const command_path& c);
    boost::asio::awaitable<net::http_response_out> cluster_silence(const net::http_request_in& req, const principal& who);
    net::http_response_out local_command(const net::http_request_in& req, std::string_view who, const command_path& c);

    void close_revoked_streams() {
        events.close_if_not([this](const token_digest& d) { return token_valid(d); });
    }
};

api::api(admin_settings settings, metrics& m, daemon_access& daemon, std::vector<asset> assets)
    : impl_(std::make_unique<impl>(std::move(settings), m, daemon, std::move(assets))) {}
api::~api() = default;

std::string api::load_tokens() {
    auto& s = *impl_;
    const auto& path = s.settings.tokens_file;
    if (path.empty()) {
        if (s.extra_tokens.empty())
            core::log_warning("admin: no tokens_file: the admin API and console answer 401 to everything but /healthz");
        return "";
    }
    auto loaded = admin::load_tokens(path);
    std::string note;
    switch (loaded.state) {
        case tokens_file::status::loaded: {
            std::lock_guard lock(s.mutex);
            s.tokens = std::move(loaded.tokens);
            core::log_info("admin: " + std::to_string(s.tokens.size()) + " token(s) from " + path);
            s.m.admin_tokens(s.tokens.size());
            break;
        }
        case tokens_file::status::missing: {
            std::lock_guard lock(s.mutex);
            s.tokens.clear();
            note = "tokens file " + path + " is gone: every token from it is revoked";
            core::log_warning("admin: " + note);
            s.m.admin_tokens(0);
            break;
        }
        case tokens_file::status::invalid: {
            std::size_t kept = 0;
            {
                std::lock_guard lock(s.mutex);
                kept = s.tokens.size();
            }
            for (const auto& e : loaded.errors) core::log_error(e);
            note = "tokens file " + path + " was not loaded (" + std::to_string(loaded.errors.size()) +
                   " problem(s)); the " + std::to_string(kept) + " token(s) loaded before stay valid";
            core::log_error("admin: " + note);
            s.m.admin_tokens_file_error();
            break;
        }
    }
    s.close_revoked_streams();
    return note;
}

void api::add_token(std::string name, role granted, std::string_view token) {
    std::lock_guard lock(impl_->mutex);
    impl_->extra_tokens.push_back(token_entry{std::move(name), granted, sha256(token)});
}

void api::set_port(std::uint16_t port) {
    std::lock_guard lock(impl_->mutex);
    impl_->compute_hosts(port);
}

void api::set_cluster(cluster_access* cluster, std::string_view peer_token) {
    std::lock_guard lock(impl_->mutex);
    impl_->cluster = cluster;
    impl_->peer_token = std::string(peer_token);
    if (!peer_token.empty()) impl_->peer_digest = sha256(peer_token);
    // The live feed shows the whole cluster exactly when the list does.
    if (cluster && !peer_token.empty()) impl_->events.enable_cluster(*cluster);
}

void api::feed_message(std::string_view message) { impl_->events.peer_message(message); }

void api::incidents_changed(std::span<const std::uint64_t> ids) { impl_->events.mark(ids); }

void api::flush_feed() { impl_->events.flush(); }

boost::asio::awaitable<net::http_response_out> api::handle(const net::http_request_in& req) {
    auto& s = *impl_;
    auto path = req.path();
    const bool read = req.method == "GET" || req.method == "HEAD";

    // Before anything else: a page whose DNS name was rebound to this address sends its own
    // name as Host. 421 (Misdirected Request) says "not the server for that name", which is
    // what it is, and keeps 403 for a token whose role may not do something.
    if (!s.host_allowed(req.header("Host"))) {
        s.refused(req, "host", "", "request", "refused: foreign Host " + req.header("Host").substr(0, 100));
        co_return error_response(421, "this server does not answer for that Host; add it to admin.hosts");
    }

    if (read && path == "/healthz") {
        std::string detail;
        bool ok = s.daemon.healthy(detail);
        net::http_response_out r;
        r.status = ok ? 200 : 503;
        r.body = ok ? "ok\n" : detail + "\n";
        co_return r;
    }
    if (read) {
        for (const auto& a : s.assets) {
            if (a.path == path) {
                // Static files carry no data; the console asks for a token before it reads any.
                net::http_response_out r;
                r.content_type = std::string(a.content_type);
                r.body = std::string(a.body);
                r.headers.emplace_back("Cache-Control", "no-cache");
                r.headers.emplace_back("Content-Security-Policy",
                                       "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                                       "img-src 'self' data:");  // data: for the inline favicon
                co_return r;
            }
        }
    }
    if (read && path == "/metrics" && s.settings.metrics_open) {
        net::http_response_out r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = s.m.render();
        co_return r;
    }

    // The event stream: EventSource cannot send headers, so it presents a single-use ticket
    // that a bearer-token request obtained a moment before.
    if (read && path == "/api/v1/events") {
        auto who = s.redeem(query_value(req.target, "ticket"));
        if (!who) {
            s.refused(req, "unauthenticated", "", "sign-in", "refused: no valid ticket");
            co_return unauthorised("a fresh ticket from POST /api/v1/events/ticket is required");
        }
        // The place is taken now, so streams opened at the same moment cannot all pass the cap
        // before any of them is attached; it is given back if no stream comes of it.
        auto place = s.events.admit(who->digest);
        if (!place) {
            auto r = error_response(503, "too many event streams are open (admin.max_event_streams is " +
                                             std::to_string(s.settings.max_event_streams) +
                                             "); close a console or raise the limit");
            r.headers.emplace_back("Retry-After", "10");
            co_return r;
        }
        net::http_response_out r;
        r.on_stream = [this, place](std::shared_ptr<net::sse_stream> stream) {
            impl_->events.attach(place, std::move(stream));
        };
        co_return r;
    }

    if (path != "/metrics" && !path.starts_with("/api/")) {
        if (read || req.method == "POST") co_return error_response(404, "not found");
        auto r = error_response(405, "method not allowed");
        r.headers.emplace_back("Allow", "GET, HEAD, POST");
        co_return r;
    }

    // Replicas of one cluster, with the peer token (and only they, and only there).
    if (path.starts_with("/api/v1/cluster/")) co_return co_await s.handle_peer(req);

    // Everything else needs a token; which role depends on the call.
    auto who = s.bearer(req);
    if (!who) {
        s.refused(req, "unauthenticated", "", "sign-in",
                  req.header("Authorization").empty() ? "refused: no token" : "refused: invalid token");
        co_return unauthorised("a valid bearer token is required");
    }
    auto forbid = [&](std::string_view action, role need) {
        s.refused(req, "forbidden", who->name, std::string(action),
                  "refused: role " + std::string(to_string(who->granted)) + " may not (needs " +
                      std::string(to_string(need)) + ")");
        return error_response(403, "the role " + std::string(to_string(who->granted)) + " may not do this; it needs " +
                                       std::string(to_string(need)));
    };
    auto parts = split_path(path);

    if (read) {
        if (path == "/metrics") {
            net::http_response_out r;
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            r.body = s.m.render();
            co_return r;
        }
        if (path == "/api/v1/session") {
            co_return json_response(200, boost::json::serialize(boost::json::object{
                                             {"name", who->name}, {"role", to_string(who->granted)}}));
        }
        if (path == "/api/v1/incidents") {
            // ?resolved=N: a poller that wants the live list need not receive, nor crisisd render,
            // the day of resolved incidents storage.resolved_grace keeps (issue 13).
            std::optional<std::size_t> resolved;
            if (auto l = query_value(req.target, "resolved"); !l.empty()) {
                auto n = parse_number(l);
                if (!n) co_return error_response(400, "'resolved' must be a number (0: none)");
                resolved = static_cast<std::size_t>(std::min<std::uint64_t>(*n, 1000000));
            }
            auto local = s.daemon.incidents_json(resolved);
            if (!s.cluster || s.peer_token.empty()) co_return json_response(200, std::move(local));
            fan_out_call call{s.cluster->peers(), "GET", "/api/v1/cluster/incidents", ""};
            if (resolved) call.path += "?resolved=" + std::to_string(*resolved);
            auto answers = co_await s.fan_out(std::move(call));
            co_return json_response(200, merge_incident_lists(s.cluster->self_name(), local, answers));
        }
        if (path == "/api/v1/dead-letters") {
            if (!allows(who->granted, role::admin)) co_return forbid("read dead letters", role::admin);
            co_return json_response(200, s.daemon.dead_letters_json());
        }
        if (path == "/api/v1/audit") {
            if (!allows(who->granted, role::admin)) co_return forbid("read audit", role::admin);
            std::size_t limit = 100;
            if (auto l = query_value(req.target, "limit"); !l.empty()) {
                auto n = parse_number(l);
                if (!n || *n == 0) co_return error_response(400, "'limit' must be a positive number");
                limit = static_cast<std::size_t>(std::min<std::uint64_t>(*n, 10000));
            }
            s.flush_failures();
            co_return json_response(200, s.daemon.audit_json(limit));
        }
        if (parts.size() == 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "incidents") {
            auto id = parse_number(parts[3]);
            if (!id) co_return error_response(400, "incident id must be a number");
            if (s.cluster && !s.peer_token.empty()) {
                // The owner's view: a replica that lost the partition may still hold a stale copy.
                if (auto route = s.cluster->route(*id); route.where == incident_route::kind::peer) {
                    fan_out_call call{only(route.to), "GET", "/api/v1/cluster/incidents/" + std::to_string(*id), ""};
                    auto answers = co_await s.fan_out(std::move(call));
                    co_return relayed(answers.front());
                }
            }
            auto body = s.daemon.incident_json(*id);
            if (!body) co_return error_response(404, s.daemon.missing_incident(*id));
            co_return json_response(200, std::move(*body));
        }
        co_return error_response(404, "not found");
    }
    if (req.method != "POST") {
        auto r = error_response(405, "method not allowed");
        r.headers.emplace_back("Allow", "GET, HEAD, POST");
        co_return r;
    }

    if (path == "/api/v1/events/ticket") {
        auto t = s.new_ticket(*who);
        if (t.empty()) co_return error_response(500, "no random bytes for a ticket");
        co_return json_response(200, boost::json::serialize(boost::json::object{
                                         {"ticket", t}, {"expires_in", std::int64_t{ticket_lifetime.count()}}}));
    }
    if (path == "/api/v1/silences") {
        if (!allows(who->granted, role::responder)) co_return forbid("silence", role::responder);
        if (s.cluster) co_return co_await s.cluster_silence(req, *who);
        audit_entry note{who->name, req.remote_address, "silence", "", ""};
        auto r = silence_request(s.daemon, req.body, who->name, note);
        s.daemon.audit(note);
        co_return r;
    }
    // POST /api/v1/incidents/{id}/{ack|resolve}
    // POST /api/v1/incidents/{id}/steps/{n}/{approve|veto}
    if (parts.size() < 5 || parts[0] != "api" || parts[1] != "v1") co_return error_response(404, "not found");
    auto parsed = parse_command(std::span(parts).subspan(2));
    if (auto* r = std::get_if<net::http_response_out>(&parsed)) co_return std::move(*r);
    const auto& c = std::get<command_path>(parsed);
    const role need = c.step ? role::approver : role::responder;
    if (!allows(who->granted, need)) co_return forbid(c.verb, need);
    if (s.cluster) co_return co_await s.cluster_command(req, *who, c);
    co_return s.local_command(req, who->name, c);
}

net::http_response_out api::impl::local_command(const net::http_request_in& req, std::string_view who,
                                                const command_path& c) {
    auto outcome = daemon.command(c.verb, c.id, c.step, who);
    daemon.audit({std::string(who), req.remote_address, std::string(c.verb),
                  "incident " + std::to_string(c.id) + (c.step ? " step " + std::to_string(*c.step) : std::string()),
                  std::string(status_name(outcome.status))});
    switch (outcome.status) {
        case command_status::done:
        case command_status::already_done: {
            auto body = daemon.incident_json(c.id);
            return json_response(200, body ? std::move(*body) : std::string("{}"));
        }
        case command_status::not_found: return error_response(404, outcome.message);
        case command_status::not_allowed: return error_response(409, outcome.message);
        case command_status::bad_request: return error_response(400, outcome.message);
    }
    return error_response(500, "unexpected outcome");
}

namespace {
std::string command_target(const command_path& c) {
    return "incident " + std::to_string(c.id) + (c.step ? " step " + std::to_string(*c.step) : std::string());
}
std::string command_path_text(const command_path& c) {
    return "/api/v1/cluster/incidents/" + std::to_string(c.id) +
           (c.step ? "/steps/" + std::to_string(*c.step) + "/" : std::string("/")) + std::string(c.verb);
}
}  // namespace

// A person's command in cluster mode: applied here when this replica owns the incident's
// partition, else sent to the owner with the peer token and the person's name (never the
// person's token); the owner's answer is passed on.
boost::asio::awaitable<net::http_response_out> api::impl::cluster_command(const net::http_request_in& req,
                                                                          const principal& who, const command_path& c) {
    const auto route = cluster->route(c.id);
    if (route.where == incident_route::kind::here) co_return local_command(req, who.name, c);
    if (route.where == incident_route::kind::nobody || peer_token.empty()) {
        const auto why = peer_token.empty()
                             ? "incident " + std::to_string(c.id) + " belongs to partition " + std::to_string(route.partition) +
                                   ", which another replica owns, and cluster.peer_token is not set to reach it"
                             : "partition " + std::to_string(route.partition) + " of incident " + std::to_string(c.id) +
                                   " has no owner at the moment; try again in a few seconds";
        daemon.audit({who.name, req.remote_address, std::string(c.verb), command_target(c), "refused: " + why});
        co_return error_response(503, why);
    }
    fan_out_call call{only(route.to), "POST", command_path_text(c), forward_body(who.name, cluster->self_name())};
    auto answers = co_await fan_out(std::move(call));
    const auto& a = answers.front();
    daemon.audit({who.name, req.remote_address, std::string(c.verb), command_target(c),
                  "forwarded to " + route.to.name + ": " +
                      (a.status == 0 ? "no answer (" + a.error + ")" : "HTTP " + std::to_string(a.status))});
    co_return relayed(a);
}

// A silence in cluster mode: set here, then on every peer (each owner mutes its own partitions'
// keys). The answer names the replicas that set it and those that did not answer.
boost::asio::awaitable<net::http_response_out> api::impl::cluster_silence(const net::http_request_in& req,
                                                                          const principal& who) {
    audit_entry note{who.name, req.remote_address, "silence", "", ""};
    auto r = silence_request(daemon, req.body, who.name, note);
    if (r.status != 200 || peer_token.empty()) {
        daemon.audit(note);
        co_return r;
    }
    auto body = json_object(req.body).value_or(boost::json::object{});
    body["who"] = who.name;
    body["via"] = cluster->self_name();
    fan_out_call call{cluster->peers(), "POST", "/api/v1/cluster/silences", boost::json::serialize(body)};
    auto answers = co_await fan_out(std::move(call));
    boost::json::array set_on;
    set_on.push_back(boost::json::string(cluster->self_name()));
    boost::json::array unanswered;
    for (const auto& a : answers) {
        if (a.status == 200) set_on.push_back(boost::json::string(a.name));
        else unanswered.push_back(unanswered_entry(a));
    }
    note.outcome += "; set on " + std::to_string(set_on.size()) + " replica(s)" +
                    (unanswered.empty() ? "" : ", " + std::to_string(unanswered.size()) + " did not answer");
    daemon.audit(note);
    auto out = json_object(r.body).value_or(boost::json::object{});
    out["replicas"] = std::move(set_on);
    out["unanswered"] = std::move(unanswered);
    r.body = boost::json::serialize(out);
    co_return r;
}

// What peers may ask (admin/cluster.hpp): the peer token and nothing else opens it.
boost::asio::awaitable<net::http_response_out> api::impl::handle_peer(const net::http_request_in& req) {
    if (!cluster || !peer_authenticated(req)) {
        refused(req, "unauthenticated", "", "peer", "refused: no valid peer token");
        co_return unauthorised("the cluster's peer token is required");
    }
    auto path = req.path();
    auto parts = split_path(path);
    std::span<const std::string_view> rest = std::span(parts).subspan(3);  // after api/v1/cluster
    const bool read = req.method == "GET" || req.method == "HEAD";
    if (read) {
        if (rest.size() == 1 && rest[0] == "incidents") {
            std::optional<std::size_t> resolved;
            if (auto l = query_value(req.target, "resolved"); !l.empty()) {
                auto n = parse_number(l);
                if (!n) co_return error_response(400, "'resolved' must be a number (0: none)");
                resolved = static_cast<std::size_t>(std::min<std::uint64_t>(*n, 1000000));
            }
            co_return json_response(200, daemon.incidents_json(resolved));
        }
        if (rest.size() == 2 && rest[0] == "incidents") {
            auto id = parse_number(rest[1]);
            if (!id) co_return error_response(400, "incident id must be a number");
            auto body = daemon.incident_json(*id);
            if (!body) co_return error_response(404, daemon.missing_incident(*id));
            co_return json_response(200, std::move(*body));
        }
        co_return error_response(404, "not found");
    }
    if (req.method != "POST") co_return error_response(405, "method not allowed");
    auto body = json_object(req.body);
    if (!body) co_return error_response(400, "body must be a JSON object");
    const auto who = string_member(*body, "who");
    const auto via = string_member(*body, "via");
    if (who.empty() || via.empty()) co_return error_response(400, "'who' and 'via' are required");
    const auto acting = forwarded_name(who, via);
    if (rest.size() == 1 && rest[0] == "silences") {
        audit_entry note{acting, req.remote_address, "silence", "", ""};
        auto r = silence_request(daemon, req.body, acting, note);
        daemon.audit(note);
        co_return r;
    }
    auto parsed = parse_command(rest);
    if (auto* r = std::get_if<net::http_response_out>(&parsed)) co_return std::move(*r);
    const auto& c = std::get<command_path>(parsed);
    // Only the owner applies a command, and it never forwards one further: a route that moved
    // since the sender looked answers 409, and the person tries again.
    if (const auto route = cluster->route(c.id); route.where != incident_route::kind::here) {
        daemon.audit({acting, req.remote_address, std::string(c.verb), command_target(c),
                      "refused: partition " + std::to_string(route.partition) + " is not owned here"});
        co_return error_response(409, "replica " + cluster->self_name() + " does not own partition " +
                                          std::to_string(route.partition) + " of incident " + std::to_string(c.id));
    }
    co_return local_command(req, acting, c);
}

std::optional<net::http_response_out> api::check_head(const net::http_request_in& head) {
    auto& s = *impl_;
    // Every request that may carry a body needs a token (the reads that do not, /healthz, the
    // console's files and the event stream, have none), so a body without one is never read.
    if (!s.host_allowed(head.header("Host"))) {
        s.refused(head, "host", "", "request", "refused: foreign Host " + head.header("Host").substr(0, 100));
        return error_response(421, "this server does not answer for that Host; add it to admin.hosts");
    }
    if (head.path().starts_with("/api/v1/cluster/") ? s.peer_authenticated(head) : s.bearer(head).has_value())
        return std::nullopt;
    s.refused(head, "unauthenticated", "", "sign-in",
              head.header("Authorization").empty() ? "refused: no token" : "refused: invalid token");
    return unauthorised("a valid bearer token is required");
}

}  // namespace crisisd::admin
