// Sections that configure the I/O shell: sources, channels, admin, storage.
#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "config/detail/listen.hpp"
#include "config/detail/sections.hpp"
#include "config/detail/source_x.hpp"
#include "notify/traits.hpp"

namespace crisisd::config::detail {

namespace {

bool starts_with_any(const std::string& s, std::initializer_list<std::string_view> prefixes) {
    for (auto p : prefixes) {
        if (s.size() > p.size() && s.compare(0, p.size(), p) == 0 &&
            s.find_first_of(" \t\r\n") == std::string::npos) {
            return true;
        }
    }
    return false;
}

// A url is checked after its secrets are expanded; a url built from a secret is not echoed.
void check_url(context& ctx, const field& f, const std::string& url,
               std::initializer_list<std::string_view> schemes, std::string_view how) {
    if (starts_with_any(url, schemes)) return;
    std::string message = "'url' must start with " + std::string(how);
    if (!mentions_secret(f)) message += " (got " + shown(f.value) + ")";
    ctx.error(value_at(ctx, f), message);
}

void not_for_type(context& ctx, const mapping& m, std::string_view key, std::string_view type_phrase) {
    if (const field* f = m.find(key)) {
        ctx.error(ctx.at(f->key_node), "'" + std::string(key) + "' only applies to " + std::string(type_phrase));
    }
}

bool valid_listen(const std::string& s) {
    std::size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
    std::string_view host(s.data(), colon);
    if (host.front() == '[' && host.back() != ']') return false;
    unsigned port = 0;
    auto [end, ec] = std::from_chars(s.data() + colon + 1, s.data() + s.size(), port);
    return ec == std::errc{} && end == s.data() + s.size() && port <= 65535;
}

bool valid_header_name(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// `N/s`, `N/m` or `N/h`: a whole number of mentions per second, minute or hour.
std::optional<ingest::rate_limit> parse_rate(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 2 != text.size()) return std::nullopt;
    std::uint64_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + slash, count);
    if (ec != std::errc{} || end != text.data() + slash || count < 1 || count > 1'000'000) return std::nullopt;
    ingest::rate_limit r;
    r.count = count;
    switch (text.back()) {
        case 's': r.per = std::chrono::seconds(1); break;
        case 'm': r.per = std::chrono::minutes(1); break;
        case 'h': r.per = std::chrono::hours(1); break;
        default: return std::nullopt;
    }
    return r;
}

// true/false, nothing else (YAML 1.1's yes/on are ambiguous to readers).
std::optional<bool> read_flag(context& ctx, const field& f) {
    if (auto v = read_choice(ctx, f, {"false", "true"})) return *v == 1;
    return std::nullopt;
}

}  // namespace

void for_each_entry(context& ctx, const field& list,
                    const std::function<void(const YAML::Node& item, const location& at)>& each) {
    if (!list.value || list.value.IsNull()) return;
    if (!list.value.IsSequence()) {
        ctx.error(value_at(ctx, list), "'" + list.key + "' must be a list (got " + shown(list.value) + ")");
        return;
    }
    for (const auto& item : list.value) {
        each(item, item.IsNull() ? value_at(ctx, list) : ctx.at(item));
    }
}

