#pragma once
// A mention: one post about the company, in the canonical form every wire format is parsed into.
#include <optional>
#include <string>

#include "core/time.hpp"

namespace crisisd::core {

struct mention {
    std::string id;      // required; unique per source
    std::string text;    // required; may be HTML for sources that send HTML (see html flag)
    std::string source;  // the configured source name, or the wire's "source" field
    std::string author;
    std::string lang;  // BCP-47 primary tag as sent ("de", "en"), empty when unknown
    std::string url;
    std::optional<timestamp> created_at;  // event time as the author's server stated it
    bool html = false;                    // text is HTML (Mastodon content) and must be stripped

    void clear() {
        id.clear();
        text.clear();
        source.clear();
        author.clear();
        lang.clear();
        url.clear();
        created_at.reset();
        html = false;
    }
};

}  // namespace crisisd::core
