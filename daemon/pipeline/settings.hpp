#pragma once
// One rule as the pipeline sees it: what it matches, how it detects, and what it triggers.
#include <string>
#include <string_view>
#include <vector>

#include "detect/settings.hpp"
#include "incident/names.hpp"
#include "match/settings.hpp"

namespace crisisd::pipeline {

struct rule_settings {
    std::string name;
    match::match_settings match;
    detect::detector_settings detect;
    incident::severity_level severity = incident::severity_level::warning;
    std::string playbook;  // empty: incidents are only recorded
    // New incidents the rule may open per rolling hour (config `max_incidents_per_hour`); 0: no
    // cap, only when written down. Over it a firing key opens no incident (pipeline::suppressed):
    // a flood of keys, real or provoked, pages and posts a bounded number of times.
    static constexpr unsigned default_max_incidents_per_hour = 10;
    unsigned max_incidents_per_hour = default_max_incidents_per_hour;
    // Reload compares definitions with it; whether detector state carries over is
    // state::rule_fingerprint's question, not this one.
    bool operator==(const rule_settings&) const = default;
};

// Parts of an incident key that come from the wire (source, language) are cut to this many
// bytes, each kept only if plain ASCII (letters, digits, - _ .) and "_" otherwise: the key can
// reach a public statement through {topic}.
inline constexpr std::size_t wire_key_part_max = 48;

// Appends one part of an incident key ("-" for an empty one), after a '/' unless it is the first.
inline void append_key_part(std::string& key, std::string_view part, bool from_wire) {
    if (!key.empty()) key += '/';
    if (part.empty()) part = "-";
    if (!from_wire) {
        key.append(part);
        return;
    }
    for (std::size_t i = 0; i < part.size() && i < wire_key_part_max; ++i) {
        const char c = part[i];
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.';
        key += plain ? c : '_';
    }
}

// Every key an incident of the rule can have when each part is a configured value: the rule's
// topic, the sources it accepts (every configured source, `source_names`, when it names none)
// and the languages it lists, as group_by says. A rule that groups by language without listing
// languages has none: the language part is then whatever the mention says. The statements a
// playbook posts fill {topic} only with one of these (incident::playbook_settings::topics).
inline std::vector<std::string> configured_keys(const rule_settings& r, const std::vector<std::string>& source_names) {
    const unsigned g = r.detect.group_by;
    const std::string topic = match::topic_of(r.match);
    std::vector<std::string> keys{std::string()};
    auto extend = [&keys](const std::vector<std::string>& parts, bool from_wire) {
        std::vector<std::string> next;
        for (const auto& k : keys) {
            for (const auto& part : parts) {
                std::string key = k;
                append_key_part(key, part, from_wire);
                next.push_back(std::move(key));
            }
        }
        keys = std::move(next);
    };
    if (g & detect::group_topic) extend({topic}, false);
    if (g & detect::group_source) extend(r.match.sources.empty() ? source_names : r.match.sources, true);
    if (g & detect::group_lang) extend(r.match.languages, true);
    if ((g & (detect::group_topic | detect::group_source | detect::group_lang)) == 0) return {topic};
    return keys;
}

// The longest key (and so {topic}) an incident of the rule can have: the rule's topic, then the
// source (the longest the rule accepts, any when it names none) and the language (the longest
// it lists, any when it lists none) as group_by says, with wire parts at their longest.
inline std::string longest_key(const rule_settings& r) {
    const std::string topic = match::topic_of(r.match);
    std::string source(wire_key_part_max, 'x');
    if (!r.match.sources.empty()) {
        source.clear();
        for (const auto& name : r.match.sources) {
            std::string part;
            append_key_part(part, name, true);
            if (part.size() > source.size()) source = part;
        }
    }
    std::string key;
    const unsigned g = r.detect.group_by;
    if (g & detect::group_topic) append_key_part(key, topic, false);
    if (g & detect::group_source) append_key_part(key, source, false);
    std::string lang(wire_key_part_max, 'x');
    if (!r.match.languages.empty()) {
        lang.clear();
        for (const auto& code : r.match.languages)
            if (code.size() > lang.size()) lang = code;
    }
    if (g & detect::group_lang) append_key_part(key, lang, true);
    if (key.empty()) append_key_part(key, topic, false);
    return key;
}

}  // namespace crisisd::pipeline
