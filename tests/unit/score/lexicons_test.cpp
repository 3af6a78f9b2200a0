#include "score/detail/lexicons.hpp"

#include <gtest/gtest.h>

#include <unordered_map>

namespace {

using crisisd::score::detail::lexicons;

// describe_emoji() answers most code points from a bitmap of 16-code-point blocks before it
// searches: it must agree with the plain lookup for every code point up to U+20000 and beyond.
TEST(lexicons, describe_emoji_agrees_with_the_emoji_list_for_every_code_point) {
    const lexicons& lex = lexicons::instance();
    ASSERT_GT(lex.emoji.size(), 1000u);
    std::unordered_map<char32_t, std::string_view> expected;
    for (const auto& e : lex.emoji) expected[e.code_point] = e.description;
    std::size_t found = 0;
    for (char32_t cp = 0; cp < 0x30000; ++cp) {
        const auto it = expected.find(cp);
        const std::string_view want = it == expected.end() ? std::string_view{} : it->second;
        ASSERT_EQ(lex.describe_emoji(cp), want) << std::hex << static_cast<unsigned>(cp);
        found += !want.empty();
    }
    EXPECT_EQ(found, lex.emoji.size());
    EXPECT_TRUE(lex.describe_emoji(U'\u2019').empty());  // the typographic apostrophe
    EXPECT_FALSE(lex.describe_emoji(U'😀').empty());
}

}  // namespace
