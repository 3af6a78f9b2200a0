#pragma once
// What a rule listens for. Keywords are matched word-boundary and case-insensitively on the
// case-folded text; a keyword may be a phrase ("kein internet"), an @handle or a #hashtag.
#include <string>
#include <vector>

namespace crisisd::match {

struct match_settings {
    std::vector<std::string> keywords;   // any of them makes the mention relevant
    std::vector<std::string> exclude;    // any of them vetoes the match
    std::vector<std::string> languages;  // empty: any language
    std::vector<std::string> sources;    // empty: any source
    bool operator==(const match_settings&) const = default;
};

// The rule's topic ({topic} in statements, the first part of its incident keys): its first
// keyword without a leading @ or #, as written in the config.
inline std::string topic_of(const match_settings& m) {
    std::string topic = m.keywords.empty() ? std::string() : m.keywords.front();
    while (!topic.empty() && (topic.front() == '@' || topic.front() == '#')) topic.erase(0, 1);
    return topic;
}

}  // namespace crisisd::match