// The keys that depend on the wire format: Jetstream filters, subscribe frames, a field map.
void read_source_format_keys(context& ctx, const mapping& m, ingest::source_settings& s) {
    if (s.format != "jetstream") {
        not_for_type(ctx, m, "collections", "sources of format jetstream");
        not_for_type(ctx, m, "dids", "sources of format jetstream");
    }
    if (s.format != "generic") {
        not_for_type(ctx, m, "fields", "sources of format generic");
        not_for_type(ctx, m, "only_when", "sources of format generic");
    }
    if (const field* c = m.find("collections")) {
        if (auto v = read_string_list(ctx, *c, true)) s.collections = *v;
    }
    if (const field* d = m.find("dids")) {
        if (auto v = read_string_list(ctx, *d, true)) s.dids = *v;
    }
    // Each entry is sent as one text frame: a string as written, a mapping of scalars as a JSON
    // object ({stream: hashtag, tag: acme} → {"stream":"hashtag","tag":"acme"}); Mastodon
    // subscriptions get "type":"subscribe" added when they do not say otherwise.
    if (const field* sub = m.find("subscribe")) {
        for_each_entry(ctx, *sub, [&](const YAML::Node& item, const location& at) {
            if (item.IsScalar()) {
                s.subscribe.push_back(item.Scalar());
                return;
            }
            if (!item.IsMap()) {
                ctx.error(at, "each entry of 'subscribe' must be a string or a mapping (got " + shown(item) + ")");
                return;
            }
            boost::json::object frame;
            for (const auto& pair : item) {
                if (!pair.first.IsScalar() || !pair.second.IsScalar()) {
                    ctx.error(ctx.at(pair.first), "'subscribe' mappings hold plain strings (got " + shown(pair.second) + ")");
                    return;
                }
            }
            // Mastodon's streaming API needs "type":"subscribe"; it goes first, as people write it.
            if (s.format == "mastodon" && !item["type"]) frame["type"] = "subscribe";
            for (const auto& pair : item) frame[pair.first.Scalar()] = pair.second.Scalar();
            s.subscribe.push_back(boost::json::serialize(frame));
        });
    }
    auto read_pointer_map = [&](std::string_view key, bool keys_are_fields,
                                std::vector<std::pair<std::string, std::string>>& target) {
        const field* f = m.find(key);
        if (!f) return;
        if (!f->value || !f->value.IsMap()) {
            ctx.error(value_at(ctx, *f), "'" + std::string(key) + "' must be a mapping (got " + shown(f->value) + ")");
            return;
        }
        for (const auto& pair : f->value) {
            const field e{pair.first.IsScalar() ? pair.first.Scalar() : std::string(), pair.first, pair.second};
            auto v = read_string(ctx, e);
            if (!v) continue;
            const std::string& pointer = keys_are_fields ? *v : e.key;
            if (!pointer.empty() && pointer.front() != '/') {
                ctx.error(keys_are_fields ? value_at(ctx, e) : ctx.at(e.key_node),
                          "a JSON Pointer starts with '/' (got " + shown(keys_are_fields ? e.value : e.key_node) + ")");
                continue;
            }
            if (keys_are_fields) {
                // parse::mappable_fields(), spelled out: config does not link the parsers.
                static constexpr std::string_view names[] = {"id", "text", "created_at", "source", "author", "lang", "url"};
                if (std::find(std::begin(names), std::end(names), e.key) == std::end(names)) {
                    ctx.error(ctx.at(e.key_node), "unknown mention field '" + e.key +
                                                      "' (known: id, text, created_at, source, author, lang, url)");
                    continue;
                }
            }
            target.emplace_back(e.key, *v);
        }
    };
    read_pointer_map("fields", true, s.field_map);
    read_pointer_map("only_when", false, s.only_when);
}

