#pragma once
// RSS 2.0 and Atom (RFC 4287) documents → their items, for the `feed` source type.
//
// Read by expat with every entity declaration refused: a document whose DTD declares an entity
// (the billion-laughs bomb, an external entity pointing at a file or URL) or names an external
// DTD is refused whole, before anything is expanded, and no external DTD or entity is ever loaded. The five
// predefined XML entities and character references are all a feed needs.
//
// Pure: no clock, no I/O, no state between calls, so it may be called from any thread.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace crisisd::parse {

struct feed_item {
    // Its identity across polls: RSS <guid>, Atom <id>; else the item's link. Empty when the
    // item has neither (such an item cannot be told from the next poll's copy and is skipped).
    std::string id;
    std::string title;
    std::string body;    // RSS <content:encoded> else <description>; Atom <content> else <summary>
    bool body_html = false;  // RSS bodies are HTML by convention; Atom says so with type="html"
    std::string link;    // RSS <link>; Atom <link rel="alternate"> (or a link without rel)
    std::string author;  // RSS <dc:creator> else <author>; Atom <author><name>
    std::optional<core::timestamp> published;  // RSS <pubDate>; Atom <published> else <updated>
};

enum class feed_error {
    none,
    malformed,       // not well-formed XML (expat's message is in feed_document::detail)
    entities,        // declares entities or names an external DTD: refused without expanding or loading anything
    not_a_feed,      // well-formed, but its root is neither <rss> nor Atom <feed>
    oversized,       // larger than the limit
    too_many_items,  // more items than the limit
};

constexpr std::string_view to_string(feed_error e) {
    switch (e) {
        case feed_error::none: return "none";
        case feed_error::malformed: return "malformed_xml";
        case feed_error::entities: return "xml_entities";
        case feed_error::not_a_feed: return "not_a_feed";
        case feed_error::oversized: return "oversized";
        case feed_error::too_many_items: return "too_many_items";
    }
    return "malformed_xml";
}

struct feed_document {
    feed_error error = feed_error::none;
    std::string detail;  // for the log when error != none
    std::vector<feed_item> items;  // in document order
};

struct feed_limits {
    std::size_t max_bytes = 8 << 20;
    std::size_t max_items = 10000;
    std::size_t max_field_bytes = 256 << 10;  // longer text is cut (at a UTF-8 boundary)
};

feed_document read_feed(std::string_view xml, const feed_limits& limits = {});

}  // namespace crisisd::parse
