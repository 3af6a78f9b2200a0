// Playbooks (what happens when an incident opens and resolves) and the statement library.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <string_view>

#include "config/detail/sections.hpp"
#include "config/detail/templates.hpp"
#include "core/time_zone.hpp"
#include "incident/names.hpp"
#include "incident/settings.hpp"

namespace crisisd::config::detail {

namespace {

using incident::step_kind;

void refer_channels(context& ctx, const field& f, const std::vector<std::string>& names) {
    if (f.value.IsScalar()) {
        ctx.refer(name_kind::channel, names.front(), ctx.at(f.value));
        return;
    }
    std::size_t i = 0;
    for (const auto& name : names) ctx.refer(name_kind::channel, name, ctx.at(f.value[i++]));
}

std::optional<incident::step_settings> read_statement_step(context& ctx, const field& f) {
    mapping m(ctx, f, {"name", "channel", "approval", "wait"});
    if (!m.valid()) return std::nullopt;
    m.set_owner("'statement' step");
    incident::step_settings s;
    s.kind = step_kind::statement;
    if (const field* name = m.require("name")) {
        if (auto v = read_name(ctx, *name)) {
            s.statement = *v;
            ctx.refer(name_kind::statement, s.statement, value_at(ctx, *name));
        }
    }
    if (const field* channel = m.require("channel")) {
        if (auto v = read_name(ctx, *channel)) {
            s.channels.push_back(*v);
            ctx.refer(name_kind::channel, *v, value_at(ctx, *channel));
        }
    }
    // No default: whether a public post needs a person is a decision the author must write down.
    std::optional<std::size_t> mode;
    if (const field* approval = m.require("approval")) {
        // The modes by their names in incident/names.hpp, in the order diagnostics list them.
        const std::array<std::string_view, 3> modes{to_string(incident::approval::automatic),
                                                    to_string(incident::approval::veto),
                                                    to_string(incident::approval::required)};
        mode = read_choice(ctx, *approval, modes);
        if (mode) s.approval_mode = incident::approval_from_string(modes[*mode]).value_or(incident::approval::required);
    }
    const field* wait = m.find("wait");
    if (wait) {
        if (auto v = read_duration(ctx, *wait, false, "3m")) s.wait = *v;
        if (mode && s.approval_mode != incident::approval::veto) {
            ctx.error(ctx.at(wait->key_node), "'wait' only applies to approval: veto");
        }
    } else if (mode && s.approval_mode == incident::approval::veto) {
        ctx.error(m.where(), "approval: veto needs a 'wait' (how long a person has to veto, like 3m)");
    }
    return s;
}

std::optional<incident::step_settings> read_escalate_step(context& ctx, const field& f) {
    mapping m(ctx, f, {"after", "unless", "notify"});
    if (!m.valid()) return std::nullopt;
    m.set_owner("'escalate' step");
    incident::step_settings s;
    s.kind = step_kind::escalate;
    if (const field* after = m.require("after")) {
        if (auto v = read_duration(ctx, *after, false, "10m")) s.after = *v;
    }
    // Without `unless` an escalation is unconditional; with it, acknowledging stops it.
    s.unless_acknowledged = false;
    if (const field* unless = m.find("unless")) {
        if (read_choice(ctx, *unless, {"acknowledged"})) s.unless_acknowledged = true;
    }
    if (const field* notify = m.require("notify")) {
        if (auto v = read_string_list(ctx, *notify, true)) {
            if (v->empty()) {
                ctx.error(value_at(ctx, *notify), "'notify' needs at least one channel");
            } else {
                refer_channels(ctx, *notify, *v);
                s.channels = std::move(*v);
            }
        }
    }
    return s;
}

void read_steps(context& ctx, const field& f, std::vector<incident::step_settings>& out, bool on_resolve) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each step", {"notify", "statement", "escalate"});
        if (!m.valid()) return;
        if (m.fields().size() != 1) {
            // Unknown keys were reported already; only complain when no known key is left.
            if (m.fields().size() > 1 || (item.IsMap() && item.size() == 0) || item.IsNull()) {
                ctx.error(at, "each step must have exactly one of notify, statement, escalate");
            }
            return;
        }
        const field& step = m.fields().front();
        // The mapping above admits only the three kinds' names.
        const auto kind = incident::step_kind_from_string(step.key).value_or(step_kind::notify);
        if (kind == step_kind::notify) {
            incident::step_settings s;
            s.kind = step_kind::notify;
            if (auto v = read_string_list(ctx, step, true)) {
                if (v->empty()) {
                    ctx.error(value_at(ctx, step), "'notify' needs at least one channel");
                    return;
                }
                refer_channels(ctx, step, *v);
                s.channels = std::move(*v);
                out.push_back(std::move(s));
            }
        } else if (kind == step_kind::statement) {
            if (auto s = read_statement_step(ctx, step)) out.push_back(std::move(*s));
        } else {
            if (on_resolve) {
                ctx.error(ctx.at(step.key_node), "'escalate' cannot be an on_resolve step");
                return;
            }
            if (auto s = read_escalate_step(ctx, step)) out.push_back(std::move(*s));
        }
    });
}

