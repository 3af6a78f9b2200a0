#include "admin/api.hpp"

#include <openssl/crypto.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <fstream>
#include <mutex>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace crisisd::admin {
namespace {

net::http_response_out json_response(int status, std::string body) {
    net::http_response_out r;
    r.status = status;
    r.content_type = "application/json";
    r.body = std::move(body);
    return r;
}

net::http_response_out error_response(int status, std::string_view message) {
    std::string body = "{\"error\":";
    body += '"';
    for (char c : message) {
        if (c == '"' || c == '\\') body += '\\';
        body += c;
    }
    body += "\"}";
    return json_response(status, std::move(body));
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

// POST /api/v1/silences: {"rule": "isp-outage", "key": "liwest", "duration": "2h"}.
net::http_response_out silence_request(daemon_access& daemon, std::string_view body, std::string_view who) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
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
    if (!length || length->empty()) return error_response(400, "'duration' must be a duration like 2h");
    auto d = core::parse_duration(*length);
    if (!d || *d <= core::duration::zero()) return error_response(400, "'duration' must be a duration like 2h");
    if (*d > std::chrono::hours(24 * 30)) return error_response(400, "'duration' must be at most 30d");
    auto outcome = daemon.silence(*rule, *key, std::chrono::duration_cast<std::chrono::seconds>(*d), who);
    switch (outcome.status) {
        case command_status::done:
        case command_status::already_done: {
            std::string out = "{\"rule\":";
            core::append_json_string(out, *rule);
            out += ",\"key\":";
            core::append_json_string(out, *key);
            out += ",\"duration\":";
            core::append_json_string(out, core::format_duration(*d));
            out += ",\"result\":";
            core::append_json_string(out, outcome.message);
            out += "}";
            return json_response(200, std::move(out));
        }
        case command_status::not_found: return error_response(404, outcome.message);
        case command_status::not_allowed: return error_response(409, outcome.message);
        case command_status::bad_request: return error_response(400, outcome.message);
    }
    return error_response(500, "unexpected outcome");
}

}  // namespace

command_outcome daemon_access::silence(std::string_view, std::string_view, std::chrono::seconds, std::string_view) {
    return {command_status::not_allowed, "silences are not supported here"};
}

std::string daemon_access::dead_letters_json() { return "{\"dead_letters\":[]}"; }

struct api::impl {
    admin_settings settings;
    metrics& m;
    daemon_access& daemon;
    std::vector<asset> assets;
    std::vector<std::string> tokens;        // from the tokens file, replaced by each load
    std::vector<std::string> extra_tokens;  // add_token(): kept across loads
    std::mutex streams_mutex;
    std::vector<std::weak_ptr<net::sse_stream>> streams;

    impl(admin_settings s, metrics& mm, daemon_access& d, std::vector<asset> a)
        : settings(std::move(s)), m(mm), daemon(d), assets(std::move(a)) {}

    // Constant-time comparison against every token, so timing reveals neither a token nor
    // how much of one matched.
    bool authorised(const net::http_request_in& req, std::string& who) const {
        auto h = req.header("Authorization");
        constexpr std::string_view prefix = "Bearer ";
        if (h.size() <= prefix.size() || std::string_view(h).substr(0, prefix.size()) != prefix) return false;
        std::string_view presented = std::string_view(h).substr(prefix.size());
        bool ok = false;
        for (const auto* list : {&tokens, &extra_tokens})
            for (const auto& t : *list)
                if (t.size() == presented.size() && CRYPTO_memcmp(t.data(), presented.data(), t.size()) == 0) ok = true;
        if (ok) {
            auto user = req.header("X-Crisisd-User");
            who = user.empty() ? "api" : user.substr(0, 64);
        }
        return ok;
    }
};

api::api(admin_settings settings, metrics& m, daemon_access& daemon, std::vector<asset> assets)
    : impl_(std::make_unique<impl>(std::move(settings), m, daemon, std::move(assets))) {}
api::~api() = default;

std::string api::load_tokens() {
    if (impl_->settings.tokens_file.empty()) return "";
    std::ifstream in(impl_->settings.tokens_file);
    if (!in) return "cannot read tokens file " + impl_->settings.tokens_file;
    std::vector<std::string> loaded;
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        loaded.push_back(line);
    }
    if (in.bad()) return "cannot read tokens file " + impl_->settings.tokens_file;
    impl_->tokens = std::move(loaded);
    return "";
}

void api::add_token(std::string token) { impl_->extra_tokens.push_back(std::move(token)); }