void read_sources(context& ctx, const field& f, std::vector<ingest::source_settings>& out) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each entry of 'sources'",
                  {"name", "type", "url", "format", "path", "ca_file", "token", "max_message_bytes",
                   "reconnect", "collections", "dids", "subscribe", "fields", "only_when", "listen",
                   "max_body_bytes", "queue", "trusted", "max_rate", "behind_proxy", "interval", "verify_token",
                   "app_secret", "compression", x_source_keys[0], x_source_keys[1], x_source_keys[2],
                   x_source_keys[3]});
        if (!m.valid()) return;
        m.set_owner("source");
        ingest::source_settings s;
        if (const field* name = m.require("name")) {
            if (auto v = read_name(ctx, *name)) {
                s.name = *v;
                ctx.define(name_kind::source, s.name, value_at(ctx, *name));
                m.set_owner("source '" + s.name + "'");
            }
        }
        bool type_known = true;
        if (const field* type = m.find("type")) {
            static constexpr std::string_view types[] = {"websocket", "file", "http", "feed", "facebook", "x"};
            if (auto v = read_choice(ctx, *type, types)) {
                s.type = std::string(types[*v]);
                if (s.type == "x") apply_x_source_defaults(s);
            } else {
                type_known = false;
            }
        }
        if (const field* format = s.type == "x" ? nullptr : m.find("format")) {
            if (auto v = read_choice(ctx, *format, {"generic", "jetstream", "mastodon"}))
                s.format = *v == 0 ? "generic" : *v == 1 ? "jetstream" : "mastodon";
        }
        // Feeds and Facebook have one wire format each, read by crisisd into canonical items.
        const bool own_format = s.type == "feed" || s.type == "facebook";
        if (own_format) {
            if (const field* format = m.find("format"))
                ctx.error(ctx.at(format->key_node), "'format' does not apply to sources of type " + s.type +
                                                        " (crisisd reads their documents itself)");
            s.format = "item";
        }
        read_source_format_keys(ctx, m, s);
        if (const field* token = s.type == "x" ? nullptr : m.find("token")) {
            if (auto v = read_secret(ctx, *token, true)) s.token = *v;
        }
        if (const field* max = m.find("max_message_bytes")) {
            if (auto v = read_integer(ctx, *max, 1, std::uint64_t{1} << 30)) s.max_message_bytes = *v;
        }
        if (const field* reconnect = m.find("reconnect")) {
            mapping r(ctx, *reconnect, {"initial", "max", x_reconnect_keys[0], x_reconnect_keys[1], x_reconnect_keys[2]});
            read_x_reconnect(ctx, r, s);
            const field* initial = r.find("initial");
            const field* max = r.find("max");
            std::optional<core::duration> i, x;
            if (initial && (i = read_duration(ctx, *initial, false, "500ms"))) s.reconnect_initial = *i;
            if (max && (x = read_duration(ctx, *max, false, "60s"))) s.reconnect_max = *x;
            if (s.reconnect_initial > s.reconnect_max && (i || x)) {
                ctx.error(value_at(ctx, max ? *max : *initial),
                          "'reconnect' needs 'initial' (" + core::format_duration(s.reconnect_initial) +
                              ") no longer than 'max' (" + core::format_duration(s.reconnect_max) + ")");
            }
        }
        if (const field* queue = m.find("queue")) {
            mapping q(ctx, *queue, {"capacity", "overflow"});
            if (const field* capacity = q.find("capacity")) {
                if (auto v = read_integer(ctx, *capacity, 1, 10'000'000)) s.queue_capacity = *v;
            }
            if (const field* overflow = q.find("overflow")) {
                if (auto v = read_choice(ctx, *overflow, {"block", "drop_oldest"}))
                    s.queue_overflow = *v == 0 ? ingest::overflow_policy::block : ingest::overflow_policy::drop_oldest;
            }
        }
        if (const field* rate = m.find("max_rate")) {
            std::optional<ingest::rate_limit> r;
            if (rate->value && rate->value.IsScalar()) r = parse_rate(rate->value.Scalar());
            if (r) s.max_rate = *r;
            else
                ctx.error(value_at(ctx, *rate), "'max_rate' must be a rate like 200/s: a whole number from 1 to "
                                                "1000000 per s, m or h (got " + shown(rate->value) + ")");
        }
        if (const field* trusted = m.find("trusted")) {
            if (s.format != "generic") {
                ctx.error(ctx.at(trusted->key_node), "'trusted' only applies to sources of format generic "
                                                     "(the platform vouches for jetstream and mastodon authors)");
            } else if (auto v = read_flag(ctx, *trusted)) {
                s.trusted = *v;
            }
        }
        if (!type_known) {
            out.push_back(std::move(s));
            return;
        }
        const bool listener = s.type == "http" || s.type == "facebook";
        if (!listener) {
            not_for_type(ctx, m, "behind_proxy", "sources of type http and facebook");
            not_for_type(ctx, m, "listen", "sources of type http and facebook");
            not_for_type(ctx, m, "max_body_bytes", "sources of type http and facebook");
        }
        if (s.type != "websocket") not_for_type(ctx, m, "subscribe", "sources of type websocket");
        if (s.type != "feed") not_for_type(ctx, m, "interval", "sources of type feed");
        if (s.type != "facebook") {
            not_for_type(ctx, m, "verify_token", "sources of type facebook");
            not_for_type(ctx, m, "app_secret", "sources of type facebook");
        }
        if (s.type != "x") refuse_x_keys(ctx, m);
        read_compression(ctx, m, s);
        if (listener) {
            not_for_type(ctx, m, "path", "sources of type file");
            not_for_type(ctx, m, "url", "sources of type websocket and feed");
            not_for_type(ctx, m, "ca_file", "sources of type websocket and feed");
            not_for_type(ctx, m, "reconnect", "sources of type websocket");
            // A request is processed while its client waits: the request is the back-pressure.
            not_for_type(ctx, m, "queue", "sources of type websocket, file and feed");
            if (s.type == "http" && s.format != "generic") {
                if (const field* format = m.find("format"))
                    ctx.error(value_at(ctx, *format), "sources of type http take the generic format");
            }
            if (s.type == "facebook") {
                s.listen = "127.0.0.1:9466";  // beside HTTP ingest's 9465
                // Meta signs every delivery with the app secret and proves the subscription with
                // the verify token: both are needed, and like every secret they come by reference.
                not_for_type(ctx, m, "token", "sources of type websocket and http");
                if (const field* v = m.require("verify_token")) {
                    if (auto t = read_secret(ctx, *v, true)) s.verify_token = *t;
                }
                if (const field* a = m.require("app_secret")) {
                    if (auto t = read_secret(ctx, *a, true)) {
                        if (t->empty()) ctx.error(value_at(ctx, *a), "'app_secret' must not be empty");
                        s.app_secret = *t;
                    }
                }
            }
            if (const field* proxy = m.find("behind_proxy")) {
                if (auto v = read_flag(ctx, *proxy)) s.behind_proxy = *v;
            }
            if (const field* listen = m.find("listen")) {
                if (auto v = read_string(ctx, *listen)) {
                    if (valid_listen(*v)) s.listen = *v;
                    else ctx.error(value_at(ctx, *listen), "'listen' must be host:port (got " + shown(listen->value) + ")");
                }
                // Beyond loopback, whoever reaches the port could feed detection, and a token
                // sent over plain HTTP could be read on the way: both doors need closing.
                if (valid_listen(s.listen) && !is_loopback_listen(s.listen)) {
                    const std::string where = "'listen' " + s.listen + " is beyond loopback";
                    if (s.type == "http" && m.find("token") == nullptr)
                        ctx.error(value_at(ctx, *listen), where + ": an ingest listener there needs a 'token'");
                    if (!s.behind_proxy)
                        ctx.error(value_at(ctx, *listen),
                                  where + ": crisisd does not terminate TLS for ingest, so put a TLS reverse proxy in "
                                          "front and say so with 'behind_proxy: true' (or listen on 127.0.0.1)");
                }
            }
            if (const field* max = m.find("max_body_bytes")) {
                if (auto v = read_integer(ctx, *max, 1, std::uint64_t{1} << 30)) s.max_body_bytes = *v;
            }
        } else if (s.type == "feed") {
            not_for_type(ctx, m, "path", "sources of type file");
            not_for_type(ctx, m, "token", "sources of type websocket and http");
            not_for_type(ctx, m, "reconnect", "sources of type websocket");
            if (const field* url = m.require("url")) {
                if (auto v = read_secret(ctx, *url, false)) {
                    s.url = *v;
                    check_url(ctx, *url, s.url, {"http://", "https://"}, "http:// or https://");
                }
            }
            if (const field* ca = m.find("ca_file")) {
                if (auto v = read_string(ctx, *ca)) s.ca_file = resolve_path(ctx, *v);
                if (!s.url.empty() && s.url.rfind("https://", 0) != 0)
                    ctx.error(ctx.at(ca->key_node), "'ca_file' only applies to https:// urls");
            }
            if (const field* interval = m.find("interval")) {
                if (auto v = read_duration(ctx, *interval, false, "60s")) {
                    // Polling faster than once a second is not reading a feed, it is hammering a server.
                    if (*v < std::chrono::seconds(1))
                        ctx.error(value_at(ctx, *interval), "'interval' must be at least 1s (got " + shown(interval->value) + ")");
                    else s.interval = *v;
                }
            }
        } else if (s.type == "websocket") {
            not_for_type(ctx, m, "path", "sources of type file");
            if (const field* url = m.require("url")) {
                if (auto v = read_secret(ctx, *url, false)) {
                    s.url = *v;
                    check_url(ctx, *url, s.url, {"ws://", "wss://"}, "ws:// or wss://");
                }
            }
            if (const field* ca = m.find("ca_file")) {
                if (auto v = read_string(ctx, *ca)) s.ca_file = resolve_path(ctx, *v);
                if (!s.url.empty() && s.url.rfind("wss://", 0) != 0) {
                    ctx.error(ctx.at(ca->key_node), "'ca_file' only applies to wss:// urls");
                }
            }
        } else if (s.type == "x") {
            read_x_source(ctx, m, s);
        } else {
            not_for_type(ctx, m, "url", "sources of type websocket and feed");
            not_for_type(ctx, m, "ca_file", "sources of type websocket and feed");
            not_for_type(ctx, m, "token", "sources of type websocket and http");
            not_for_type(ctx, m, "reconnect", "sources of type websocket");
            if (const field* path = m.require("path")) {
                if (auto v = read_string(ctx, *path)) {
                    if (v->empty()) {
                        ctx.error(value_at(ctx, *path), "'path' must not be empty (use \"-\" for stdin)");
                    }
                    s.path = *v == "-" ? *v : resolve_path(ctx, *v);
                }
            }
        }
        out.push_back(std::move(s));
    });
}

