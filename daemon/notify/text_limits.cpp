// Text limits of the posting channels, so config load can refuse a statement that a network
// would reject with a 422/400 at the worst possible moment.
#include <cstdint>

#include "notify/settings.hpp"

namespace crisisd::notify {
namespace {

// Decodes one UTF-8 sequence; invalid bytes count as one code point each (the config loader
// rejects invalid UTF-8 elsewhere).
char32_t next(std::string_view s, std::size_t& i) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    if (i + static_cast<std::size_t>(len) > s.size()) len = 1;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
    i += static_cast<std::size_t>(len);
    return cp;
}

// Code points that extend the cluster before them (UAX #29 Extend/SpacingMark/ZWJ, the parts
// that occur in statements: combining marks, variation selectors, emoji modifiers and tags).
bool extends(char32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0xFE00 && c <= 0xFE0F) ||
           c == 0x200D || (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F) ||
           (c >= 0xE0100 && c <= 0xE01EF);
}

bool regional_indicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

}  // namespace

bool posts_statements(std::string_view type) { return type == "mastodon" || type == "bluesky"; }

std::size_t text_limit(std::string_view type) {
    if (type == "mastodon") return 500;
    if (type == "bluesky") return 300;
    return 0;
}

std::size_t text_length(std::string_view type, std::string_view utf8) {
    std::size_t n = 0;
    std::size_t i = 0;
    if (type != "bluesky") {
        while (i < utf8.size()) {
            next(utf8, i);
            ++n;
        }
        return n;
    }
    char32_t prev = 0;
    bool after_zwj = false;
    bool ri_open = false;  // a regional indicator waiting for its pair
    while (i < utf8.size()) {
        char32_t c = next(utf8, i);
        bool joins = n > 0 && (extends(c) || after_zwj || (regional_indicator(c) && ri_open) ||
                               (prev == '\r' && c == '\n'));
        if (!joins) ++n;
        ri_open = regional_indicator(c) && !(joins && regional_indicator(prev));
        after_zwj = c == 0x200D;
        prev = c;
    }
    return n;
}

}  // namespace crisisd::notify
