// English: one test per VADER rule. Expected compounds for simple sentences are the values
// vaderSentiment 3.3.2 prints (and the JS port agrees on these).
#include <gtest/gtest.h>

#include <cmath>

#include "score/scorer.hpp"

namespace crisisd::score {
namespace {

double compound(std::string_view text) {
    static const scorer s;
    return s.score(text, "en").compound;
}

TEST(english_scoring, rated_words_use_the_vader_lexicon_and_alpha_15) {
    EXPECT_NEAR(compound("good"), 1.9 / std::sqrt(1.9 * 1.9 + 15), 1e-9);
    EXPECT_NEAR(compound("The service is good."), 0.4404, 5e-5);
    EXPECT_NEAR(compound("I hate it"), -0.5719, 5e-5);
    EXPECT_EQ(compound("The router is in the hallway"), 0.0);
}

TEST(english_scoring, pos_neu_neg_are_shares_of_weighted_tokens) {
    const scorer s;
    const auto r = s.score("The service is good.", "en");
    EXPECT_NEAR(r.pos, 2.9 / 5.9, 1e-9);  // (1.9 + 1) / ((1.9 + 1) + 3 neutral words)
    EXPECT_NEAR(r.neu, 3.0 / 5.9, 1e-9);
    EXPECT_EQ(r.neg, 0.0);
    const auto empty = s.score("   ", "en");
    EXPECT_EQ(empty.compound, 0.0);
    EXPECT_EQ(empty.pos + empty.neu + empty.neg, 0.0);
}

TEST(english_scoring, boosters_and_dampeners_scale_by_distance) {
    EXPECT_NEAR(compound("The service is very good."), 0.4927, 5e-5);
    EXPECT_GT(compound("extremely annoying"), -1.0);
    EXPECT_LT(compound("extremely annoying"), compound("annoying"));
    EXPECT_GT(compound("slightly annoying"), compound("annoying"));
    // distance 2 counts 0.95, distance 3 0.9
    EXPECT_GT(compound("very good"), compound("very much good"));
}

TEST(english_scoring, negation_flips_within_three_tokens) {
    EXPECT_NEAR(compound("The service is not good."), -0.3412, 5e-5);
    EXPECT_LT(compound("isn't good"), 0);
    EXPECT_LT(compound("never was it good"), 0);
    EXPECT_GT(compound("not ever was it good"), 0);  // 4 tokens away: outside the window
    EXPECT_GT(compound("not bad"), 0);
}

TEST(english_scoring, no_negates_the_following_rated_word) {
    EXPECT_GT(compound("no problem"), 0);
    EXPECT_LT(compound("no"), 0);  // "no" alone is itself rated
}

TEST(english_scoring, all_caps_emphasis_only_when_some_words_are_lower_case) {
    EXPECT_NEAR(compound("The service is GOOD"), (1.9 + 0.733) / std::sqrt((1.9 + 0.733) * (1.9 + 0.733) + 15), 1e-9);
    EXPECT_NEAR(compound("GOOD SERVICE"), compound("good service"), 1e-12);
}

TEST(english_scoring, exclamation_and_question_marks_amplify) {
    EXPECT_NEAR(compound("The service is good!"), 0.4926, 5e-5);
    EXPECT_GT(compound("good!!!"), compound("good!"));
    EXPECT_NEAR(compound("good!!!!"), compound("good!!!!!!!!"), 1e-12);  // capped at 4
    EXPECT_EQ(compound("good?"), compound("good"));
    EXPECT_GT(compound("good??"), compound("good"));
}

TEST(english_scoring, but_shifts_weight_to_the_second_clause) {
    EXPECT_LT(compound("The food is great but the staff is rude."), 0);
    EXPECT_LT(compound("Great phone But the battery is awful"), 0);
    EXPECT_GT(compound("The staff is rude but the food is great."), 0);
}

TEST(english_scoring, idioms_and_least) {
    EXPECT_GT(compound("this is the shit"), 0);
    EXPECT_LT(compound("the bomb"), 0);             // idioms are only checked from the 4th token on
    EXPECT_GT(compound("that was the bomb"), 0);  // "the bomb" = 3
    EXPECT_LT(compound("the least helpful answer"), 0);
    EXPECT_GT(compound("at least helpful"), 0);
    EXPECT_LT(compound("it is kind of good"), compound("it is good"));
}

TEST(english_scoring, emoji_are_scored_through_their_descriptions) {
    EXPECT_GT(compound("😀"), 0);                  // "grinning face"
    EXPECT_LT(compound("service today 😠"), 0);    // "angry face"
    EXPECT_EQ(compound("service today 😡"), 0);    // "pouting face": no rated word
    EXPECT_GT(compound("thanks ❤️"), compound("thanks"));  // "red heart", variation selector dropped
    EXPECT_GT(compound("ok :)"), compound("ok"));  // emoticons are lexicon entries
}

TEST(english_scoring, links_handles_hashtags_and_elongations) {
    EXPECT_EQ(compound("@happy_user https://good.example/great"), 0.0);
    EXPECT_NEAR(compound("#fail"), compound("fail"), 1e-12);
    EXPECT_NEAR(compound("goooood"), compound("good"), 1e-12);
    EXPECT_NEAR(compound("sooo good"), compound("so good"), 1e-12);
    EXPECT_LT(compound("don’t like it"), 0);  // typographic apostrophe
}

TEST(english_scoring, duplicate_lexicon_entries_keep_the_last_value_like_python) {
    // "lol" is listed as 2.9 and later 1.8.
    EXPECT_NEAR(compound("lol"), 1.8 / std::sqrt(1.8 * 1.8 + 15), 1e-9);
}

TEST(english_scoring, language_tag_and_guess_select_english) {
    const scorer s;
    EXPECT_EQ(s.score("not good", "en-US").compound, s.score("not good", "en").compound);
    EXPECT_EQ(s.score("The outage is not good", "").compound, s.score("The outage is not good", "en").compound);
}

}  // namespace
}  // namespace crisisd::score
