// The rules section: what a rule matches, how its detector runs, and what it triggers.
#include <limits>

#include "config/detail/conditions.hpp"
#include "config/detail/sections.hpp"

namespace crisisd::config::detail {

namespace {

std::optional<std::vector<std::string>> read_languages(context& ctx, const field& f) {
    auto list = read_string_list(ctx, f);
    if (!list || !f.value.IsSequence()) return list;
    bool ok = true;
    std::size_t i = 0;
    for (const auto& lang : *list) {
        const auto& node = f.value[i++];
        // ISO 639 codes as the text module reports them ("de", "en"), optionally with a region.
        bool good = lang.size() >= 2;
        std::size_t letters = 0;
        for (char c : lang) {
            if (c == '-') break;
            good = good && c >= 'a' && c <= 'z';
            ++letters;
        }
        good = good && letters >= 2 && letters <= 3;
        if (!good) {
            ctx.error(ctx.at(node), "language " + shown(node) +
                                        " must be a lowercase ISO 639 code like de or en");
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return list;
}

void read_match(context& ctx, const field& f, match::match_settings& out, const std::string& owner) {
    mapping m(ctx, f, {"keywords", "exclude", "languages", "sources"});
    if (!m.valid()) return;
    m.set_owner("'match' of " + owner);
    if (const field* keywords = m.require("keywords")) {
        if (auto v = read_string_list(ctx, *keywords)) {
            if (v->empty()) ctx.error(value_at(ctx, *keywords), "'keywords' needs at least one keyword");
            out.keywords = std::move(*v);
        }
    }
    if (const field* exclude = m.find("exclude")) {
        if (auto v = read_string_list(ctx, *exclude)) out.exclude = std::move(*v);
    }
    if (const field* languages = m.find("languages")) {
        if (auto v = read_languages(ctx, *languages)) out.languages = std::move(*v);
    }
    if (const field* sources = m.find("sources")) {
        if (auto v = read_string_list(ctx, *sources)) out.sources = std::move(*v);
    }
}

std::optional<unsigned> group_bit(context& ctx, const YAML::Node& node, const location& at) {
    if (node.IsScalar()) {
        const std::string& s = node.Scalar();
        if (s == "topic") return detect::group_topic;
        if (s == "source") return detect::group_source;
        if (s == "lang") return detect::group_lang;
    }
    ctx.error(at, "'group_by' must be topic, source, lang or a list of them (got " + shown(node) + ")");
    return std::nullopt;
}

std::optional<unsigned> read_group_by(context& ctx, const field& f) {
    if (f.value && f.value.IsSequence()) {
        if (f.value.size() == 0) {
            ctx.error(value_at(ctx, f), "'group_by' needs at least one of topic, source, lang");
            return std::nullopt;
        }
        unsigned bits = 0;
        bool ok = true;
        for (const auto& item : f.value) {
            auto b = group_bit(ctx, item, ctx.at(item));
            if (b) {
                bits |= *b;
            } else {
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return bits;
    }
    return group_bit(ctx, f.value, value_at(ctx, f));
}

bool read_conditions(context& ctx, const field& f, std::vector<detect::condition>& out) {
    if (!f.value || !f.value.IsSequence() || f.value.size() == 0) {
        ctx.error(value_at(ctx, f), "'" + f.key + "' must be a list of conditions like \"count >= 20\" (got " +
                                        shown(f.value) + ")");
        return false;
    }
    bool ok = true;
    for (const auto& item : f.value) {
        if (!item.IsScalar()) {
            ctx.error(item.IsNull() ? value_at(ctx, f) : ctx.at(item),
                      "each condition must be a string like \"count >= 20\" (got " + shown(item) + ")");
            ok = false;
            continue;
        }
        parsed_condition c = parse_condition(item.Scalar());
        if (!c.condition) {
            ctx.error(ctx.doc().inside(item, c.error_offset), c.error);
            ok = false;
            continue;
        }
        out.push_back(*c.condition);
    }
    return ok;
}

// With only_hold_allowed, `{for: 15m}` alone is valid: the detector then clears once fire_when
// has not held for that long.
std::optional<detect::condition_group> read_group(context& ctx, const field& f, bool only_hold_allowed) {
    detect::condition_group group;
    if (f.value && f.value.IsSequence()) {  // a bare list means all of them
        if (!read_conditions(ctx, f, group.conditions)) return std::nullopt;
        return group;
    }
    mapping m(ctx, f, {"all", "any", "for"});
    if (!m.valid()) return std::nullopt;
    const field* all = m.find("all");
    const field* any = m.find("any");
    bool ok = true;
    if (all && any) {
        ctx.error(ctx.at(any->key_node), "'" + f.key + "' takes either 'all' or 'any', not both");
        ok = false;
        // Still read both lists, so their own mistakes are reported in the same run.
        std::vector<detect::condition> ignored;
        read_conditions(ctx, *all, ignored);
        read_conditions(ctx, *any, ignored);
    } else if (!all && !any) {
        if (!only_hold_allowed || m.find("for") == nullptr) {
            ctx.error(value_at(ctx, f), "'" + f.key + "' needs 'all' or 'any' with a list of conditions");
            ok = false;
        }
    } else {
        group.all = all != nullptr;
        ok = read_conditions(ctx, all ? *all : *any, group.conditions);
    }
    if (const field* hold = m.find("for")) {
        if (auto v = read_duration(ctx, *hold, true, "15m")) {
            group.hold = *v;
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return group;
}

}  // namespace

void read_rules(context& ctx, const field& f, std::vector<pipeline::rule_settings>& out) {
    for_each_entry(ctx, f, [&](const YAML::Node& item, const location& at) {
        mapping m(ctx, item, at, "each entry of 'rules'",
                  {"name", "match", "group_by", "window", "baseline", "min_baseline_rate",
                   "negative_threshold", "max_per_author", "max_keys", "fire_when", "clear_when",
                   "cooldown", "severity", "playbook", "max_incidents_per_hour"});
        if (!m.valid()) return;
        m.set_owner("rule");
        pipeline::rule_settings r;
        if (const field* name = m.require("name")) {
            if (auto v = read_name(ctx, *name)) {
                r.name = *v;
                ctx.define(name_kind::rule, r.name, value_at(ctx, *name));
                m.set_owner("rule '" + r.name + "'");
            }
        }
        const std::string owner = r.name.empty() ? "rule" : "rule '" + r.name + "'";
        if (const field* match = m.require("match")) read_match(ctx, *match, r.match, owner);

        detect::detector_settings& d = r.detect;
        if (const field* g = m.find("group_by")) {
            if (auto v = read_group_by(ctx, *g)) d.group_by = *v;
        }
        if (const field* w = m.find("window")) {
            if (auto v = read_duration(ctx, *w, false, "5m")) d.window = *v;
        }
        if (const field* b = m.find("baseline")) {
            if (auto v = read_duration(ctx, *b, false, "6h")) d.baseline = *v;
        }
        constexpr double unbounded = std::numeric_limits<double>::max();
        if (const field* x = m.find("min_baseline_rate")) {
            if (auto v = read_number(ctx, *x, 0, unbounded)) d.min_baseline_rate = *v;
        }
        if (const field* x = m.find("negative_threshold")) {
            if (auto v = read_number(ctx, *x, -1, 1)) d.negative_threshold = *v;
        }
        if (const field* x = m.find("max_per_author")) {
            if (auto v = read_integer(ctx, *x, 0, std::numeric_limits<unsigned>::max())) {
                d.max_per_author = static_cast<unsigned>(*v);
            }
        }
        if (const field* x = m.find("max_keys")) {
            if (auto v = read_integer(ctx, *x, 1, std::numeric_limits<std::uint64_t>::max())) d.max_keys = *v;
        }
        if (const field* x = m.find("max_incidents_per_hour")) {
            if (auto v = read_integer(ctx, *x, 0, 10000)) r.max_incidents_per_hour = static_cast<unsigned>(*v);
        }
        if (const field* fire = m.require("fire_when")) {
            if (auto v = read_group(ctx, *fire, false)) d.fire_when = std::move(*v);
        }
        if (const field* clear = m.find("clear_when")) {
            if (auto v = read_group(ctx, *clear, true)) d.clear_when = std::move(*v);
        }
        if (const field* x = m.find("cooldown")) {
            if (auto v = read_duration(ctx, *x, true, "30m")) d.cooldown = *v;
        }
        if (const field* x = m.find("severity")) {
            if (auto v = read_choice(ctx, *x, {"info", "warning", "critical"})) {
                r.severity = *v == 0 ? incident::severity_level::info : *v == 1 ? incident::severity_level::warning : incident::severity_level::critical;
            }
        }
        if (const field* x = m.find("playbook")) {
            if (auto v = read_name(ctx, *x)) {
                r.playbook = *v;
                ctx.refer(name_kind::playbook, r.playbook, value_at(ctx, *x));
            }
        }
        out.push_back(std::move(r));
    });
}

}  // namespace crisisd::config::detail
