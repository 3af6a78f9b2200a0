#include "match/matcher.hpp"

#include <gtest/gtest.h>

#include "text/normalize.hpp"

using namespace crisisd;

namespace {

match::match_settings words(std::vector<std::string> keywords, std::vector<std::string> exclude = {},
                            std::vector<std::string> languages = {}, std::vector<std::string> sources = {}) {
    match::match_settings m;
    m.keywords = std::move(keywords);
    m.exclude = std::move(exclude);
    m.languages = std::move(languages);
    m.sources = std::move(sources);
    return m;
}

std::shared_ptr<const match::matcher> build(std::vector<match::match_settings> rules) {
    auto r = match::matcher::compile(rules);
    if (auto* e = std::get_if<match::compile_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::get<std::shared_ptr<const match::matcher>>(r);
}

std::vector<std::size_t> hits(const match::matcher& m, std::string_view raw) {
    std::string folded;
    text::fold_case(raw, folded);
    match::scanner s(m);
    std::vector<std::size_t> out;
    s.scan(folded, out);
    return out;
}

}  // namespace

TEST(matcher, matches_case_insensitively_across_unicode) {
    auto m = build({words({"Störung"})});
    EXPECT_EQ(hits(*m, "STÖRUNG in Linz"), std::vector<std::size_t>{0});
    EXPECT_EQ(hits(*m, "wieder eine #störung"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "alles störungsfrei heute").empty());
}

TEST(matcher, respects_word_boundaries_and_handles) {
    auto m = build({words({"liwest", "@liwest"}), words({"#ausfall"})});
    EXPECT_EQ(hits(*m, "@LIWEST hallo?"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "oliwest ist ein Ort").empty());
    EXPECT_EQ(hits(*m, "Liwest: #Ausfall!"), (std::vector<std::size_t>{0, 1}));
    EXPECT_TRUE(hits(*m, "ein ausfall ohne hashtag").empty());
}

TEST(matcher, matches_phrases_over_any_whitespace) {
    auto m = build({words({"kein internet"})});
    EXPECT_EQ(hits(*m, "seit 3h KEIN\n  Internet"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "keine internetseite").empty());
}

TEST(matcher, exclude_vetoes_a_match) {
    auto m = build({words({"outage"}, {"aws"})});
    EXPECT_EQ(hits(*m, "big outage again"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "AWS outage again").empty());
}

TEST(matcher, filters_language_and_source) {
    auto m = build({words({"x"}, {}, {"de"}, {"mastodon"})});
    EXPECT_TRUE(m->accepts(0, "de", "mastodon"));
    EXPECT_FALSE(m->accepts(0, "en", "mastodon"));
    EXPECT_FALSE(m->accepts(0, "de", "bluesky"));
}

TEST(matcher, a_language_takes_its_regional_tags) {
    auto m = build({words({"x"}, {}, {"de"}), words({"y"}, {}, {"de-AT"})});
    EXPECT_TRUE(m->accepts(0, "de-AT", "any"));
    EXPECT_TRUE(m->accepts(0, "DE_ch", "any"));
    EXPECT_FALSE(m->accepts(0, "den", "any"));
    EXPECT_FALSE(m->accepts(0, "", "any")) << "an unknown language is not German";
    EXPECT_TRUE(m->accepts(1, "de-at", "any"));
    EXPECT_FALSE(m->accepts(1, "de", "any"));
    EXPECT_FALSE(m->accepts(1, "de-CH", "any"));
}

TEST(matcher, a_later_whole_word_counts_after_a_partial_one) {
    auto m = build({words({"liwest", "kein internet"})});
    EXPECT_EQ(hits(*m, "liwestfan here: liwest again"), std::vector<std::size_t>{0});
    EXPECT_EQ(hits(*m, "keine internet, kein  internet"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "keinx internet, kein internetz").empty());
}

TEST(matcher, punctuation_and_emoji_are_boundaries_letters_of_any_script_are_not) {
    auto m = build({words({"liwest"})});
    EXPECT_EQ(hits(*m, "«Liwest» schon wieder"), std::vector<std::size_t>{0});
    EXPECT_EQ(hits(*m, "liwest\xF0\x9F\x99\x84"), std::vector<std::size_t>{0});  // 🙄
    EXPECT_EQ(hits(*m, "…liwest—"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "йliwest").empty());
    EXPECT_TRUE(hits(*m, "liwestü").empty());
}

TEST(matcher, thousands_of_keywords_compile_quickly) {
    std::vector<match::match_settings> rules;
    for (int r = 0; r < 200; ++r) {
        std::vector<std::string> kws;
        for (int k = 0; k < 50; ++k) kws.push_back("kw" + std::to_string(r) + "x" + std::to_string(k) + (k % 5 == 0 ? " störung" : ""));
        rules.push_back(words(kws, {"ex" + std::to_string(r)}));
    }
    auto m = build(rules);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(hits(*m, "KW17x3 ist weg, kw5x10 Störung"), (std::vector<std::size_t>{5, 17}));
}

TEST(matcher, topic_is_the_first_keyword_without_sigil) {
    auto m = build({words({"#Liwest", "liwest"})});
    EXPECT_EQ(m->topic(0), "Liwest");
}

TEST(matcher, treats_regex_metacharacters_literally) {
    auto m = build({words({"c++ (beta)", "a.b"})});
    EXPECT_EQ(hits(*m, "the c++ (beta) crashed"), std::vector<std::size_t>{0});
    EXPECT_TRUE(hits(*m, "axb").empty());
}
