#include "text/normalize.hpp"

#include <gtest/gtest.h>

#include <string>

#include "text/utf8.hpp"

namespace crisisd::text {
namespace {

std::string folded(std::string_view s) {
    std::string out;
    fold_case(s, out);
    return out;
}

std::string stripped(std::string_view s) {
    std::string out;
    strip_html(s, out);
    return out;
}

TEST(is_valid_utf8, accepts_well_formed_text) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii text that is longer than eight bytes"));
    EXPECT_TRUE(is_valid_utf8("Störung bei der Telekom – schon wieder 😡"));
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(is_valid_utf8, rejects_malformed_text) {
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("abc\x80"));           // stray continuation
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(fold_case, lowers_ascii_and_keeps_other_bytes) {
    EXPECT_EQ(folded("Hello WORLD 123 !?"), "hello world 123 !?");
}

TEST(fold_case, lowers_german_letters_including_capital_sharp_s) {
    EXPECT_EQ(folded("ÄÖÜ äöü ß"), "äöü äöü ß");
    EXPECT_EQ(folded("STRAẞE"), "straße");
    EXPECT_EQ(folded("TOTALAUSFALL bei der TELEKOM"), "totalausfall bei der telekom");
}

TEST(fold_case, lowers_latin1_extended_greek_and_cyrillic) {
    EXPECT_EQ(folded("ÉCOLE ÇA ÑANDÚ Ø Þ"), "école ça ñandú ø þ");
    EXPECT_EQ(folded("ŁÓDŹ ŚLĄSK ČEŠKÁ ŐRÜLT Ÿ"), "łódź śląsk češká őrült ÿ");
    EXPECT_EQ(folded("ΑΘΗΝΑ Ώρα"), "αθηνα ώρα");
    EXPECT_EQ(folded("МОСКВА ЁЛКА ЇЖАК"), "москва ёлка їжак");
    EXPECT_EQ(folded("ＡＢＣ"), "ａｂｃ");
}

TEST(fold_case, replaces_invalid_bytes_with_replacement_character) {
    EXPECT_EQ(folded("A\xFF" "B"), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(folded("x\xC3"), "x\xEF\xBF\xBD");
    // A truncated 3-byte sequence is one replacement, and the next character survives.
    EXPECT_EQ(folded("\xE2\x82Z"), "\xEF\xBF\xBDz");
}

TEST(fold_case, appends_to_existing_content) {
    std::string out = "prefix:";
    fold_case("ABC", out);
    EXPECT_EQ(out, "prefix:abc");
}

// The one-code-point-at-a-time definition fold_case() must agree with, whatever its fast paths.
std::string folded_by_code_point(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto d = decode_utf8(s, i);
        append_utf8(d.valid ? to_lower(d.code_point) : replacement_character, out);
        i += d.length;
    }
    return out;
}

TEST(fold_case, agrees_with_code_point_folding_at_every_offset_and_byte) {
    // Every byte value, and runs of ASCII of every length between non-ASCII characters (so the
    // eight- and sixteen-byte paths start and stop at every alignment), including invalid sequences.
    const std::string_view pieces[] = {"ÄÖÜ", "ß", "ẞ", "É×Þ", "😡", "🤦‍♂️", "🇩🇪", "\xC3", "\xC3(", "\xE2\x82",
                                       "\xF0\x9F", "\xFF", "Ω", "Ж", "Ｚ", "\xC3\x97", "@Acme_DE", "https://X.example/A",
                                       "’", "…", "Ā", "\xED\xA0\x80", "\xF0\x80\x80\x80", "\xF4\x90\x80\x80",
                                       "\xE0\xA0\x80", "\xC2\xB5", "\xE2\x80", "Ⓐ", "Ⅻ", "\xF3\xA0\x80\x81"};
    std::string text;
    for (int round = 0; round < 40; ++round) {
        for (std::size_t k = 0; k < std::size(pieces); ++k) {
            text.append(std::string(static_cast<std::size_t>((round + k) % 19), static_cast<char>('A' + (round + k) % 26)));
            text.append(pieces[(k * 7 + static_cast<std::size_t>(round)) % std::size(pieces)]);
        }
    }
    for (int b = 0; b < 256; ++b) {
        text += static_cast<char>(b);
        text += "Qx";
    }
    for (std::size_t from = 0; from < 64; ++from) {
        const std::string_view s = std::string_view(text).substr(from);
        EXPECT_EQ(folded(s), folded_by_code_point(s)) << "from " << from;
    }
    for (int b = 0x80; b < 0x100; ++b) {
        const std::string two = {static_cast<char>(0xC3), static_cast<char>(b)};
        EXPECT_EQ(folded(two), folded_by_code_point(two)) << b;
    }
}

TEST(fold_case, into_a_reused_buffer_gives_each_text_alone) {
    std::string buffer;
    EXPECT_EQ(fold_case_into("ÄRGER über die STÖRUNG bei ACME heute, schon wieder 😡", buffer),
              "ärger über die störung bei acme heute, schon wieder 😡");
    EXPECT_EQ(fold_case_into("OK", buffer), "ok");  // nothing of the longer text before it
    EXPECT_EQ(fold_case_into("", buffer), "");
    EXPECT_EQ(fold_case_into("\xFF", buffer), "\xEF\xBF\xBD");
}

// fold_case() copies these characters sixteen bytes at a time without decoding them (see
// fold_common_block()): that holds only while to_lower() maps none of them.
TEST(fold_case, the_ranges_copied_without_decoding_have_no_lower_case_mapping) {
    for (char32_t cp = 0x80; cp < 0x110000; ++cp) {
        const bool copied = (cp >= 0x80 && cp < 0xC0) || (cp >= 0x2000 && cp < 0xD000) || (cp >= 0xE000 && cp < 0xF000) ||
                            cp >= 0x10000;
        if (!copied) continue;
        EXPECT_EQ(to_lower(cp), cp) << std::hex << static_cast<std::uint32_t>(cp);
    }
}

TEST(case_properties, classify_upper_and_lower_letters) {
    EXPECT_TRUE(is_upper(U'Ä'));
    EXPECT_TRUE(is_upper(U'Ω'));
    EXPECT_TRUE(is_upper(U'Ж'));
    EXPECT_FALSE(is_upper(U'ß'));
    EXPECT_TRUE(is_lower(U'ß'));
    EXPECT_TRUE(is_lower(U'ä'));
    EXPECT_TRUE(is_lower(U'ж'));
    EXPECT_TRUE(is_lower(U'ώ'));
    EXPECT_FALSE(is_lower(U'1'));
    EXPECT_FALSE(is_lower(U'😀'));
    EXPECT_TRUE(is_space(U'\u00A0'));
    EXPECT_TRUE(is_space(U'\u3000'));
    EXPECT_FALSE(is_space(U'x'));
}

TEST(strip_html, turns_mastodon_paragraphs_and_breaks_into_newlines) {
    EXPECT_EQ(stripped("<p>Erster Absatz</p><p>Zweiter<br>Zeile<br />drei</p>"),
              "Erster Absatz\nZweiter\nZeile\ndrei");
}

TEST(strip_html, keeps_link_text_and_joins_invisible_url_parts) {
    const std::string html =
        "<p>Down again <a href=\"https://example.com/status\" rel=\"nofollow noopener\" target=\"_blank\">"
        "<span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/sta</span>"
        "<span class=\"invisible\">tus</span></a> <span class=\"h-card\"><a href=\"https://x.social/@isp\" "
        "class=\"u-url mention\">@<span>isp</span></a></span> <a href=\"https://x.social/tags/Ausfall\" "
        "class=\"mention hashtag\" rel=\"tag\">#<span>Ausfall</span></a></p>";
    EXPECT_EQ(stripped(html), "Down again https://example.com/status @isp #Ausfall");
}

TEST(strip_html, decodes_named_and_numeric_references) {
    EXPECT_EQ(stripped("Tom &amp; Jerry &lt;3 &quot;ok&quot; &#39;x&#39; &#x1F600; &auml;&szlig; caf&eacute;"),
              "Tom & Jerry <3 \"ok\" 'x' 😀 äß café");
    EXPECT_EQ(stripped("a&nbsp;b &hellip; &euro;5"), "a b … €5");
}

TEST(strip_html, leaves_unknown_or_broken_references_and_bare_brackets_alone) {
    EXPECT_EQ(stripped("AT&T &bogus; &#; &amp"), "AT&T &bogus; &#; &amp");
    EXPECT_EQ(stripped("3 < 5 and 5 > 3"), "3 < 5 and 5 > 3");
    EXPECT_EQ(stripped("&#0; &#x110000;"), "\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST(strip_html, drops_comments_scripts_and_quoted_brackets_in_attributes) {
    EXPECT_EQ(stripped("a<!-- hidden -->b<script>alert('<p>')</script>c<img alt=\"x>y\">d"), "abcd");
    EXPECT_EQ(stripped("<STYLE>p{}</style>Text"), "Text");
}

TEST(guess_language, recognises_german) {
    EXPECT_EQ(guess_language("Liwest schon wieder Totalausfall, kein Internet seit einer Stunde!!"), "de");
    EXPECT_EQ(guess_language("Danke für den schnellen Support :)"), "de");
    EXPECT_EQ(guess_language("Störung"), "de");
}

TEST(guess_language, recognises_english) {
    EXPECT_EQ(guess_language("Is the internet down for anyone else? It's been out for hours"), "en");
    EXPECT_EQ(guess_language("Thanks for the quick fix!"), "en");
}

TEST(guess_language, returns_empty_without_evidence) {
    EXPECT_EQ(guess_language(""), "");
    EXPECT_EQ(guess_language("Telekom 😡😡 #fail"), "");
    EXPECT_EQ(guess_language("https://example.com @someone"), "");
}

TEST(guess_language, reads_stop_words_in_any_case_and_spelling) {
    EXPECT_EQ(guess_language("FÜR ÜBER"), "de");
    EXPECT_EQ(guess_language("I’M HERE"), "en");  // typographic apostrophe
    EXPECT_EQ(guess_language("the"), "en");       // shorter than one 8-byte load
    EXPECT_EQ(guess_language("Internetstörungen Netzausfall"), "de");  // umlaut evidence only
    EXPECT_EQ(guess_language("what's the deal, danke"), "en");
}
TEST(guess_language, reads_the_first_2_kib_only) {
    const std::string pad(2044, ' ');
    EXPECT_EQ(guess_language(pad + "und the the the"), "de");  // "und" is bytes 2044..2046
    EXPECT_EQ(guess_language(pad + "  und the the"), "");      // cut to "un"
}
TEST(guess_language, follows_the_majority_in_mixed_posts) {
    EXPECT_EQ(guess_language("Mein Internet ist schon wieder weg, what the hell"), "de");
    EXPECT_EQ(guess_language("The outage is still not fixed and I am angry, danke"), "en");
}

}  // namespace
}  // namespace crisisd::text