bool api::has_listeners() const {
    std::lock_guard lock(impl_->streams_mutex);
    for (const auto& w : impl_->streams)
        if (auto st = w.lock(); st && st->is_open()) return true;
    return false;
}

void api::publish(std::string_view event, std::string_view json) {
    std::lock_guard lock(impl_->streams_mutex);
    auto& streams = impl_->streams;
    for (auto it = streams.begin(); it != streams.end();) {
        auto s = it->lock();
        if (!s || !s->is_open()) {
            it = streams.erase(it);
            continue;
        }
        s->send(json, event);
        ++it;
    }
}

boost::asio::awaitable<net::http_response_out> api::handle(const net::http_request_in& req) {
    auto& s = *impl_;
    auto path = req.path();
    if (req.method == "GET" || req.method == "HEAD") {
        if (path == "/metrics") {
            net::http_response_out r;
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            r.body = s.m.render();
            co_return r;
        }
        if (path == "/healthz") {
            std::string detail;
            bool ok = s.daemon.healthy(detail);
            net::http_response_out r;
            r.status = ok ? 200 : 503;
            r.body = ok ? "ok\n" : detail + "\n";
            co_return r;
        }
        if (path == "/api/v1/session") {
            // Who a token signs in as: the console checks a token here before using it.
            std::string who;
            if (!s.authorised(req, who)) {
                auto r = error_response(401, "a valid bearer token is required");
                r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"crisisd\"");
                co_return r;
            }
            std::string body = "{\"user\":";
            core::append_json_string(body, who);
            body += "}";
            co_return json_response(200, std::move(body));
        }
        if (path == "/api/v1/incidents") co_return json_response(200, s.daemon.incidents_json());
        if (path == "/api/v1/dead-letters") co_return json_response(200, s.daemon.dead_letters_json());
        if (path == "/api/v1/events") {
            net::http_response_out r;
            r.on_stream = [this](std::shared_ptr<net::sse_stream> stream) {
                stream->send(impl_->daemon.incidents_json(), "incidents");
                std::lock_guard lock(impl_->streams_mutex);
                impl_->streams.push_back(stream);
            };
            co_return r;
        }
        auto parts = split_path(path);
        if (parts.size() == 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "incidents") {
            auto id = parse_number(parts[3]);
            if (!id) co_return error_response(400, "incident id must be a number");
            auto body = s.daemon.incident_json(*id);
            if (!body) co_return error_response(404, "no such incident");
            co_return json_response(200, std::move(*body));
        }
        for (const auto& a : s.assets) {
            if (a.path == path) {
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
        co_return error_response(404, "not found");
    }
    if (req.method == "POST") {
        // POST /api/v1/incidents/{id}/{ack|resolve}
        // POST /api/v1/incidents/{id}/steps/{n}/{approve|veto}
        auto parts = split_path(path);
        if (path == "/api/v1/silences") {
            std::string who;
            if (!s.authorised(req, who)) {
                auto r = error_response(401, "a valid bearer token is required");
                r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"crisisd\"");
                co_return r;
            }
            co_return silence_request(s.daemon, req.body, who);
        }
        if (parts.size() < 5 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "incidents")
            co_return error_response(404, "not found");
        std::string who;
        if (!s.authorised(req, who)) {
            auto r = error_response(401, "a valid bearer token is required");
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"crisisd\"");
            co_return r;
        }
        auto id = parse_number(parts[3]);
        if (!id) co_return error_response(400, "incident id must be a number");
        std::string_view verb;
        std::optional<std::size_t> step;
        if (parts.size() == 5 && (parts[4] == "ack" || parts[4] == "resolve")) {
            verb = parts[4];
        } else if (parts.size() == 7 && parts[4] == "steps" && (parts[6] == "approve" || parts[6] == "veto")) {
            auto n = parse_number(parts[5]);
            if (!n) co_return error_response(400, "step must be a number");
            step = static_cast<std::size_t>(*n);
            verb = parts[6];
        } else {
            co_return error_response(404, "not found");
        }
        auto outcome = s.daemon.command(verb, *id, step, who);
        switch (outcome.status) {
            case command_status::done:
            case command_status::already_done: {
                auto body = s.daemon.incident_json(*id);
                co_return json_response(200, body ? std::move(*body) : std::string("{}"));
            }
            case command_status::not_found: co_return error_response(404, outcome.message);
            case command_status::not_allowed: co_return error_response(409, outcome.message);
            case command_status::bad_request: co_return error_response(400, outcome.message);
        }
    }
    auto r = error_response(405, "method not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    co_return r;
}

}  // namespace crisisd::admin