std::string placeholder_list() {
    std::string out;
    for (const auto& name : incident::template_fields()) out += (out.empty() ? "{" : ", {") + name + "}";
    return out;
}

bool valid_date(const std::string& s) {
    if (core::parse_rfc3339(s)) return true;
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    const int month = (s[5] - '0') * 10 + (s[6] - '0');
    const int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// "{next_update} UTC", "{started_at} (GMT)": a zone named right after a time, which must agree
// with the zone the playbooks show it in (statement_fields.hpp checks once they are known).
void note_zone_label(context& ctx, const YAML::Node& text, std::size_t statement, const std::string& language,
                     const placeholder& p) {
    const std::string& body = text.Scalar();
    std::size_t at = p.offset + p.name.size() + 2;
    while (at < body.size() && (body[at] == ' ' || body[at] == '(' || body[at] == '[')) ++at;
    for (std::string_view label : {"UTC", "GMT"}) {
        if (body.compare(at, label.size(), label) != 0) continue;
        const std::size_t after = at + label.size();
        if (after < body.size() && std::isalnum(static_cast<unsigned char>(body[after]))) continue;
        ctx.note_zone_label(context::zone_label{statement, language, p.name, std::string(label),
                                                ctx.doc().inside(text, at)});
    }
}

// Reports unknown placeholders and notes where the known ones are, for the checks that need
// every file read (statement_fields.hpp).
void check_template(context& ctx, const YAML::Node& text, std::size_t statement, const std::string& language) {
    const std::string& body = text.Scalar();
    for (const auto& p : find_placeholders(body)) {
        const auto& allowed = incident::template_fields();
        if (std::find(allowed.begin(), allowed.end(), p.name) != allowed.end()) {
            ctx.note_placeholder(statement, language, p.name, ctx.doc().inside(text, p.offset));
            if (p.name == "next_update" || p.name == "started_at") note_zone_label(ctx, text, statement, language, p);
            continue;
        }
        std::vector<std::string> braced;
        for (const auto& name : allowed) braced.push_back("{" + name + "}");
        ctx.error(ctx.doc().inside(text, p.offset),
                  "unknown placeholder '{" + p.name + "}'" + suggestion("{" + p.name + "}", braced) +
                      "; templates may use only incident fields: " + placeholder_list());
    }
}

// A URL a person can open from a public post: http or https, a host name, nothing a network
// would cut the link at.
std::string status_url_problem(const std::string& url) {
    static constexpr std::string_view example = "like https://status.example.com";
    std::size_t scheme = 0;
    if (url.rfind("https://", 0) == 0) {
        scheme = 8;
    } else if (url.rfind("http://", 0) == 0) {
        scheme = 7;
    } else {
        return "must be an http:// or https:// URL, " + std::string(example);
    }
    for (char ch : url) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f || std::string_view("\"<>\\^`{|}").find(ch) != std::string_view::npos) {
            return "must not contain spaces, control characters or any of \"<>\\^`{|}; percent-encode them";
        }
    }
    const std::size_t end = std::min(url.find_first_of("/?#", scheme), url.size());
    const std::string_view authority = std::string_view(url).substr(scheme, end - scheme);
    if (authority.find('@') != std::string_view::npos) return "must not carry a user name or password";
    std::string_view host = authority;
    if (!host.empty() && host.front() == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return "has an unclosed '[' in its host";
        host = host.substr(0, close + 1);
    } else if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (host.empty() || host.front() == '.' || host.front() == '-') {
        return "needs a host name after " + url.substr(0, scheme) + ", " + std::string(example);
    }
    const std::string_view port = authority.substr(host.size());
    if (!port.empty()) {
        bool digits = port.size() >= 2 && port.size() <= 6 && port.front() == ':';
        for (std::size_t i = 1; digits && i < port.size(); ++i) digits = port[i] >= '0' && port[i] <= '9';
        if (!digits) return "has an invalid port after its host";
    }
    return {};
}

}  // namespace

