#include "score/detail/lexicons.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <unordered_map>

#include "score/detail/word_table.hpp"

namespace {

using crisisd::score::detail::lexicons;
using crisisd::score::detail::word_table;

// hash_padded() reads past a key's end (masked) and must agree with hash() for every length and
// whatever follows the key.
TEST(word_table, padded_hash_equals_hash_for_every_length) {
    std::string buffer(80, 'x');
    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<char>(0x21 + (i * 37) % 200);
    for (std::size_t n = 0; n <= 40; ++n) {
        for (const char after : {'\0', ' ', 'z', '\xFF'}) {
            std::string padded = buffer.substr(0, n);
            padded.append(16, after);
            const std::string_view key(padded.data(), n);
            EXPECT_EQ(word_table::hash_padded(key), word_table::hash(key)) << n;
        }
    }
}

// The presence filter in front of the slots must never hide a key, before or after the table
// grows; absent keys (which it mostly answers) stay absent.
TEST(word_table, finds_every_key_and_no_absent_one_as_it_grows) {
    word_table t;
    for (int i = 0; i < 20000; ++i) {
        t.upsert("w" + std::to_string(i)).valence = i;
        if (i % 997 == 0 || i == 19999) {
            for (int k = 0; k <= i; ++k) {
                const auto* e = t.find("w" + std::to_string(k));
                ASSERT_NE(e, nullptr) << k << " of " << i;
                ASSERT_EQ(e->valence, k);
            }
        }
    }
    for (int i = 0; i < 20000; ++i) {
        EXPECT_EQ(t.find("x" + std::to_string(i)), nullptr);
        EXPECT_EQ(t.find("w" + std::to_string(i + 20000)), nullptr);
    }
    EXPECT_EQ(t.find(""), nullptr);
}

// The English tokenizer does not look up links and handles; that is exact only while no key of
// the English tables could match one, shortened or not.
TEST(lexicons, no_english_key_is_a_link_or_handle) {
    const lexicons& lex = lexicons::instance();
    for (const word_table* table : {&lex.english, &lex.english_modern}) {
        table->for_each([&](std::string_view key, const auto&) {
            const bool handle = key.size() > 1 && key[0] == '@' &&
                                (std::isalnum(static_cast<unsigned char>(key[1])) != 0 || key[1] == '_');
            EXPECT_FALSE(handle) << key;
            EXPECT_FALSE(key.starts_with("http://") || key.starts_with("https://")) << key;
        });
    }
}

// Every key of the loaded lexicons is found through find().
TEST(lexicons, every_loaded_key_is_found) {
    const lexicons& lex = lexicons::instance();
    for (const word_table* table : {&lex.english, &lex.english_modern, &lex.german}) {
        std::size_t keys = 0;
        table->for_each([&](std::string_view key, const auto& e) {
            ++keys;
            EXPECT_EQ(table->find(key), &e) << key;
        });
        EXPECT_EQ(keys, table->size());
    }
}

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
