#include "config/detail/source_x.hpp"

#include <algorithm>

#include "config/detail/sections.hpp"

namespace crisisd::config::detail {

namespace {

void only_for(context& ctx, const mapping& m, std::string_view key, std::string_view type_phrase) {
    if (const field* f = m.find(key))
        ctx.error(ctx.at(f->key_node), "'" + std::string(key) + "' only applies to " + std::string(type_phrase));
}

bool http_url(const std::string& url) {
    for (std::string_view scheme : {"http://", "https://"})
        if (url.size() > scheme.size() && url.compare(0, scheme.size(), scheme) == 0 &&
            url.find_first_of(" \t\r\n") == std::string::npos)
            return true;
    return false;
}

// X allows at most 1,024 characters per rule on the widest self-serve tier (512 on Basic);
// anything longer is a paste gone wrong, caught here rather than by a 400 at start.
constexpr std::size_t max_rule_value = 2048;

}  // namespace

void apply_x_source_defaults(ingest::source_settings& s) {
    s.format = "x";
    s.url = "https://api.x.com";
    s.reconnect_initial = std::chrono::seconds(5);
    s.reconnect_max = std::chrono::seconds(320);
}

void read_x_source(context& ctx, const mapping& m, ingest::source_settings& s) {
    if (const field* token = m.find("token"))
        ctx.error(ctx.at(token->key_node), "an x source takes its app bearer token as 'bearer_token', not 'token'");
    if (const field* format = m.find("format"))
        ctx.error(ctx.at(format->key_node), "'format' does not apply to sources of type x (they read X's own)");
    only_for(ctx, m, "path", "sources of type file");
    if (const field* url = m.find("url")) {
        if (auto v = read_secret(ctx, *url, false)) {
            s.url = *v;
            if (!http_url(s.url)) {
                std::string message = "'url' must start with http:// or https:// (the API's base, like https://api.x.com)";
                if (!mentions_secret(*url)) message += " (got " + shown(url->value) + ")";
                ctx.error(value_at(ctx, *url), message);
            }
        }
    }
    if (const field* ca = m.find("ca_file")) {
        if (auto v = read_string(ctx, *ca)) s.ca_file = resolve_path(ctx, *v);
        if (s.url.rfind("https://", 0) != 0) ctx.error(ctx.at(ca->key_node), "'ca_file' only applies to https:// urls");
    }
    if (const field* token = m.require("bearer_token")) {
        if (auto v = read_secret(ctx, *token, true)) s.token = *v;
    }
    if (const field* rules = m.require("rules")) {
        for_each_entry(ctx, *rules, [&](const YAML::Node& item, const location& at) {
            mapping r(ctx, item, at, "each entry of 'rules'", {"value", "tag"});
            if (!r.valid()) return;
            r.set_owner("the rule");
            ingest::x_rule rule;
            if (const field* value = r.require("value")) {
                auto v = read_string(ctx, *value);
                if (!v) return;
                if (v->find_first_not_of(" \t\r\n") == std::string::npos) {
                    ctx.error(value_at(ctx, *value), "a rule's 'value' must not be empty");
                    return;
                }
                if (v->size() > max_rule_value) {
                    ctx.error(value_at(ctx, *value), "a rule's 'value' is " + std::to_string(v->size()) +
                                                         " bytes; X accepts at most 1024 characters");
                    return;
                }
                rule.value = *v;
            } else {
                return;
            }
            if (const field* tag = r.find("tag")) {
                if (auto v = read_string(ctx, *tag)) rule.tag = *v;
            }
            // X refuses a second rule with the same value (DuplicateRule), which would leave the
            // stream short of one at every start.
            auto same = [&](const ingest::x_rule& other) { return other.value == rule.value; };
            if (std::any_of(s.x.rules.begin(), s.x.rules.end(), same)) {
                ctx.error(at, "the rule \"" + rule.value + "\" is listed twice (X keeps one rule per value)");
                return;
            }
            s.x.rules.push_back(std::move(rule));
        });
        if (rules->value && rules->value.IsSequence() && rules->value.size() == 0)
            ctx.error(value_at(ctx, *rules), "'rules' needs at least one rule: a filtered stream without rules sends nothing");
    }
    if (const field* stall = m.find("stall_timeout")) {
        if (auto v = read_duration(ctx, *stall, false, "30s")) {
            if (*v < std::chrono::seconds(1) || *v > std::chrono::minutes(10))
                ctx.error(value_at(ctx, *stall), "'stall_timeout' must be from 1s to 10m (X sends a keep-alive every 20 s; got " +
                                                     shown(stall->value) + ")");
            else
                s.x.stall_timeout = *v;
        }
    }
    if (const field* backfill = m.find("backfill_minutes")) {
        if (auto v = read_integer(ctx, *backfill, 0, 5)) s.x.backfill_minutes = static_cast<int>(*v);
    }
}

void read_x_reconnect(context& ctx, const mapping& reconnect, ingest::source_settings& s) {
    if (s.type != "x") {
        for (auto key : x_reconnect_keys) only_for(ctx, reconnect, key, "sources of type x");
        return;
    }
    auto read = [&](std::string_view key, core::duration& target, std::string_view example) {
        if (const field* f = reconnect.find(key))
            if (auto v = read_duration(ctx, *f, false, example)) target = *v;
    };
    read("network_step", s.x.network_step, "250ms");
    read("network_max", s.x.network_max, "16s");
    read("rate_limited", s.x.rate_limited, "1m");
    if (s.x.network_step > s.x.network_max) {
        const field* f = reconnect.find("network_max");
        if (!f) f = reconnect.find("network_step");
        if (f)
            ctx.error(value_at(ctx, *f), "'reconnect' needs 'network_step' (" + core::format_duration(s.x.network_step) +
                                             ") no longer than 'network_max' (" + core::format_duration(s.x.network_max) + ")");
    }
}

void refuse_x_keys(context& ctx, const mapping& m) {
    for (auto key : x_source_keys) only_for(ctx, m, key, "sources of type x");
}

void read_compression(context& ctx, const mapping& m, ingest::source_settings& s) {
    const field* f = m.find("compression");
    if (!f) return;
    if (s.type != "websocket") {
        only_for(ctx, m, "compression", "sources of type websocket");
        return;
    }
    if (auto v = read_choice(ctx, *f, {"none", "deflate"})) s.permessage_deflate = *v == 1;
}

}  // namespace crisisd::config::detail
