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
};

}  // namespace crisisd::match
