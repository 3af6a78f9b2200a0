#include "text/utf8.hpp"

namespace crisisd::text {

decoded_char detail::decode_utf8_slow(std::string_view s, std::size_t pos) noexcept {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80) return {b0, 1, true};
    std::size_t need = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return {replacement_character, 1, false};
    }
    for (std::size_t k = 1; k <= need; ++k) {
        if (pos + k >= s.size()) return {replacement_character, k, false};
        const auto b = static_cast<unsigned char>(s[pos + k]);
        if (b < lo || b > hi) return {replacement_character, k, false};
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    return {cp, need + 1, true};
}


void append_utf8(char32_t cp, std::string& out) {
    char buf[4];
    out.append(buf, encode_utf8(cp, buf));
}

namespace {

constexpr bool in(char32_t cp, char32_t first, char32_t last) { return cp >= first && cp <= last; }
constexpr bool even(char32_t cp) { return (cp & 1u) == 0; }

}  // namespace

// The mappings follow UnicodeData.txt's simple lower-case field for the scripts crisisd sees in
// German and English social media (plus neighbours a keyword list might contain). No mapping here
// makes the UTF-8 longer, so folding never needs more bytes than its input.
char32_t detail::to_lower_mapped(char32_t cp) noexcept {
    if (cp < 0x80) return in(cp, 'A', 'Z') ? cp + 0x20 : cp;
    if (cp < 0x100) return (in(cp, 0xC0, 0xDE) && cp != 0xD7) ? cp + 0x20 : cp;
    if (cp < 0x180) {
        if (cp == 0x130) return 'i';
        if (cp == 0x178) return 0xFF;
        if (in(cp, 0x100, 0x137) && even(cp) && cp != 0x130) return cp + 1;
        if (in(cp, 0x139, 0x148) && !even(cp)) return cp + 1;
        if (in(cp, 0x14A, 0x177) && even(cp)) return cp + 1;
        if (in(cp, 0x179, 0x17E) && !even(cp)) return cp + 1;
        return cp;
    }
    if (cp < 0x250) {
        if (cp == 0x1C4 || cp == 0x1C7 || cp == 0x1CA || cp == 0x1F1) return cp + 2;
        if (in(cp, 0x1CD, 0x1DC) && !even(cp)) return cp + 1;
        if (in(cp, 0x1DE, 0x1EF) && even(cp)) return cp + 1;
        if (in(cp, 0x1F8, 0x21F) && even(cp)) return cp + 1;
        if (in(cp, 0x222, 0x233) && even(cp)) return cp + 1;
        if (in(cp, 0x246, 0x24F) && even(cp)) return cp + 1;
        return cp;
    }
    if (cp < 0x370) return cp;
    if (cp < 0x400) {
        if (cp == 0x386) return 0x3AC;
        if (in(cp, 0x388, 0x38A)) return cp + 37;
        if (cp == 0x38C) return 0x3CC;
        if (in(cp, 0x38E, 0x38F)) return cp + 63;
        if (in(cp, 0x391, 0x3AB) && cp != 0x3A2) return cp + 0x20;
        if (cp == 0x3CF) return 0x3D7;
        if (in(cp, 0x3D8, 0x3EF) && even(cp)) return cp + 1;
        if (cp == 0x3F4) return 0x3B8;
        if (cp == 0x3F7 || cp == 0x3FA) return cp + 1;
        if (cp == 0x3F9) return 0x3F2;
        return cp;
    }
    if (cp < 0x530) {
        if (in(cp, 0x400, 0x40F)) return cp + 0x50;
        if (in(cp, 0x410, 0x42F)) return cp + 0x20;
        if (in(cp, 0x460, 0x481) && even(cp)) return cp + 1;
        if (in(cp, 0x48A, 0x4BF) && even(cp)) return cp + 1;
        if (cp == 0x4C0) return 0x4CF;
        if (in(cp, 0x4C1, 0x4CE) && !even(cp)) return cp + 1;
        if (in(cp, 0x4D0, 0x52F) && even(cp)) return cp + 1;
        return cp;
    }
    if (in(cp, 0x531, 0x556)) return cp + 0x30;
    if (in(cp, 0x1E00, 0x1EFF)) {
        if (cp == 0x1E9E) return 0xDF;
        if ((in(cp, 0x1E00, 0x1E95) || in(cp, 0x1EA0, 0x1EFF)) && even(cp)) return cp + 1;
        return cp;
    }
    return cp;  // U+1F00 and above: to_lower() in utf8.hpp
}

bool is_lower(char32_t cp) noexcept {
    if (cp < 0x80) return in(cp, 'a', 'z');
    if (cp < 0x100) return cp == 0xB5 || (cp >= 0xDF && cp != 0xF7);
    // Above Latin Extended Additional the only mapping is fullwidth A-Z -> a-z: answered here
    // rather than by the search below (ten to_lower() calls), which the scorer's German case
    // folding ran for every typographic quote (U+2019 ...), ~375 instructions each.
    if (cp >= 0x1F00) return in(cp, 0xFF41, 0xFF5A);
    if (to_lower(cp) != cp) return false;
    switch (cp) {
        case 0x131: case 0x138: case 0x149: case 0x17F: case 0x3C2: case 0x3D0:
        case 0x3D1: case 0x3D5: case 0x3D6:
            return true;
        default:
            break;
    }
    // A lower-case letter is the image of some upper-case letter; every mapping in to_lower()
    // is one of these offsets.
    for (const char32_t delta : {1u, 2u, 0x20u, 0x30u, 0x50u, 37u, 38u, 63u, 64u}) {
        if (cp > delta && to_lower(cp - delta) == cp) return true;
    }
    return false;
}

bool is_space(char32_t cp) noexcept {
    if (cp < 0x80) return in(cp, 0x09, 0x0D) || in(cp, 0x1C, 0x20);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || in(cp, 0x2000, 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace crisisd::text
