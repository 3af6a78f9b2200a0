#pragma once
// One rule as the pipeline sees it: what it matches, how it detects, and what it triggers.
#include <string>
#include <string_view>

#include "detect/settings.hpp"
#include "match/settings.hpp"

namespace crisisd::pipeline {

struct rule_settings {
    std::string name;
    match::match_settings match;
    detect::detector_settings detect;
    std::string severity = "warning";
    std::string playbook;  // empty: incidents are only recorded
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

// The longest key (and so {topic}) an incident of the rule can have: the rule's topic, then the
// source (the longest the rule accepts, any when it names none) and the language (any) as
// group_by says, with wire parts at their longest.
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
    if (g & detect::group_lang) append_key_part(key, std::string(wire_key_part_max, 'x'), true);
    if (key.empty()) append_key_part(key, topic, false);
    return key;
}

}  // namespace crisisd::pipeline
