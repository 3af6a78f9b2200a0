#include "text/post_length.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "text/utf8.hpp"

namespace crisisd::text {
namespace {

// ---- graphemes ------------------------------------------------------------------------------

// Code points that extend the cluster before them (UAX #29 Extend and ZWJ, the parts that occur
// in statements: combining marks, variation selectors, emoji modifiers and tags).
bool extends(char32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0xFE00 && c <= 0xFE0F) ||
           c == 0x200D || (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F) ||
           (c >= 0xE0100 && c <= 0xE01EF);
}

bool regional_indicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

// Extended_Pictographic, only the blocks emoji ZWJ sequences are built from and only ranges that
// lie wholly inside the property: a code point missing here ends a sequence early, which counts
// one cluster more, never fewer.
bool pictographic(char32_t c) {
    return (c >= 0x1F249 && c <= 0x1F3FA) || (c >= 0x1F400 && c <= 0x1F53D) || (c >= 0x1F546 && c <= 0x1F64F) ||
           (c >= 0x1F680 && c <= 0x1F6FF) || (c >= 0x1F90C && c <= 0x1F93A) || (c >= 0x1F93C && c <= 0x1F945) ||
           (c >= 0x1F947 && c <= 0x1FAFF) || (c >= 0x2614 && c <= 0x2685) || (c >= 0x2690 && c <= 0x2705) ||
           (c >= 0x2708 && c <= 0x2712) || c == 0x2744 || (c >= 0x2763 && c <= 0x2767) || c == 0x2B50 ||
           c == 0x2B55 || c == 0x00A9 || c == 0x00AE || c == 0x2122;
}

// ---- Mastodon's links -----------------------------------------------------------------------

constexpr std::size_t mastodon_link_length = 23;

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != prefix[i]) return false;
    return true;
}

// The protocols Mastodon turns into links (its config/initializers/twitter_regex.rb).
std::size_t protocol_length(std::string_view s) {
    static constexpr auto protocols = std::to_array<std::string_view>(
        {"https://", "http://", "dat://", "dweb://", "ipfs://", "ipns://", "ssb://", "gopher://", "gemini://"});
    for (auto p : protocols)
        if (starts_with_nocase(s, p)) return p.size();
    return 0;
}

// Top-level domains certainly on twitter-text's list, which Mastodon checks links against: the
// common generic ones and Europe's country codes. A link elsewhere counts as written.
bool known_tld(std::string_view tld) {
    static constexpr auto tlds = std::to_array<std::string_view>(
        {"app", "at",   "au",   "ba",   "be",     "bg",  "biz",    "blog", "by",   "ca", "ch",
         "co",  "com",  "cy",   "cz",   "de",     "dev", "dk",     "edu",  "ee",   "es", "eu",
         "fi",  "fr",   "gov",  "gr",   "hr",     "hu",  "ie",     "info", "io",   "is", "it",
         "li",  "live", "lt",   "lu",   "lv",     "md",  "me",     "mt",   "net",  "news", "nl",
         "no",  "online", "org", "pl",  "pt",     "ro",  "rs",     "ru",   "se",   "si", "sk",
         "social", "ua", "uk",  "us"});
    std::string folded(tld);
    for (char& c : folded) c = lower(c);
    return std::find(tlds.begin(), tlds.end(), folded) != tlds.end();
}

// A host of letter-digit-hyphen labels whose last label is a known top-level domain.
bool known_host(std::string_view host) {
    std::size_t labels = 0;
    std::string_view last;
    while (true) {
        const std::size_t dot = host.find('.');
        const std::string_view label = host.substr(0, dot);
        if (label.empty() || label.front() == '-' || label.back() == '-') return false;
        ++labels;
        last = label;
        if (dot == std::string_view::npos) break;
        host.remove_prefix(dot + 1);
    }
    return labels >= 2 && known_tld(last);
}

