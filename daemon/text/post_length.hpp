#pragma once
// How long a post is as the networks crisisd posts statements to count it, and their limits, so
// config load can refuse a statement that a network would reject with a 422/400 at the worst
// possible moment (config/), and the channels can say what they accept (notify/). Pure functions
// over UTF-8; safe to call from any thread.
//
// Every count here is an upper bound of the network's own count, never below it: where crisisd
// cannot tell (a link Mastodon may not recognise, a grapheme rule it does not implement) it
// counts more, so a text that passes the check is accepted.
#include <cstddef>
#include <string_view>

namespace crisisd::text {

// What a channel type's limit counts.
enum class length_unit { characters, graphemes };

struct post_limit {
    std::size_t max = 0;  // 0: the type has no limit
    length_unit unit = length_unit::characters;
    std::size_t max_bytes = 0;  // a second limit in UTF-8 bytes; 0: none
};

// How a network counts a post: the rule a channel type names in its traits
// (notify/traits.hpp), so this module knows networks, not channel type names.
enum class length_rule {
    code_points,  // no network limit; length shown in code points
    mastodon,     // 500 characters (code points; a link counts 23)
    bluesky,      // 300 graphemes and 3000 bytes (app.bsky.feed.post: maxGraphemes, maxLength)
    facebook,     // 63206 characters (code points), a Page post's message limit
    x,            // 280 weighted characters (twitter-text v3: wide characters 2, a link 23)
};

// The limit of `rule`; code_points has none (max and max_bytes 0).
post_limit post_limit_of(length_rule rule);

// "characters" or "graphemes".
std::string_view unit_name(length_unit unit);

// Counts what `rule`'s limit counts: mastodon_length, graphemes, x_length, or code points.
std::size_t text_length(length_rule rule, std::string_view utf8);

// Unicode code points; an invalid sequence counts as one (as it decodes to one U+FFFD).
std::size_t count_code_points(std::string_view utf8);

// Extended grapheme clusters (UAX #29), approximated from the parts that occur in statements: a
// base code point with following combining marks, variation selectors, emoji modifiers and tags,
// emoji ZWJ sequences (GB11), regional-indicator pairs and CR LF. Other rules (Hangul syllables,
// Indic spacing marks, prepended marks) are not applied, which only ever counts more clusters.
std::size_t count_graphemes(std::string_view utf8);

// Mastodon's count (StatusLengthValidator): every link with a protocol (http, https, and the
// other protocols Mastodon links) counts 23 characters whatever its length, the rest of the text
// one per code point (Mastodon counts grapheme clusters, never more). A link whose top-level
// domain crisisd does not know to be one Mastodon accepts counts as written, but at least 23.
// "@user@domain" mentions count as written (Mastodon counts "@user").
std::size_t mastodon_length(std::string_view utf8);

// X's weighted count (twitter-text's v3 configuration, which X applies to POST /2/tweets): a
// code point in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F or U+2032-U+2037 counts 1, every
// other one 2 (CJK, emoji); every link counts 23 whatever its length. An upper bound again: an
// emoji sequence counts 2 per code point (X counts the sequence 2), a link whose host crisisd
// does not know to be one counts as written but at least 23, and a bare domain ("liwest.at",
// which X links without a protocol) counts at least 23.
std::size_t x_length(std::string_view utf8);

}  // namespace crisisd::text
