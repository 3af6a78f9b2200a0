#include "score/detail/emoji_pass.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "score/detail/lexicons.hpp"
#include "text/utf8.hpp"

namespace crisisd::score::detail {

namespace {

static_assert(std::endian::native == std::endian::little, "the 8-byte word tricks below assume little-endian loads");

// False when no byte of `text` can start an emoji (one at U+2000 or above, or (c)/(r)): most
// mentions, which are then tokenised in place.
bool may_contain_emoji(std::string_view text) {
    const char* p = text.data();
    const std::size_t n = text.size();
    std::size_t i = 0;
    const auto emoji_start = [&](std::size_t k) {
        const auto b = static_cast<unsigned char>(p[k]);
        return b >= 0xE2 || (b == 0xC2 && k + 1 < n && (p[k + 1] == '\xA9' || p[k + 1] == '\xAE'));
    };
#if defined(__SSE2__)
    // 16 bytes at a time first, as the ASCII runs in replace_emoji(): ~75 instructions a mention
    // fewer than 8 at a time alone, on the mixed benchmark stream. Signed compares: 0xE2..0xFF
    // are -30..-1.
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        if (_mm_movemask_epi8(v) == 0) continue;  // ASCII
        const __m128i start = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-31)), _mm_cmplt_epi8(v, _mm_setzero_si128()));
        if (_mm_movemask_epi8(start) != 0) return true;
        for (auto c2 = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\xC2')))); c2 != 0; c2 &= c2 - 1) {
            if (emoji_start(i + static_cast<std::size_t>(std::countr_zero(c2)))) return true;
        }
    }
#endif
    constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    constexpr std::uint64_t high = 0x8080808080808080ull;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, 8);
        if ((w & high) == 0) continue;  // ASCII
        // A byte >= 0xE2 (high bit set, low 7 bits >= 0x62) is an emoji start; a 0xC2 byte needs
        // a look at the next one. German umlauts (0xC3 ...) pass without a byte loop.
        if ((((w & low7) + 0x1E1E1E1E1E1E1E1Eull) & w & high) != 0) return true;
        const std::uint64_t c2 = w ^ 0xC2C2C2C2C2C2C2C2ull;
        if ((~(((c2 & low7) + low7) | c2) & high) == 0) continue;
        for (std::size_t k = i; k < i + 8; ++k) {
            if (emoji_start(k)) return true;
        }
    }
    for (; i < n; ++i) {
        if (emoji_start(i)) return true;
    }
    return false;
}

}  // namespace

std::string_view replace_emoji(std::string_view text, const lexicons& lex, std::string& clean, emoji_marks& marks) {
    marks.at.clear();
    marks.id.clear();
    marks.at.push_back(static_cast<std::size_t>(-1));  // the end (replaced when there are emoji)
    if (!may_contain_emoji(text)) return text;
    marks.at.clear();
    // Characters that stay as they are are not copied one run at a time: text[copied, i) is
    // appended in one piece when something changes (an emoji with a description, a dropped
    // modifier, an invalid sequence), and a text where nothing does (a typographic apostrophe or a
    // flag, no described emoji) is tokenised in place.
    clean.clear();
    std::size_t copied = 0;
    bool changed = false;
    const auto flush = [&](std::size_t upto) {
        clean.append(text.data() + copied, upto - copied);
        changed = true;
    };
    bool prev_space = true;
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            // The ASCII run's end, eight bytes at a time: byte by byte this loop was 600
            // instructions a mention on the mixed benchmark stream (most of its mentions have an
            // emoji and so come through here), ~14% of all scoring.
            std::size_t j = i + 1;
#if defined(__SSE2__)
            for (; j + 16 <= text.size(); j += 16) {
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + j));
                if (const auto high = static_cast<unsigned>(_mm_movemask_epi8(v)); high != 0) {
                    j += static_cast<std::size_t>(std::countr_zero(high));
                    break;  // text[j] is no ASCII: the loops below stop at once
                }
            }
#endif
            for (; j + 8 <= text.size(); j += 8) {
                std::uint64_t w = 0;
                std::memcpy(&w, text.data() + j, 8);
                if (const std::uint64_t high = w & 0x8080808080808080ull; high != 0) {
                    j += static_cast<std::size_t>(std::countr_zero(high) / 8);
                    break;
                }
            }
            while (j < text.size() && static_cast<unsigned char>(text[j]) < 0x80) ++j;
            prev_space = text[j - 1] == ' ';
            i = j;
            continue;
        }
        // A valid two-byte character (umlauts, ß, é) is no emoji unless it is (c) or (r): kept
        // without a decode_utf8() call.
        if (b >= 0xC2 && b <= 0xDF && i + 1 < text.size()) {
            const auto b1 = static_cast<unsigned char>(text[i + 1]);
            if ((b1 & 0xC0) == 0x80 && !(b == 0xC2 && (b1 == 0xA9 || b1 == 0xAE))) {
                prev_space = false;
                i += 2;
                continue;
            }
        }
        const auto d = text::decode_utf8(text, i);
        const char32_t cp = d.code_point;
        if (cp < 0x2000 && cp != 0xA9 && cp != 0xAE) {  // no single-code-point emoji below U+2000 except (c) (r)
            prev_space = false;
            i += d.length;
            continue;
        }
        // Deliberate deviation from Python VADER: variation selectors, ZWJ and skin-tone modifiers
        // are presentation details. Python appends U+FE0F to the description ("red heart\uFE0F"),
        // which makes the last description word unreachable in the lexicon.
        if (cp == 0xFE0F || cp == 0xFE0E || cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF)) {
            flush(i);
            i += d.length;
            copied = i;
            continue;
        }
        const std::size_t described = d.valid ? lex.emoji_index(cp) : lexicons::no_emoji;
        if (described != lexicons::no_emoji) {
            // The emoji stays, as a token of its own: the tokenizers take its description's
            // tokens ready-made (described_emoji) where they meet it.
            flush(i);
            if (!prev_space) clean.push_back(' ');
            marks.at.push_back(clean.size());
            marks.id.push_back(static_cast<std::uint32_t>(described));
            clean.append(text.data() + i, d.length);
            // Python VADER glued the next character to the description ("😀good" -> "grinning
            // facegood"); a space keeps both words.
            clean.push_back(' ');
            prev_space = true;
            i += d.length;
            copied = i;
            continue;
        }
        if (!d.valid) {
            flush(i);
            text::append_utf8(text::replacement_character, clean);
            copied = i + d.length;
        }
        prev_space = false;
        i += d.length;
    }
    marks.at.push_back(static_cast<std::size_t>(-1));
    if (!changed) return text;
    flush(text.size());
    return clean;
}


}  // namespace crisisd::score::detail
