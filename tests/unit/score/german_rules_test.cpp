// German: one test per rule of crisisd's German scorer (lexicon, negation before and after the
// verb, modifiers, "aber", compounds, transliteration, elongation, emoji, clean-up, language guess).
#include <gtest/gtest.h>

#include <cmath>

#include "score/scorer.hpp"

namespace crisisd::score {
namespace {

double de(std::string_view text) {
    static const scorer s;
    return s.score(text, "de").compound;
}

TEST(german_scoring, outage_and_praise_examples_from_the_issue) {
    EXPECT_LT(de("Totalausfall seit 3 Stunden, Frechheit!!"), -0.7);
    EXPECT_GT(de("Danke für den schnellen Support :)"), 0.6);
    EXPECT_LT(de("Liwest schon wieder Totalausfall, kein Internet seit einer Stunde!!"), -0.7);
}

TEST(german_scoring, rated_words_and_their_inflected_forms) {
    EXPECT_NEAR(de("gut"), 1.9 / std::sqrt(1.9 * 1.9 + 15), 1e-9);
    EXPECT_NEAR(de("ein guter Tag"), de("gut"), 1e-9);
    EXPECT_NEAR(de("schlechtesten"), de("schlecht"), 1e-9);
    EXPECT_LT(de("Die Warteschleife nervt"), -0.5);
    EXPECT_EQ(de("Der Router steht im Flur"), 0.0);
}

TEST(german_scoring, negation_before_the_word) {
    EXPECT_LT(de("Das ist nicht gut"), 0);
    EXPECT_LT(de("Das ist kein guter Service"), 0);
    EXPECT_LT(de("Das war nie gut"), 0);
    EXPECT_GT(de("Keine Störung heute"), 0);
    EXPECT_GT(de("Das ist nicht nur gut, sondern großartig"), 0.5);  // "nicht nur" is not a negation
}

TEST(german_scoring, multi_word_entries_in_any_case_and_spelling) {
    EXPECT_GT(de("Läuft wieder!"), 0);
    EXPECT_NEAR(de("LÄUFT WIEDER"), de("läuft wieder"), 1e-12);
    EXPECT_NEAR(de("laeuft wieder"), de("läuft wieder"), 1e-12);
    // Links and handles between the words are not words; a clause end is a boundary.
    EXPECT_NEAR(de("funktioniert @telekom nicht mehr"), de("funktioniert nicht mehr"), 1e-12);
    EXPECT_NE(de("funktioniert . nicht mehr"), de("funktioniert nicht mehr"));
}

TEST(german_scoring, negation_after_the_verb) {
    EXPECT_LT(de("Das gefällt mir nicht"), 0);
    EXPECT_LT(de("Das Internet funktioniert nicht"), -0.4);
    EXPECT_LT(de("funktioniert leider immer noch nicht"), 0);
    EXPECT_GT(de("gefällt mir. Nicht schlecht"), 0);  // a clause end stops it
}

TEST(german_scoring, weder_noch) {
    EXPECT_LT(std::fabs(de("weder gut noch schlecht")), std::fabs(de("gut und schlecht")) + 0.5);
    EXPECT_GT(de("weder gut noch schlecht"), de("gut noch schlecht") - 1.0);
    EXPECT_GT(de("weder langsam noch teuer"), 0);
}

TEST(german_scoring, missing_service_is_a_complaint) {
    EXPECT_LT(de("kein Internet"), -0.3);
    EXPECT_LT(de("schon wieder ohne Strom"), -0.3);
    EXPECT_EQ(de("Internet"), 0.0);
}

TEST(german_scoring, intensifiers_and_dampeners) {
    EXPECT_GT(de("sehr gut"), de("gut"));
    EXPECT_GT(de("echt mega gut"), de("sehr gut"));
    EXPECT_LT(de("total nervig"), de("nervig"));
    EXPECT_GT(de("etwas nervig"), de("nervig"));
    EXPECT_GT(de("ein bisschen langsam"), de("langsam"));
}

TEST(german_scoring, all_caps_and_punctuation) {
    EXPECT_GT(de("Das ist GUT"), de("Das ist gut"));
    EXPECT_LT(de("Das ist SCHLECHT"), de("Das ist schlecht"));
    EXPECT_LT(de("Störung!!!"), de("Störung"));
    EXPECT_NEAR(de("AUSFALL STÖRUNG"), de("ausfall störung"), 1e-12);  // everything upper: no emphasis
    // Upper case with umlauts and ß counts like ASCII upper case.
    EXPECT_LT(de("Schon wieder eine STÖRUNG"), de("Schon wieder eine Störung"));
    EXPECT_NEAR(de("Schon wieder eine STÖRUNG"), de("Schon wieder eine STOERUNG"), 1e-12);
    // ß is a lower-case letter (as for Python's str.isupper()): "GROßARTIG" is not ALL-CAPS.
    EXPECT_NEAR(de("Das ist GROßARTIG"), de("Das ist großartig"), 1e-12);
    EXPECT_GT(de("Das ist GROSSARTIG"), de("Das ist GROßARTIG"));
}

TEST(german_scoring, aber_doch_jedoch_shift_weight_to_the_second_clause) {
    EXPECT_LT(de("Super Service, aber die Hotline ist eine Katastrophe"), 0);
    EXPECT_GT(de("Die Hotline ist eine Katastrophe, aber der Service ist super"), 0);
    EXPECT_LT(de("Schnell geliefert, jedoch defekt"), 0);
}

TEST(german_scoring, compounds_are_scored_by_their_known_head) {
    EXPECT_LT(de("Internetstörung"), 0);
    EXPECT_NEAR(de("Internetstörung"), de("Störung"), 1e-12);
    EXPECT_LT(de("Mobilfunkausfall"), 0);
    EXPECT_LT(de("Netzstörungen"), 0);
    EXPECT_GT(de("Kundenfreude"), 0);
    EXPECT_EQ(de("Geschlecht"), 0.0);  // a known neutral word is not split ("schlecht")
}

TEST(german_scoring, umlauts_and_sharp_s_with_and_without_transliteration) {
    EXPECT_NEAR(de("Stoerung"), de("Störung"), 1e-12);
    EXPECT_NEAR(de("schoen"), de("schön"), 1e-12);
    EXPECT_NEAR(de("grossartig"), de("großartig"), 1e-12);
    EXPECT_NEAR(de("STÖRUNG bei uns"), de("STOERUNG bei uns"), 1e-12);
    EXPECT_NEAR(de("Internetstoerung"), de("Störung"), 1e-12);
}

TEST(german_scoring, elongations_hashtags_handles_and_links) {
    EXPECT_NEAR(de("suuuper"), de("super"), 1e-12);
    EXPECT_NEAR(de("störunggg"), de("störung"), 1e-12);        // after an umlaut, at the end
    // Folded words lie one after another in the scorer's buffer: "störungg" followed by "gä" has
    // "ggg" only across the two, which is no run ("störungg" stays unknown, not "störung").
    EXPECT_EQ(de("Störungg gÄ"), 0.0);
    EXPECT_NEAR(de("Katastrophhhe"), de("Katastrophe"), 1e-12);  // in the middle
    EXPECT_NEAR(de("katastrophaaal"), de("katastrophal"), 1e-12);
    EXPECT_LT(de("neeein, schon wieder offline"), 0);
    EXPECT_NEAR(de("#Ausfall"), de("Ausfall"), 1e-12);
    EXPECT_NEAR(de("@telekom Ausfall https://example.com/status?x=1"), de("Ausfall"), 1e-12);
    EXPECT_NEAR(de("Ausfall ftp://files.example/x (www.example.de) <HTTPS://x.example> @_ops"), de("Ausfall"), 1e-12);
    EXPECT_NEAR(de("Ausfall: heute"), de("Ausfall heute"), 1e-12);  // a word with a colon is no link
}

TEST(german_scoring, emoji_and_emoticons_are_language_neutral) {
    EXPECT_GT(de("Ich liebe es 😍"), de("Ich liebe es"));
    EXPECT_LT(de("Internet weg 😠"), de("Internet weg"));
    EXPECT_GT(de("Hotline erreicht :)"), 0);
    EXPECT_LT(de("Hotline erreicht :("), 0);
}

TEST(german_scoring, english_words_in_german_posts_count_but_homographs_do_not) {
    EXPECT_LT(de("Was für ein fail"), 0);
    EXPECT_GT(de("nice, danke"), 0);
    EXPECT_EQ(de("Die Kinder waren im Bad"), 0.0);  // not English "die", "bad"
    EXPECT_EQ(de("Es war kalt"), 0.0);              // not English "war"
}

TEST(german_scoring, language_is_taken_from_the_tag_or_guessed) {
    const scorer s;
    EXPECT_EQ(s.score("Das ist nicht gut", "de-AT").compound, s.score("Das ist nicht gut", "de").compound);
    EXPECT_EQ(s.score("Das Internet funktioniert schon wieder nicht", "").compound,
              s.score("Das Internet funktioniert schon wieder nicht", "de").compound);
    EXPECT_LT(s.score("Mein Internet ist schon wieder weg, what a fail", "").compound, 0);
}

}  // namespace
}  // namespace crisisd::score