// Characters that cannot precede a link (twitter-text's valid_url_preceding_chars).
bool blocks_link(char32_t before) {
    if (before < 0x80) {
        const char c = static_cast<char>(before);
        return ascii_alnum(c) || c == '@' || c == '$' || c == '#';
    }
    return before == 0xFF20 || before == 0xFF04 || before == 0xFF03 || before == 0xFFFE || before == 0xFEFF ||
           before == 0xFFFF || (before >= 0x202A && before <= 0x202E);
}

bool in(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

struct link {
    std::size_t bytes = 0;  // 0: no link here
    bool known = false;     // Mastodon certainly links it
};

// The link that starts at the beginning of `s`, only ever as long as the one Mastodon finds
// there (ASCII only, no parentheses: where Mastodon's link goes on, the rest counts as text).
link link_at(std::string_view s, char32_t before) {
    if (blocks_link(before)) return {};
    const std::size_t protocol = protocol_length(s);
    if (protocol == 0) return {};
    std::size_t end = protocol;
    while (end < s.size() && (ascii_alnum(s[end]) || s[end] == '-' || s[end] == '.')) ++end;
    while (end > protocol && s[end - 1] == '.') --end;  // "… at https://example.at."
    if (end == protocol) return {};
    link l;
    l.known = known_host(s.substr(protocol, end - protocol));
    if (end < s.size() && (s[end] == '@' || s[end] == '+')) l.known = false;
    if (end + 1 < s.size() && s[end] == ':' && s[end + 1] >= '0' && s[end + 1] <= '9') {
        ++end;
        while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    }
    if (end < s.size() && s[end] == '/') {
        const std::size_t slash = end++;
        while (end < s.size() && s[end] > 0x20 && s[end] < 0x7F && !in(s[end], "<>()?")) ++end;
        while (end > slash + 1 && in(s[end - 1], "!*\"';:=,.$%[]~&|@")) --end;
    }
    if (end < s.size() && s[end] == '?') {
        const std::size_t mark = end++;
        while (end < s.size() && (ascii_alnum(s[end]) || in(s[end], "!?*';:&=+$/%#[]-_.,~|@^"))) ++end;
        while (end > mark + 1 && !(ascii_alnum(s[end - 1]) || in(s[end - 1], "_&=#/-"))) --end;
        if (end == mark + 1) end = mark;
    }
    l.bytes = end;
    return l;
}

// ---- X's weights ------------------------------------------------------------------------------

// twitter-text v3: the ranges that weigh 100 (one character); everything else weighs 200.
std::size_t x_weight(char32_t c) {
    const bool light = c <= 0x10FF || (c >= 0x2000 && c <= 0x200D) || (c >= 0x2010 && c <= 0x201F) ||
                       (c >= 0x2032 && c <= 0x2037);
    return light ? 1 : 2;
}

// A domain written without a protocol at the start of `s` ("liwest.at/status"), which X links
// too: letter-digit-hyphen labels, at least one dot, a last label of two or more letters, and
// any path up to the next space. Its length in bytes (ASCII), or 0.
std::size_t bare_domain_at(std::string_view s, char32_t before) {
    if (blocks_link(before) || before == '.' || before == '-' || before == '/') return 0;
    std::size_t end = 0;
    while (end < s.size() && (ascii_alnum(s[end]) || s[end] == '-' || s[end] == '.')) ++end;
    while (end > 0 && s[end - 1] == '.') --end;
    const std::string_view host = s.substr(0, end);
    const std::size_t last_dot = host.rfind('.');
    if (last_dot == std::string_view::npos || last_dot == 0) return 0;
    const std::string_view tld = host.substr(last_dot + 1);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), [](char c) { return ascii_alnum(c) && !(c >= '0' && c <= '9'); }))
        return 0;
    if (host.find("..") != std::string_view::npos) return 0;
    if (end < s.size() && s[end] == '/')
        while (end < s.size() && s[end] > 0x20 && s[end] < 0x7F) ++end;
    return end;
}

}  // namespace