void check_status_url(context& ctx, const field& f, const std::string& url) {
    if (const std::string why = status_url_problem(url); !why.empty()) {
        ctx.error(value_at(ctx, f), "'status_url' " + why + " (got " + shown(f.value) + ")");
    }
}

std::optional<core::time_zone> read_time_zone(context& ctx, const field& f) {
    auto name = read_string(ctx, f);
    if (!name) return std::nullopt;
    const std::filesystem::path dir = core::zoneinfo_dir();
    core::zone_load_error error;
    if (auto zone = core::load_time_zone(*name, dir, &error)) return zone;
    if (!error.unknown) {
        ctx.error(value_at(ctx, f), "cannot use time zone '" + *name + "': " + error.reason);
        return std::nullopt;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        ctx.error(value_at(ctx, f), "unknown time zone '" + *name + "': " + error.reason +
                                        "; install the tzdata package");
        return std::nullopt;
    }
    const std::vector<std::string> zones = core::list_time_zones(dir);
    std::string hint = suggestion(*name, zones);
    if (hint.empty()) {
        // "Vienna", "new york": the city alone names one zone.
        auto city_of = [](std::string_view s) {
            std::string out(s.substr(s.rfind('/') + 1));
            for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return out;
        };
        for (const auto& zone : zones) {
            if (city_of(zone) == city_of(*name)) {
                hint = " (did you mean '" + zone + "'?)";
                break;
            }
        }
    }
    ctx.error(value_at(ctx, f), "unknown time zone '" + *name + "'" + hint + ": " + error.reason +
                                    "; 'time_zone' takes an IANA zone name like Europe/Vienna or America/New_York");
    return std::nullopt;
}

std::optional<core::duration> read_next_update_in(context& ctx, const field& f) {
    using namespace std::chrono;
    auto d = read_duration(ctx, f, false, "30m");
    if (!d) return std::nullopt;
    if (*d % minutes(1) != core::duration::zero()) {
        ctx.error(value_at(ctx, f), "'next_update_in' must be whole minutes, as {next_update} shows them (got " +
                                        shown(f.value) + ")");
        return std::nullopt;
    }
    if (*d < minutes(5) || *d > hours(12)) {
        ctx.error(value_at(ctx, f), "'next_update_in' must be from 5m to 12h (got " + shown(f.value) +
                                        "): {next_update} shows only a time of day, the promise of an update "
                                        "within the next hours");
        return std::nullopt;
    }
    return d;
}

void read_playbooks(context& ctx, const field& f, std::vector<incident::playbook_settings>& out) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each entry of 'playbooks'",
                  {"name", "status_url", "time_zone", "next_update_in", "steps", "on_resolve"});
        if (!m.valid()) return;
        m.set_owner("playbook");
        incident::playbook_settings p;
        if (const field* name = m.require("name")) {
            if (auto v = read_name(ctx, *name)) {
                p.name = *v;
                ctx.define(name_kind::playbook, p.name, value_at(ctx, *name));
                m.set_owner("playbook '" + p.name + "'");
            }
        }
        if (const field* url = m.find("status_url")) {
            // Kept even when invalid (the load fails anyway): a playbook that has a status_url is
            // not also reported for the statements that need one.
            if (auto v = read_string(ctx, *url)) {
                p.status_url = *v;
                check_status_url(ctx, *url, *v);
            }
        }
        // Noted even when invalid (the load fails anyway), like status_url: the top-level value is
        // not given to a playbook that has its own.
        if (const field* zone = m.find("time_zone")) {
            ctx.note_playbook_key(out.size(), "time_zone", value_at(ctx, *zone));
            if (auto v = read_time_zone(ctx, *zone)) p.time_zone = *v;
        }
        if (const field* interval = m.find("next_update_in")) {
            ctx.note_playbook_key(out.size(), "next_update_in", value_at(ctx, *interval));
            if (auto v = read_next_update_in(ctx, *interval)) p.next_update_in = *v;
        }
        if (const field* steps = m.require("steps")) read_steps(ctx, *steps, p.steps, false);
        if (const field* steps = m.find("on_resolve")) read_steps(ctx, *steps, p.on_resolve, true);
        out.push_back(std::move(p));
    });
}

