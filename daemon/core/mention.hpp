#pragma once
// A mention: one post about the company, in the canonical form every wire format is parsed into.
//
// Identity comes from the source, not from the wire: `source` is always the name of the
// configured source the mention arrived on (set by whoever runs the source, after parsing), and
// `author_vouched` says whether anyone but the sender stands behind `author`. Detection keys,
// `match.sources` and author counting read only those; `network` is what the sender claims.
#include <optional>
#include <string>

#include "core/time.hpp"

namespace crisisd::core {

struct mention {
    std::string id;      // required; unique per source
    std::string text;    // required; may be HTML for sources that send HTML (see html flag)
    std::string source;   // the configured source's name; never taken from the wire
    std::string network;  // the wire's own "source" field, as claimed: shown as evidence, never matched
    std::string author;
    std::string lang;  // BCP-47 primary tag as sent ("de", "en"), empty when unknown
    std::string url;
    std::optional<timestamp> created_at;  // event time as the author's server stated it
    bool html = false;                    // text is HTML (Mastodon content) and must be stripped
    // The platform vouches for `author` (a Jetstream DID, a Mastodon account id), or the source
    // is configured `trusted: true`. Otherwise the author is merely claimed by whoever sent the
    // frame, and detection does not tell such authors apart (see pipeline.hpp).
    bool author_vouched = false;

    void clear() {
        id.clear();
        text.clear();
        source.clear();
        network.clear();
        author.clear();
        lang.clear();
        url.clear();
        created_at.reset();
        html = false;
        author_vouched = false;
    }
};

}  // namespace crisisd::core
