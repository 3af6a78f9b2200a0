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

// mastodon: 500 characters (code points; a link counts 23); bluesky: 300 graphemes and 3000
// bytes (app.bsky.feed.post text: maxGraphemes 300, maxLength 3000); every other type: none.
post_limit post_limit_of(std::string_view channel_type);

// "characters" or "graphemes".
std::string_view unit_name(length_unit unit);

// Whether the channel type posts public statements (and so has a text limit).
bool posts_statements(std::string_view channel_type);
// post_limit_of(type).max: Mastodon 500, Bluesky 300; 0 when the type has none.
std::size_t text_limit(std::string_view channel_type);
// Counts what the limit of `channel_type` counts: mastodon_length for mastodon, graphemes for
// bluesky, code points for every other type.
std::size_t text_length(std::string_view channel_type, std::string_view utf8);

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

}  // namespace crisisd::text