void read_statements(context& ctx, const field& f, std::vector<incident::statement_settings>& out) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each entry of 'statements'",
                  {"name", "approved_by", "approved_at", "fallback_language", "text"});
        if (!m.valid()) return;
        m.set_owner("statement");
        incident::statement_settings s;
        if (const field* name = m.require("name")) {
            if (auto v = read_name(ctx, *name)) {
                s.name = *v;
                ctx.define(name_kind::statement, s.name, value_at(ctx, *name));
                m.set_owner("statement '" + s.name + "'");
            }
        }
        const std::string who = s.name.empty() ? "statement" : "statement '" + s.name + "'";
        const field* by = m.find("approved_by");
        const field* when = m.find("approved_at");
        if (!by || !when) {
            ctx.error(m.where(), who + " is not approved: it needs 'approved_by' and 'approved_at' "
                                       "(only statements approved in advance may be posted)");
        }
        if (by) {
            if (auto v = read_string(ctx, *by)) {
                if (v->empty()) ctx.error(value_at(ctx, *by), "'approved_by' must name who approved it");
                s.approved_by = *v;
            }
        }
        if (when) {
            if (auto v = read_string(ctx, *when)) {
                if (!valid_date(*v)) {
                    ctx.error(value_at(ctx, *when),
                              "'approved_at' must be a date like 2026-11-01 (got " + shown(when->value) + ")");
                }
                s.approved_at = *v;
            }
        }
        std::string first_language;
        if (const field* text = m.require("text")) {
            if (!text->value || !text->value.IsMap() || text->value.size() == 0) {
                ctx.error(value_at(ctx, *text),
                          "'text' must map languages to texts, like en: \"...\" (got " + shown(text->value) + ")");
            } else {
                for (const auto& pair : text->value) {
                    const YAML::Node& lang = pair.first;
                    const YAML::Node& body = pair.second;
                    const std::string code = lang.IsScalar() ? lang.Scalar() : std::string();
                    bool code_ok = code.size() >= 2 && code.size() <= 3;
                    for (char c : code) code_ok = code_ok && c >= 'a' && c <= 'z';
                    if (!code_ok) {
                        ctx.error(ctx.at(lang), "language " + shown(lang) +
                                                    " must be a lowercase ISO 639 code like de or en");
                        continue;
                    }
                    if (s.text.count(code) != 0) {
                        ctx.error(ctx.at(lang), "duplicate text for language '" + code + "'");
                        continue;
                    }
                    if (!body.IsScalar() || body.Scalar().empty()) {
                        ctx.error(body.IsNull() ? ctx.at(lang) : ctx.at(body),
                                  "the '" + code + "' text must be a non-empty string (got " + shown(body) + ")");
                        continue;
                    }
                    check_template(ctx, body, out.size(), code);
                    s.text[code] = body.Scalar();
                    ctx.note_text(out.size(), code, ctx.at(body));
                    if (first_language.empty()) first_language = code;
                }
            }
        }
        if (const field* fallback = m.find("fallback_language")) {
            if (auto v = read_string(ctx, *fallback)) {
                s.fallback_language = *v;
                if (!s.text.empty() && s.text.count(*v) == 0) {
                    ctx.error(value_at(ctx, *fallback), "'fallback_language' '" + *v + "' has no text");
                }
            }
        } else if (!first_language.empty() && s.text.count(s.fallback_language) == 0) {
            s.fallback_language = first_language;  // e.g. a German-only statement
        }
        out.push_back(std::move(s));
    });
}

}  // namespace crisisd::config::detail
