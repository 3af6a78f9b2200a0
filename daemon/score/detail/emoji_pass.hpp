#pragma once
// The emoji pass that runs before tokenising: each single-code-point emoji that has a description
// (lexicons::emoji) becomes a token of its own, for the tokenizers to replace by the description's
// words; variation selectors, ZWJ and skin-tone modifiers are dropped, invalid UTF-8 becomes
// U+FFFD. Stateless; the caller owns the buffers (per-thread scratch).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::score::detail {

struct lexicons;

// Where the described emoji stand in the text replace_emoji() returns, in order, then the size_t
// maximum (an end mark: a tokenizer compares each token's start with the next one); `id`: each
// one's index in lexicons::emoji.
struct emoji_marks {
    std::vector<std::size_t> at;
    std::vector<std::uint32_t> id;
};

// Returns the text to tokenise: `text` itself when nothing changes (no described emoji, nothing
// dropped or replaced: most mentions), else `clean`, a copy where every described emoji has a
// space before it (unless one is there) and after it.
std::string_view replace_emoji(std::string_view text, const lexicons& lex, std::string& clean, emoji_marks& marks);

}  // namespace crisisd::score::detail
