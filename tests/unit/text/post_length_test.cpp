#include "text/post_length.hpp"

#include <gtest/gtest.h>

#include <string>

namespace crisisd::text {
namespace {

std::string times(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

TEST(post_limit, mastodon_counts_characters_bluesky_graphemes_and_bytes) {
    EXPECT_EQ(post_limit_of(length_rule::mastodon).max, 500u);
    EXPECT_EQ(post_limit_of(length_rule::mastodon).unit, length_unit::characters);
    EXPECT_EQ(post_limit_of(length_rule::mastodon).max_bytes, 0u);
    EXPECT_EQ(post_limit_of(length_rule::bluesky).max, 300u);
    EXPECT_EQ(post_limit_of(length_rule::bluesky).unit, length_unit::graphemes);
    EXPECT_EQ(post_limit_of(length_rule::bluesky).max_bytes, 3000u);
    EXPECT_EQ(post_limit_of(length_rule::code_points).max, 0u);
    EXPECT_EQ(post_limit_of(length_rule::code_points).max_bytes, 0u);
    EXPECT_EQ(post_limit_of(length_rule::facebook).max, 63206u);  // a Page post's message
    EXPECT_EQ(post_limit_of(length_rule::facebook).unit, length_unit::characters);
    EXPECT_EQ(text_length(length_rule::facebook, "Störung behoben \U0001F44D"), 17u);
    EXPECT_EQ(unit_name(length_unit::graphemes), "graphemes");
}

TEST(count_code_points, counts_code_points_and_one_per_invalid_sequence) {
    EXPECT_EQ(count_code_points(""), 0u);
    EXPECT_EQ(count_code_points("Störung 😡"), 9u);
    EXPECT_EQ(count_code_points("a\xC3(b"), 4u);  // a truncated 2-byte sequence is one U+FFFD
}

TEST(count_graphemes, joins_what_unicode_joins) {
    EXPECT_EQ(count_graphemes(""), 0u);
    EXPECT_EQ(count_graphemes("Störung"), 7u);
    EXPECT_EQ(count_graphemes("e\u0301a"), 2u);                                          // combining acute
    EXPECT_EQ(count_graphemes("\U0001F1E6\U0001F1F9\U0001F1E9\U0001F1EA"), 2u);          // two flags
    EXPECT_EQ(count_graphemes("\U0001F1E6\U0001F1F9\U0001F1E9"), 2u);                    // a flag and a lone RI
    EXPECT_EQ(count_graphemes("\U0001F468\u200D\U0001F469\u200D\U0001F467"), 1u);        // family
    EXPECT_EQ(count_graphemes("\U0001F3F3\uFE0F\u200D\U0001F308"), 1u);                  // rainbow flag
    EXPECT_EQ(count_graphemes("\u2764\uFE0F\u200D\U0001F525"), 1u);                      // heart on fire
    EXPECT_EQ(count_graphemes("\U0001F469\U0001F3FD\u200D\u2695\uFE0F"), 1u);            // health worker, skin tone
    EXPECT_EQ(count_graphemes("\U0001F44D\U0001F3FD!"), 2u);                             // thumbs up, skin tone
    EXPECT_EQ(count_graphemes("1\uFE0F\u20E3"), 1u);                                     // keycap
    EXPECT_EQ(count_graphemes("\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"), 1u);
    EXPECT_EQ(count_graphemes("a\r\nb"), 3u);
}

TEST(count_graphemes, a_joiner_joins_only_emoji_to_emoji) {
    // UAX #29 GB11: ExtPict Extend* ZWJ × ExtPict; a letter before or after the ZWJ breaks.
    EXPECT_EQ(count_graphemes("a\u200D\U0001F600"), 2u);
    EXPECT_EQ(count_graphemes("\U0001F600\u200Da"), 2u);
    EXPECT_EQ(count_graphemes("\U0001F600\u200D\u0301\U0001F600"), 2u);
}

TEST(mastodon_length, counts_code_points_and_every_link_as_23) {
    EXPECT_EQ(mastodon_length("Störung"), 7u);
    EXPECT_EQ(mastodon_length("e\u0301a"), 3u);  // never fewer than Mastodon's graphemes
    const std::string link = "https://status.liwest.at/incidents/2026-11-01/isp-outage-linz";
    EXPECT_EQ(mastodon_length(link), 23u);
    EXPECT_EQ(mastodon_length("Details: " + link + " – danke."), 9u + 23u + 9u);
    EXPECT_EQ(mastodon_length("https://liwest.at"), 23u);  // short links count 23 too
    EXPECT_EQ(mastodon_length("HTTP://LIWEST.AT/x"), 23u);
    EXPECT_EQ(mastodon_length("Siehe https://liwest.at."), 6u + 23u + 1u);
    EXPECT_EQ(mastodon_length("(https://liwest.at/status)"), 1u + 23u + 1u);
    EXPECT_EQ(mastodon_length("https://liwest.at/s?id=1&x=2,"), 23u + 1u);
    EXPECT_EQ(mastodon_length("https://liwest.at/s?"), 23u + 1u);
    EXPECT_EQ(mastodon_length("https://liwest.at:8443/status"), 23u);
    EXPECT_EQ(mastodon_length("gemini://liwest.at/status"), 23u);
}

TEST(mastodon_length, a_link_it_cannot_vouch_for_counts_as_written_but_at_least_23) {
    const std::string internal = "https://status.corp.internal/incidents/isp-outage";
    EXPECT_EQ(mastodon_length(internal), internal.size());
    EXPECT_EQ(mastodon_length("http://localhost"), 23u);
    // Not a link for Mastodon either: glued to a word.
    EXPECT_EQ(mastodon_length("xhttps://liwest.at"), 18u);
    EXPECT_EQ(mastodon_length("https://"), 8u);
}

// X (twitter-text v3): Latin and most punctuation 1, CJK and emoji 2, every link 23, a bare domain
// too (at least 23: counted as written when longer), and 280 the limit.
TEST(x_length, weighs_characters_and_links_as_x_does) {
    EXPECT_EQ(post_limit_of(length_rule::x).max, 280u);
    EXPECT_EQ(post_limit_of(length_rule::x).unit, length_unit::characters);
    EXPECT_EQ(x_length("St\u00f6rung in Linz"), 15u);                 // U+00F6 weighs 1
    EXPECT_EQ(x_length("\u2014\u201c\u2026"), 4u);                    // dash and quote 1 each, ellipsis (U+2026) 2
    EXPECT_EQ(x_length("\u969c\u5bb3"), 4u);                           // CJK: 2 each
    EXPECT_EQ(x_length("\U0001F64F"), 2u);                              // an emoji: 2
    EXPECT_EQ(x_length("\U0001F468\u200D\U0001F469"), 5u);             // a ZWJ sequence (the joiner weighs 1): X counts 2
    EXPECT_EQ(x_length("https://liwest.at/a/long/path/to/the/status/page"), 23u);
    EXPECT_EQ(x_length("see http://a.at"), 4u + 23u);                  // short links count 23 too
    EXPECT_EQ(x_length("status: liwest.at"), 8u + 23u);                // X links a bare domain
    EXPECT_EQ(x_length("status.liwest-internal.example/page/that/is/long"), 48u);  // longer than 23: as written
    EXPECT_EQ(x_length("Update um 10.00 Uhr, z.B. hier"), 30u);        // neither is a domain
    std::string over(281, 'a'), at(280, 'a');
    EXPECT_GT(text_length(length_rule::x, over), 280u);
    EXPECT_EQ(text_length(length_rule::x, at), 280u);
    EXPECT_EQ(text_length(length_rule::x, times("\u969c", 140)), 280u);
}

TEST(text_length, counts_in_the_unit_of_each_type) {
    EXPECT_EQ(text_length(length_rule::mastodon, "https://liwest.at/a/long/path/to/the/status/page"), 23u);
    EXPECT_EQ(text_length(length_rule::bluesky, "e\u0301a"), 2u);
    EXPECT_EQ(text_length(length_rule::code_points, "e\u0301a"), 3u);
    EXPECT_EQ(text_length(length_rule::bluesky, times("\U0001F468\u200D\U0001F469\u200D\U0001F467", 300)), 300u);
}

}  // namespace
}  // namespace crisisd::text