post_limit post_limit_of(length_rule rule) {
    switch (rule) {
        case length_rule::mastodon: return {500, length_unit::characters, 0};
        case length_rule::bluesky: return {300, length_unit::graphemes, 3000};
        case length_rule::facebook: return {63206, length_unit::characters, 0};
        case length_rule::x: return {280, length_unit::characters, 0};
        case length_rule::code_points: break;
    }
    return {};
}

std::string_view unit_name(length_unit unit) {
    return unit == length_unit::graphemes ? "graphemes" : "characters";
}

std::size_t text_length(length_rule rule, std::string_view utf8) {
    switch (rule) {
        case length_rule::mastodon: return mastodon_length(utf8);
        case length_rule::bluesky: return count_graphemes(utf8);
        case length_rule::x: return x_length(utf8);
        case length_rule::facebook:
        case length_rule::code_points: break;
    }
    return count_code_points(utf8);
}

std::size_t count_code_points(std::string_view utf8) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < utf8.size(); i += decode_utf8(utf8, i).length) ++n;
    return n;
}

std::size_t count_graphemes(std::string_view utf8) {
    // Where the current cluster stands in GB11's ExtPict Extend* ZWJ × ExtPict.
    enum class emoji { none, pictograph, joiner };
    std::size_t n = 0;
    char32_t prev = 0;
    bool ri_open = false;  // a regional indicator waiting for its pair
    emoji seq = emoji::none;
    for (std::size_t i = 0; i < utf8.size();) {
        const decoded_char d = decode_utf8(utf8, i);
        i += d.length;
        const char32_t c = d.code_point;
        const bool zwj_join = seq == emoji::joiner && pictographic(c);
        const bool joins = n > 0 && (extends(c) || zwj_join || (regional_indicator(c) && ri_open) ||
                                     (prev == '\r' && c == '\n'));
        if (!joins) {
            ++n;
            seq = pictographic(c) ? emoji::pictograph : emoji::none;
        } else if (c == 0x200D) {
            seq = seq == emoji::pictograph ? emoji::joiner : emoji::none;
        } else if (zwj_join) {
            seq = emoji::pictograph;
        } else if (!extends(c) || seq != emoji::pictograph) {
            seq = emoji::none;
        }
        ri_open = regional_indicator(c) && !(joins && regional_indicator(prev));
        prev = c;
    }
    return n;
}

std::size_t mastodon_length(std::string_view utf8) {
    std::size_t n = 0;
    char32_t before = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        if (const link l = link_at(utf8.substr(i), before); l.bytes != 0) {
            n += l.known ? mastodon_link_length : std::max(mastodon_link_length, l.bytes);  // ASCII: bytes = chars
            i += l.bytes;
            before = static_cast<unsigned char>(utf8[i - 1]);
            continue;
        }
        const decoded_char d = decode_utf8(utf8, i);
        i += d.length;
        before = d.code_point;
        ++n;
    }
    return n;
}

std::size_t x_length(std::string_view utf8) {
    constexpr std::size_t x_link_length = 23;
    std::size_t n = 0;
    char32_t before = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        std::size_t bytes = 0;
        bool known = false;
        if (const link l = link_at(utf8.substr(i), before); l.bytes != 0) {
            bytes = l.bytes;
            known = l.known;
        } else {
            bytes = bare_domain_at(utf8.substr(i), before);
        }
        if (bytes != 0) {
            n += known ? x_link_length : std::max(x_link_length, bytes);  // ASCII: bytes = characters of weight 1
            i += bytes;
            before = static_cast<unsigned char>(utf8[i - 1]);
            continue;
        }
        const decoded_char d = decode_utf8(utf8, i);
        i += d.length;
        before = d.code_point;
        n += x_weight(d.code_point);
    }
    return n;
}

}  // namespace crisisd::text
