#pragma once
// Low-level UTF-8 and Unicode case helpers shared by text normalisation, keyword matching and the
// sentiment scorer. Everything here is stateless, allocation-free (except appending to a caller's
// string) and safe to call from any thread.
#include <cstddef>
#include <string>
#include <string_view>

namespace crisisd::text {

inline constexpr char32_t replacement_character = 0xFFFD;

// One decoded code point. `length` is the number of bytes consumed (always >= 1 for a non-empty
// input). Invalid input decodes to U+FFFD with `valid == false`, consuming the maximal invalid
// subpart (the lead byte plus any continuation bytes that were still acceptable), the same
// substitution policy as the WHATWG and Python "replace" decoders.
struct decoded_char {
    char32_t code_point = 0;
    std::size_t length = 0;
    bool valid = false;
};

namespace detail {
// decode_utf8() for what its inline part does not take: invalid or truncated sequences, and the
// lead bytes with narrowed second-byte ranges (E0, ED, F4).
decoded_char decode_utf8_slow(std::string_view s, std::size_t pos) noexcept;
}  // namespace detail

// Decodes the code point that starts at byte `pos` of `s` (pos < s.size()).
// Inline for well-formed sequences: the scorer, fold_case() and guess_language() call it for every
// non-ASCII character other than the umlauts (emoji, typographic quotes), ~6 calls a mention on
// the mixed benchmark stream, and as a library call it was ~75 instructions each (~2% of all
// per-mention instructions); the checks below are the same as the out-of-line decoder's.
inline decoded_char decode_utf8(std::string_view s, std::size_t pos) noexcept {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) return {b0, 1, true};
    const std::size_t left = s.size() - pos;
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[pos + k]); };
    const auto cont = [](unsigned char b) { return (b & 0xC0u) == 0x80u; };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (left >= 2 && cont(at(1))) return {((b0 & 0x1Fu) << 6) | (at(1) & 0x3Fu), 2, true};
    } else if (b0 >= 0xE1 && b0 <= 0xEF && b0 != 0xED) {
        if (left >= 3 && cont(at(1)) && cont(at(2)))
            return {((b0 & 0x0Fu) << 12) | ((at(1) & 0x3Fu) << 6) | (at(2) & 0x3Fu), 3, true};
    } else if (b0 >= 0xF0 && b0 <= 0xF3) {
        // F0 needs a second byte >= 0x90 (shorter forms are overlong).
        if (left >= 4 && cont(at(1)) && (b0 != 0xF0 || at(1) >= 0x90) && cont(at(2)) && cont(at(3)))
            return {((b0 & 0x07u) << 18) | ((at(1) & 0x3Fu) << 12) | ((at(2) & 0x3Fu) << 6) | (at(3) & 0x3Fu), 4, true};
    }
    return detail::decode_utf8_slow(s, pos);
}

// Appends the UTF-8 encoding of `cp` (surrogates and values > U+10FFFF become U+FFFD).
void append_utf8(char32_t cp, std::string& out);

// Writes the UTF-8 encoding of `cp` (as append_utf8 does) to out[0..4) and returns its length.
// Inline: the scorer's case folding calls it per non-ASCII letter.
inline std::size_t encode_utf8(char32_t cp, char* out) noexcept {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = replacement_character;
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

namespace detail {
char32_t to_lower_mapped(char32_t cp) noexcept;  // to_lower() below U+1F00
}  // namespace detail

// Unicode simple lower-case mapping for Basic Latin, Latin-1, Latin Extended-A/B (common
// letters), Greek, Cyrillic, Armenian, Latin Extended Additional (incl. capital sharp s U+1E9E -> ß)
// and fullwidth Latin. Other code points map to themselves.
// Inline above U+1F00, where only fullwidth A-Z map: the emoji and typographic punctuation of
// most mentions were a library call each in fold_case() and the scorer (~80 instructions a
// mention on the mixed benchmark stream).
inline char32_t to_lower(char32_t cp) noexcept {
    if (cp < 0x1F00) return detail::to_lower_mapped(cp);
    return cp >= 0xFF21 && cp <= 0xFF3A ? cp + 0x20 : cp;
}

// True for a cased letter that is upper case (it has a different lower-case form).
inline bool is_upper(char32_t cp) noexcept { return to_lower(cp) != cp; }

// True for a cased letter that is lower case, in the ranges to_lower() covers.
bool is_lower(char32_t cp) noexcept;

// Unicode White_Space (what Python's str.split() splits on).
bool is_space(char32_t cp) noexcept;

}  // namespace crisisd::text