namespace {

// The channel type names, from notify/traits.hpp, in the table's order.
const std::vector<std::string_view> channel_type_names = [] {
    std::vector<std::string_view> names;
    for (const auto& t : notify::channel_types) names.push_back(t.type);
    return names;
}();

// "mastodon or bluesky": the channel types that take `key`.
std::string types_taking(std::string_view key) {
    std::string out;
    for (const auto& t : notify::channel_types) {
        if (t.key(key) == nullptr) continue;
        if (!out.empty()) out += " or ";
        out += t.type;
    }
    return out;
}

}  // namespace

void read_channels(context& ctx, const field& f, std::vector<notify::channel_settings>& out) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each entry of 'channels'",
                  {"name", "type", "url", "headers", "ca_file", "path", "timeout", "base_url", "token", "visibility",
                   "routing_key", "identifier", "password", "statements_per_hour", "retry", "page_id", "graph_version",
                   "client_id", "client_secret", "refresh_token"});
        if (!m.valid()) return;
        m.set_owner("channel");
        notify::channel_settings c;
        if (const field* name = m.require("name")) {
            if (auto v = read_name(ctx, *name)) {
                c.name = *v;
                ctx.define(name_kind::channel, c.name, value_at(ctx, *name));
                m.set_owner("channel '" + c.name + "'");
            }
        }
        if (const field* timeout = m.find("timeout")) {
            if (auto v = read_duration(ctx, *timeout, false, "10s")) c.timeout = *v;
        }
        if (const field* retry = m.find("retry")) {
            mapping r(ctx, *retry, {"initial", "max", "attempts"});
            if (const field* x = r.find("initial"))
                if (auto v = read_duration(ctx, *x, false, "1s")) c.retry.initial = *v;
            if (const field* x = r.find("max"))
                if (auto v = read_duration(ctx, *x, false, "60s")) c.retry.max = *v;
            if (const field* x = r.find("attempts"))
                if (auto v = read_integer(ctx, *x, 1, 1000)) c.retry.max_attempts = static_cast<int>(*v);
            if (c.retry.initial > c.retry.max) {
                ctx.error(value_at(ctx, *retry), "'retry' needs 'initial' (" + core::format_duration(c.retry.initial) +
                                                     ") no longer than 'max' (" +
                                                     core::format_duration(c.retry.max) + ")");
            }
        }
        const field* type = m.require("type");
        std::optional<std::size_t> kind;
        if (type) kind = read_choice(ctx, *type, channel_type_names);
        if (!kind) {
            out.push_back(std::move(c));
            return;
        }
        const notify::channel_traits& traits = notify::channel_types[*kind];
        c.type = std::string(traits.type);
        const bool http = traits.http;
        const bool posts = traits.posts_statements;
        // A key that only some types take is refused on the others, naming the types that take it.
        for (std::string_view key : {"headers", "path", "base_url", "token", "visibility", "routing_key", "identifier",
                                     "password", "page_id", "graph_version", "client_id", "client_secret",
                                     "refresh_token"}) {
            if (traits.key(key) == nullptr) not_for_type(ctx, m, key, "channels of type " + types_taking(key));
        }
        if (!http) {
            not_for_type(ctx, m, "ca_file", "channels that speak HTTP");
            not_for_type(ctx, m, "url", "channels that speak HTTP");
        } else if (posts) {
            not_for_type(ctx, m, "url", "channels that are not " + types_taking("base_url") + " (they take 'base_url')");
        }
        // The key's value, required or not and secret or not as the type's traits say.
        auto read_key = [&](std::string_view key) -> std::pair<const field*, std::optional<std::string>> {
            const notify::channel_key* k = traits.key(key);
            const field* value = k == nullptr ? nullptr : k->required ? m.require(key) : m.find(key);
            if (value == nullptr) return {nullptr, std::nullopt};
            if (k->secret == notify::secret_use::none) return {value, read_string(ctx, *value)};
            return {value, read_secret(ctx, *value, k->secret == notify::secret_use::must_refer)};
        };
        for (std::string_view key : {"url", "base_url"}) {
            if (auto [where, v] = read_key(key); v) {
                c.url = *v;
                check_url(ctx, *where, c.url, {"http://", "https://"}, "http:// or https://");
            }
        }
        // Every channel type: a statement step may post to any of them (a webhook that feeds a
        // website is as public as Mastodon). 0 (no cap) only when written down.
        if (const field* cap = m.find("statements_per_hour"))
            if (auto v = read_integer(ctx, *cap, 0, 1000)) c.statements_per_hour = static_cast<int>(*v);
        if (auto v = read_key("token").second) c.token = *v;
        if (const field* vis = traits.key("visibility") ? m.find("visibility") : nullptr)
            if (auto v = read_choice(ctx, *vis, {"public", "unlisted", "private", "direct"}))
                c.visibility = std::string(std::array<std::string_view, 4>{"public", "unlisted", "private", "direct"}[*v]);
        if (auto v = read_key("routing_key").second) c.routing_key = *v;
        if (auto v = read_key("identifier").second) c.identifier = *v;
        if (auto v = read_key("password").second) c.password = *v;
        if (auto v = read_key("client_id").second) c.client_id = *v;
        if (auto v = read_key("client_secret").second) c.client_secret = *v;
        if (auto v = read_key("refresh_token").second) c.refresh_token = *v;
        if (auto [where, v] = read_key("page_id"); v) {
            // A Page id is digits (or the Page's username); anything else would change the path.
            if (v->empty() || v->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                                  std::string::npos)
                ctx.error(value_at(ctx, *where), "'page_id' must be the Page's id or username (got " + shown(where->value) + ")");
            else c.page_id = *v;
        }
        if (auto [where, v] = read_key("graph_version"); v) {
            // "v23.0": the Graph API version is part of every path, so it is checked like one.
            const bool ok = v->size() >= 4 && (*v)[0] == 'v' && v->find('.') != std::string::npos &&
                            v->find_first_not_of("0123456789.", 1) == std::string::npos;
            if (ok) c.graph_version = *v;
            else ctx.error(value_at(ctx, *where), "'graph_version' must be a Graph API version like v23.0 (got " +
                                                      shown(where->value) + ")");
        }
        if (traits.key("headers") != nullptr) {
            if (const field* headers = m.find("headers")) {
                if (headers->value && !headers->value.IsNull() && !headers->value.IsMap()) {
                    ctx.error(value_at(ctx, *headers),
                              "'headers' must be a mapping of header names to values (got " +
                                  shown(headers->value) + ")");
                } else if (headers->value && headers->value.IsMap()) {
                    for (const auto& pair : headers->value) {
                        const field h{pair.first.IsScalar() ? pair.first.Scalar() : std::string(), pair.first,
                                      pair.second};
                        if (!valid_header_name(h.key)) {
                            ctx.error(ctx.at(h.key_node), "invalid HTTP header name " + shown(h.key_node));
                            continue;
                        }
                        if (c.headers.count(h.key) != 0) {
                            ctx.error(ctx.at(h.key_node), "duplicate header '" + h.key + "'");
                            continue;
                        }
                        if (auto v = read_secret(ctx, h, false)) c.headers[h.key] = *v;
                    }
                }
            }
        }
        if (http) {
            if (const field* ca = m.find("ca_file")) {
                if (auto v = read_string(ctx, *ca)) c.ca_file = resolve_path(ctx, *v);
            }
        }
        if (auto [path, v] = read_key("path"); v) {
            if (v->empty()) ctx.error(value_at(ctx, *path), "'path' must not be empty");
            c.path = resolve_path(ctx, *v);
        }
        out.push_back(std::move(c));
    });
}

