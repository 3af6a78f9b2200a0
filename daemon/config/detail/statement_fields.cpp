#include "config/detail/statement_fields.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace crisisd::config::detail {

namespace {

// How the engine shows the placeholder's time in `zone`, for messages: "14:30", "14:30 UTC".
std::string example(const std::string& placeholder, const core::time_zone& zone) {
    return std::string(placeholder == "next_update" ? "14:30" : "14:05") + (zone.is_utc() ? " UTC" : "");
}

}  // namespace

void resolve_statement_fields(context& ctx, settings& config) {
    for (std::size_t i = 0; i < config.playbooks.size(); ++i) {
        auto& p = config.playbooks[i];
        if (p.status_url.empty()) p.status_url = config.status_url;
        if (ctx.playbook_key_at(i, "time_zone") == nullptr) p.time_zone = config.time_zone;
        if (ctx.playbook_key_at(i, "next_update_in") == nullptr) p.next_update_in = config.next_update_in;
    }

    // {topic}: the keys each playbook's rules can form from configured values.
    std::vector<std::string> source_names;
    for (const auto& src : config.sources) source_names.push_back(src.name);
    for (auto& p : config.playbooks) {
        std::vector<std::string> topics;
        for (const auto& r : config.rules) {
            if (r.playbook != p.name) continue;
            for (auto& key : pipeline::configured_keys(r, source_names))
                if (std::find(topics.begin(), topics.end(), key) == topics.end()) topics.push_back(std::move(key));
        }
        p.topics = std::move(topics);
    }

    for (const auto& p : config.playbooks) {
        // Each statement once, however many steps post it: whether any posts it on_resolve.
        std::map<std::string, bool> posted;
        for (const auto& step : p.steps) {
            if (step.kind == incident::step_kind::statement) posted.emplace(step.statement, false);
        }
        for (const auto& step : p.on_resolve) {
            if (step.kind == incident::step_kind::statement) posted[step.statement] = true;
        }
        for (std::size_t i = 0; i < config.statements.size(); ++i) {
            const auto& s = config.statements[i];
            const auto it = posted.find(s.name);
            if (it == posted.end()) continue;
            const bool on_resolve = it->second;
            for (const auto& [language, text] : s.text) {
                const std::string which = "statement '" + s.name + "' (" + language + ")";
                if (p.status_url.empty()) {
                    if (const location* at = ctx.placeholder_at(i, language, "status_url")) {
                        ctx.error(*at, which + " uses {status_url}, but playbook '" + p.name +
                                           "', which posts it, has no status URL: set 'status_url' to the status "
                                           "page (like https://status.example.com) at the top level or in the playbook");
                    }
                }
                // The language part of a key is the mention's own tag unless the rule lists the
                // languages it takes (then it is the listed one the tag matched): anyone who can
                // send a mention would choose words the company posts.
                if (const location* at = ctx.placeholder_at(i, language, "topic")) {
                    for (const auto& r : config.rules) {
                        if (r.playbook != p.name || (r.detect.group_by & detect::group_lang) == 0 ||
                            !r.match.languages.empty())
                            continue;
                        ctx.error(*at, which + " uses {topic}, but rule '" + r.name + "', whose playbook '" + p.name +
                                           "' posts it, groups by lang without listing its languages, so the "
                                           "language in {topic} is whatever a mention says: list them in the rule "
                                           "(match: {languages: [de, en]}) or take {topic} out of the text");
                    }
                }
                if (on_resolve) {
                    if (const location* at = ctx.placeholder_at(i, language, "next_update")) {
                        ctx.error(*at, which + " uses {next_update}, but playbook '" + p.name +
                                           "' posts it on_resolve, after which no update follows: take "
                                           "{next_update} out of the text or post another statement there");
                    }
                }
            }
            for (const auto& label : ctx.zone_labels()) {
                if (label.statement != i) continue;
                const std::string which = "statement '" + s.name + "' (" + label.language + ")";
                const std::string shown = "\"" + example(label.placeholder, p.time_zone) + "\"";
                if (p.time_zone.is_utc()) {
                    ctx.error(label.at, which + " labels {" + label.placeholder + "} " + label.label +
                                            ", which playbook '" + p.name + "' already shows as " + shown +
                                            " (time zone " + p.time_zone.name() + "): remove this '" + label.label +
                                            "', or set 'time_zone' to your readers' zone");
                } else {
                    ctx.error(label.at, which + " labels {" + label.placeholder + "} " + label.label +
                                            ", but playbook '" + p.name + "' shows it as " + p.time_zone.name() +
                                            " local time (" + shown + "): remove this '" + label.label + "'");
                }
            }
        }
    }
}

}  // namespace crisisd::config::detail
