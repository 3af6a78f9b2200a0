#include "config/detail/statement_lengths.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "incident/template.hpp"
#include "notify/traits.hpp"
#include "text/post_length.hpp"

namespace crisisd::config::detail {

namespace {

struct measured {
    std::size_t length = 0;  // in the unit of the channel's limit
    std::size_t bytes = 0;   // UTF-8
    bool placeholders = false;  // a field that varies was filled in at its longest
    const pipeline::rule_settings* rule = nullptr;  // whose fields gave the longest text
};

// One way a playbook can post a statement: for an incident of `rule` (null: no rule, only the
// fields the engine fills itself) with the playbook's status URL and time zone.
struct poster {
    const pipeline::rule_settings* rule = nullptr;
    const incident::playbook_settings* playbook = nullptr;
};

// The text as the engine would post it for `who` with every field at its longest.
measured measure(const std::string& tpl, const poster& who, text::length_rule rule) {
    measured m;
    m.rule = who.rule;
    const std::string rendered = incident::render_template(tpl, [&](std::string_view name) {
        std::optional<std::string> v = incident::longest_engine_field(name, who.playbook->time_zone);
        if (!v && who.rule != nullptr) {
            if (name == "topic") v = pipeline::longest_key(*who.rule);
            if (name == "rule") v = who.rule->name;
            if (name == "severity") v = std::string(incident::to_string(who.rule->severity));
        }
        if (v) m.placeholders = true;  // a value that varies: the text "can be" this long
        if (!v && name == "status_url" && !who.playbook->status_url.empty()) v = who.playbook->status_url;
        return v;
    });
    m.length = text::text_length(rule, rendered);
    m.bytes = rendered.size();
    return m;
}

std::string singular(std::string_view plural) { return std::string(plural.substr(0, plural.size() - 1)); }

// "statement 'x' (de) is 612 characters" or "… can be 612 characters with its placeholders at
// their longest (for rule 'r')".
std::string how_long(const incident::statement_settings& s, const std::string& language, const measured& m,
                     std::size_t amount, std::string_view unit) {
    std::string out = "statement '" + s.name + "' (" + language + ") ";
    out += m.placeholders ? "can be " : "is ";
    out += std::to_string(amount) + " " + std::string(unit);
    if (m.placeholders) {
        out += " with its placeholders at their longest";
        if (m.rule != nullptr) out += " (for rule '" + m.rule->name + "')";
    }
    return out;
}

}  // namespace

void check_statement_lengths(context& ctx, const settings& config) {
    // (statement, channel) -> the playbooks that post it there.
    std::map<std::pair<std::string, std::string>, std::set<const incident::playbook_settings*>> posts;
    for (const auto& p : config.playbooks) {
        for (const auto* steps : {&p.steps, &p.on_resolve}) {
            for (const auto& step : *steps) {
                if (step.kind != incident::step_kind::statement) continue;
                for (const auto& channel : step.channels) posts[{step.statement, channel}].insert(&p);
            }
        }
    }

    for (const auto& [target, playbooks] : posts) {
        const auto& [statement, channel_name] = target;
        // Each playbook with the rules that run it (every rule when none does).
        std::vector<poster> posters;
        for (const auto* p : playbooks) {
            const std::size_t first = posters.size();
            for (const auto& r : config.rules)
                if (r.playbook == p->name) posters.push_back(poster{&r, p});
            if (posters.size() == first)
                for (const auto& r : config.rules) posters.push_back(poster{&r, p});
            if (posters.size() == first) posters.push_back(poster{nullptr, p});
        }

        for (const auto& channel : config.channels) {
            if (channel.name != channel_name) continue;
            const notify::channel_traits* traits = notify::traits_of(channel.type);
            if (traits == nullptr) continue;
            const text::post_limit limit = text::post_limit_of(traits->length);
            if (limit.max == 0 && limit.max_bytes == 0) continue;
            const std::string where = channel.type + " channel '" + channel.name + "'";
            const std::string_view unit = text::unit_name(limit.unit);

            for (std::size_t i = 0; i < config.statements.size(); ++i) {
                const auto& s = config.statements[i];
                if (s.name != statement) continue;
                for (const auto& [language, tpl] : s.text) {
                    const location* at = ctx.text_at(i, language);
                    if (at == nullptr) continue;
                    measured longest, heaviest;
                    for (std::size_t k = 0; k < posters.size(); ++k) {
                        const measured m = measure(tpl, posters[k], traits->length);
                        if (k == 0 || m.length > longest.length) longest = m;
                        if (k == 0 || m.bytes > heaviest.bytes) heaviest = m;
                    }
                    if (limit.max != 0 && longest.length > limit.max) {
                        ctx.error(*at, how_long(s, language, longest, longest.length, unit) + ", over the " +
                                           std::to_string(limit.max) + "-" + singular(unit) + " limit of " + where);
                    }
                    if (limit.max_bytes != 0 && heaviest.bytes > limit.max_bytes) {
                        ctx.error(*at, how_long(s, language, heaviest, heaviest.bytes, "bytes") + " of UTF-8, over the " +
                                           std::to_string(limit.max_bytes) + "-byte limit of " + where);
                    }
                }
            }
        }
    }
}

}  // namespace crisisd::config::detail