void read_admin(context& ctx, const field& f, admin::admin_settings& out) {
    mapping m(ctx, f, {"listen", "tokens_file", "hosts", "metrics_open", "behind_proxy", "cert_file", "key_file",
                       "max_event_streams", "event_stream_buffer_kib"});
    const field* listen = m.find("listen");
    if (listen) {
        if (auto v = read_string(ctx, *listen)) {
            if (valid_listen(*v)) {
                out.listen = *v;
            } else {
                ctx.error(value_at(ctx, *listen),
                          "'listen' must be host:port like 127.0.0.1:9464 (got " + shown(listen->value) + ")");
                listen = nullptr;
            }
        }
    }
    if (const field* tokens = m.find("tokens_file")) {
        if (auto v = read_string(ctx, *tokens)) out.tokens_file = resolve_path(ctx, *v);
    }
    if (const field* hosts = m.find("hosts")) {
        if (auto v = read_string_list(ctx, *hosts)) out.hosts = *v;
    }
    if (const field* open = m.find("metrics_open"))
        if (auto v = read_flag(ctx, *open)) out.metrics_open = *v;
    if (const field* proxy = m.find("behind_proxy"))
        if (auto v = read_flag(ctx, *proxy)) out.behind_proxy = *v;
    // The console feed: each stream holds at most the buffer unread, so the two bound its memory.
    if (const field* n = m.find("max_event_streams"))
        if (auto v = read_integer(ctx, *n, 1, 1024)) out.max_event_streams = static_cast<std::size_t>(*v);
    if (const field* b = m.find("event_stream_buffer_kib"))
        if (auto v = read_integer(ctx, *b, 16, 65536)) out.event_stream_buffer = static_cast<std::size_t>(*v) << 10;
    const field* cert = m.find("cert_file");
    const field* key = m.find("key_file");
    if (cert)
        if (auto v = read_string(ctx, *cert)) out.cert_file = resolve_path(ctx, *v);
    if (key)
        if (auto v = read_string(ctx, *key)) out.key_file = resolve_path(ctx, *v);
    if ((cert == nullptr) != (key == nullptr))
        ctx.error(ctx.at((cert ? cert : key)->key_node), "'cert_file' and 'key_file' go together");
    // Beyond loopback anyone on the network can knock: the API then needs tokens, and TLS so a
    // token is not read off the wire (from crisisd itself or from a reverse proxy in front).
    if (listen && !is_loopback_listen(out.listen)) {
        const bool tls = !out.cert_file.empty() && !out.key_file.empty();
        if (out.tokens_file.empty() || !(tls || out.behind_proxy))
            ctx.error(value_at(ctx, *listen),
                      "admin 'listen' " + out.listen +
                          " is beyond loopback: it needs 'tokens_file' and TLS ('cert_file' and 'key_file', or "
                          "'behind_proxy: true' when a reverse proxy in front terminates TLS)");
    }
}

void read_storage(context& ctx, const field& f, state::storage_settings& out, std::optional<location>& grace_at) {
    mapping m(ctx, f, {"path", "retention", "resolved_grace"});
    if (const field* path = m.find("path")) {
        if (auto v = read_string(ctx, *path)) {
            if (v->empty()) {
                ctx.error(value_at(ctx, *path), "'path' must not be empty");
            } else {
                // ":memory:" and other SQLite special names are not files.
                out.path = v->front() == ':' ? *v : resolve_path(ctx, *v);
            }
        }
    }
    if (const field* r = m.find("retention"))
        if (auto v = read_duration(ctx, *r, false, "90d")) out.retention = *v;
    if (const field* grace = m.find("resolved_grace")) {
        if (auto d = read_duration(ctx, *grace, false, "24h")) {
            if (*d < state::storage_settings::min_resolved_grace) {
                ctx.error(value_at(ctx, *grace), "'resolved_grace' must be at least " +
                                                     core::format_duration(state::storage_settings::min_resolved_grace) +
                                                     " (the console and the API show what was just resolved)");
            } else {
                out.resolved_grace = *d;
                grace_at = value_at(ctx, *grace);
            }
        }
    }
    // What leaves memory must not leave the database first: the console and a restart read it there.
    if (out.retention < out.resolved_grace)
        ctx.error(ctx.at(f.key_node), "'retention' (" + core::format_duration(out.retention) +
                                          ") must not be shorter than 'resolved_grace' (" +
                                          core::format_duration(out.resolved_grace) + ")");
}

void check_short_grace(context& ctx, const settings& config, const std::optional<location>& grace_at) {
    if (!grace_at || config.storage.resolved_grace >= std::chrono::hours(1)) return;
    for (const auto& r : config.rules) {
        if (r.max_incidents_per_hour == 0) continue;
        ctx.error(*grace_at, "'resolved_grace' under 1h (" + core::format_duration(config.storage.resolved_grace) +
                                 ") needs 'max_incidents_per_hour: 0' on every rule: rule '" + r.name +
                                 "' counts its last hour's incidents among those in memory");
        return;
    }
}

}  // namespace crisisd::config::detail
