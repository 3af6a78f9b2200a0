#include "text/normalize.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text/utf8.hpp"

namespace crisisd::text {

static_assert(std::endian::native == std::endian::little, "guess_language() packs words with little-endian loads");

namespace {

// Eight bytes at a time: any byte with the high bit set ends the ASCII fast path.
bool all_ascii8(const char* p) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, sizeof w);
    return (w & 0x8080808080808080ull) == 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        if (i + 8 <= n && all_ascii8(s.data() + i)) {
            i += 8;
            continue;
        }
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const auto d = decode_utf8(s, i);
        if (!d.valid) return false;
        i += d.length;
    }
    return true;
}

namespace {

// Lower-cases the ASCII letters of eight ASCII bytes at once: a byte is in 'A'..'Z' when adding
// 0x3F sets its high bit and adding 0x25 does not (no byte is above 0x7F, so no carry crosses
// into the next byte); the 0x20 bit is then set in those bytes only.
std::uint64_t lower_ascii8(std::uint64_t w) {
    constexpr std::uint64_t high = 0x8080808080808080ull;
    const std::uint64_t at_least_a = w + 0x3F3F3F3F3F3F3F3Full;
    const std::uint64_t above_z = w + 0x2525252525252525ull;
    return w | ((at_least_a & ~above_z & high) >> 2);
}

#if defined(__SSE2__)
// `v` with its ASCII letters lower-cased. Signed compares: bytes >= 0x80 are negative and never
// in 'A'..'Z'.
__m128i lower_ascii16(__m128i v) {
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
    return _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
}

// Sixteen bytes of text with non-ASCII characters folded at once when every such character lies
// wholly inside them and is one whose folding needs no decoding: U+0080..U+00FF (two bytes, C2 or
// C3 first; C3 80..9E but C3 97 lower-case by +0x20 on the second byte), U+2000..U+CFFF and
// U+E000..U+EFFF (three bytes, E2..EC or EE first: to_lower() maps nothing there) and U+10000 and
// above (four bytes, F0 with a second byte >= 90, or F1..F3: nothing maps either). That is what
// German and English posts are made of: umlauts, typographic quotes and dashes, emoji. `lowered`
// is `v` with its ASCII letters lower-cased, `high` the mask of its bytes >= 0x80. Anything else
// (another script, a character cut by the block's end, invalid UTF-8) returns false and goes
// the character-at-a-time way. With only ASCII taken 16 bytes at a time, every non-ASCII
// character broke the run, and fold_case() was ~600 instructions a mention on the mixed benchmark
// stream (3.8 such characters in a 190-byte text; callgrind).
[[gnu::always_inline]] inline bool fold_common_block(__m128i v, __m128i lowered, unsigned high, __m128i& folded) {
    // Signed byte compares: 0x80..0xFF are -128..-1.
    const auto byte_at_least = [&](int b) { return _mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(b - 1))); };
    const auto byte_below = [&](int b) { return _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(b))); };
    const auto byte_is = [&](int b) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(b))); };
    const __m128i c3 = byte_is(0xC3);
    const __m128i lead2 = _mm_or_si128(byte_is(0xC2), c3);
    const __m128i lead3 = _mm_andnot_si128(byte_is(0xED), _mm_and_si128(byte_at_least(0xE2), byte_below(0xEF)));
    const __m128i f0 = byte_is(0xF0);
    const __m128i lead4 = _mm_and_si128(byte_at_least(0xF0), byte_below(0xF4));
    const __m128i continuation = _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8(static_cast<char>(0xC0))), _mm_set1_epi8(static_cast<char>(0x80)));
    // Where continuation bytes must be: one after each lead, two after a 3- or 4-byte lead, three
    // after a 4-byte lead (a byte shift moves each lead's mark to the following position).
    const __m128i lead34 = _mm_or_si128(lead3, lead4);
    const __m128i expected = _mm_or_si128(_mm_or_si128(_mm_slli_si128(_mm_or_si128(lead2, lead34), 1), _mm_slli_si128(lead34, 2)),
                                          _mm_slli_si128(lead4, 3));
    const auto mask = [](__m128i m) { return static_cast<unsigned>(_mm_movemask_epi8(m)); };
    const unsigned leads = mask(_mm_or_si128(lead2, lead34));
    if (mask(continuation) != mask(expected) || (leads | mask(continuation)) != high) return false;
    // No character runs past the block, and F0 starts no overlong form (F0 80..8F).
    if ((mask(lead2) & 0x8000u) != 0 || (mask(lead3) & 0xC000u) != 0 || (mask(lead4) & 0xE000u) != 0) return false;
    if (mask(_mm_and_si128(_mm_slli_si128(f0, 1), byte_below(0x90))) != 0) return false;
    const __m128i upper_latin1 = _mm_andnot_si128(byte_is(0x97), _mm_and_si128(_mm_slli_si128(c3, 1), byte_below(0x9F)));
    folded = _mm_or_si128(lowered, _mm_and_si128(upper_latin1, _mm_set1_epi8(0x20)));
    return true;
}
#endif

// Writes through a pointer into a buffer grown once, sixteen bytes at a time where it can, and
// copies multi-byte characters that do not change without encoding them again. The
// byte-at-a-time push_back it replaces cost ~25 instructions per byte and was 19% of the
// per-mention instructions on the mixed benchmark stream (183-byte German/English texts with
// emoji).
// fold_case() into `first`, which has room for 3 * utf8.size() bytes (valid UTF-8 never grows,
// see to_lower(); an invalid byte becomes U+FFFD, 3 bytes for 1). Returns the end written.
char* fold_into(std::string_view utf8, char* const first) {
    const std::size_t n = utf8.size();
    const char* const in = utf8.data();
    char* o = first;
    std::size_t i = 0;
    while (i < n) {
#if defined(__SSE2__)
        // Sixteen bytes folded and stored at once (see fold_common_block()); when some are not
        // ASCII nor such common characters, only the ASCII ones before the first are kept (the
        // rest is stored again later), so a text is not copied byte by byte from its first
        // unusual character to the end of its 8-byte word.
        if (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
            const __m128i lowered = lower_ascii16(v);
            const auto high = static_cast<unsigned>(_mm_movemask_epi8(v));
            if (high == 0) {
                _mm_storeu_si128(reinterpret_cast<__m128i*>(o), lowered);
                o += 16;
                i += 16;
                continue;
            }
            if (__m128i folded; fold_common_block(v, lowered, high, folded)) {
                _mm_storeu_si128(reinterpret_cast<__m128i*>(o), folded);
                o += 16;
                i += 16;
                continue;
            }
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), lowered);
            const auto ascii = static_cast<std::size_t>(std::countr_zero(high));
            o += ascii;
            i += ascii;  // in[i] is not ASCII: the eight-byte step below passes it on at once
        } else if (n >= 16 && i < n && static_cast<std::size_t>(o - first) == i) {
            // The last 1..15 bytes: the text's last sixteen bytes folded again as one block (the
            // ones before `i` come out as they did, as nothing so far changed length), instead of
            // the eight-byte and byte-at-a-time steps below, which were a fifth of this function.
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + n - 16));
            __m128i folded = lower_ascii16(v);
            const auto high = static_cast<unsigned>(_mm_movemask_epi8(v));
            if (high == 0 || fold_common_block(v, folded, high, folded)) {
                _mm_storeu_si128(reinterpret_cast<__m128i*>(o - (i - (n - 16))), folded);
                o += n - i;
                i = n;
                continue;
            }
        }
#endif
        if (i + 8 <= n) {
            std::uint64_t w = 0;
            std::memcpy(&w, in + i, sizeof w);
            if ((w & 0x8080808080808080ull) == 0) {
                w = lower_ascii8(w);
                std::memcpy(o, &w, sizeof w);
                o += 8;
                i += 8;
                continue;
            }
        }
        const auto b = static_cast<unsigned char>(in[i]);
        if (b < 0x80) {
            *o++ = static_cast<char>(b >= 'A' && b <= 'Z' ? b + 0x20 : b);
            ++i;
            continue;
        }
        // Latin-1 letters (äöüß, é...): U+00C0..U+00DE except × lower by +0x20 in the second byte.
        if (b == 0xC3 && i + 1 < n) {
            const auto b1 = static_cast<unsigned char>(in[i + 1]);
            if (b1 >= 0x80 && b1 <= 0xBF) {
                o[0] = static_cast<char>(b);
                o[1] = static_cast<char>(b1 <= 0x9E && b1 != 0x97 ? b1 + 0x20 : b1);
                o += 2;
                i += 2;
                continue;
            }
        }
        const auto d = decode_utf8(utf8, i);
        const char32_t lower = d.valid ? to_lower(d.code_point) : replacement_character;
        if (lower == d.code_point && d.valid) {
            // Unchanged: the original bytes, by fixed-size copies (a copy of d.length bytes was a
            // library call for every emoji and typographic quote).
            if (d.length == 4) {
                std::memcpy(o, in + i, 4);
            } else {
                std::memcpy(o, in + i, 2);
                if (d.length == 3) o[2] = in[i + 2];
            }
            o += d.length;
        } else {
            char buf[4];
            const std::size_t len = encode_utf8(lower, buf);
            std::memcpy(o, buf, len);
            o += len;
        }
        i += d.length;
    }
    return o;
}

}  // namespace

void fold_case(std::string_view utf8, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + 3 * utf8.size());
    char* const end = fold_into(utf8, out.data() + start);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

std::string_view fold_case_into(std::string_view utf8, std::string& buffer) {
    if (buffer.size() < 3 * utf8.size()) buffer.resize(3 * utf8.size());
    char* const end = fold_into(utf8, buffer.data());
    return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

namespace {

struct named_entity {
    std::string_view name;
    char32_t code_point;
};

// The references Mastodon and common CMS output actually produce; anything else is kept literally.
// Sorted by name for binary search.
constexpr std::array<named_entity, 78> named_entities{{
    {"AElig", 0xC6},   {"Aacute", 0xC1}, {"Agrave", 0xC0}, {"Auml", 0xC4},   {"Ccedil", 0xC7},
    {"Eacute", 0xC9},  {"Egrave", 0xC8}, {"Ntilde", 0xD1}, {"Ouml", 0xD6},   {"Uuml", 0xDC},
    {"aacute", 0xE1},  {"acirc", 0xE2},  {"aelig", 0xE6},  {"agrave", 0xE0}, {"amp", '&'},
    {"apos", '\''},    {"aring", 0xE5},  {"auml", 0xE4},   {"bdquo", 0x201E}, {"bull", 0x2022},
    {"ccedil", 0xE7},  {"cent", 0xA2},   {"copy", 0xA9},   {"deg", 0xB0},    {"divide", 0xF7},
    {"eacute", 0xE9},  {"ecirc", 0xEA},  {"egrave", 0xE8}, {"euml", 0xEB},   {"euro", 0x20AC},
    {"gt", '>'},       {"hearts", 0x2665}, {"hellip", 0x2026}, {"iacute", 0xED}, {"icirc", 0xEE},
    {"iexcl", 0xA1},   {"igrave", 0xEC}, {"iquest", 0xBF}, {"iuml", 0xEF},   {"laquo", 0xAB},
    {"ldquo", 0x201C}, {"lsaquo", 0x2039}, {"lsquo", 0x2018}, {"lt", '<'},    {"mdash", 0x2014},
    {"middot", 0xB7},  {"nbsp", ' '},    {"ndash", 0x2013}, {"ntilde", 0xF1}, {"oacute", 0xF3},
    {"ocirc", 0xF4},   {"ograve", 0xF2}, {"oslash", 0xF8}, {"ouml", 0xF6},   {"para", 0xB6},
    {"pound", 0xA3},   {"quot", '"'},    {"raquo", 0xBB},  {"rdquo", 0x201D}, {"reg", 0xAE},
    {"rsaquo", 0x203A}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"sect", 0xA7}, {"shy", 0xAD},
    {"szlig", 0xDF},   {"thinsp", 0x2009}, {"times", 0xD7}, {"trade", 0x2122}, {"uacute", 0xFA},
    {"ucirc", 0xFB},   {"ugrave", 0xF9}, {"uuml", 0xFC},   {"yen", 0xA5},    {"yuml", 0xFF},
    {"zwj", 0x200D},   {"zwnj", 0x200C}, {"zwsp", 0x200B},
}};

static_assert(std::is_sorted(named_entities.begin(), named_entities.end(),
                             [](const named_entity& a, const named_entity& b) { return a.name < b.name; }));

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_alnum(char c) { return ascii_alpha(c) || (c >= '0' && c <= '9'); }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 0x20) : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

// Decodes the character reference at html[pos] == '&'. Returns the bytes consumed, or 0 when it is
// not a reference we know (the '&' is then literal text, as browsers do for unknown names).
std::size_t decode_entity(std::string_view html, std::size_t pos, std::string& out) {
    const std::size_t limit = std::min(html.size(), pos + 34);
    std::size_t semi = pos + 1;
    while (semi < limit && html[semi] != ';' && (ascii_alnum(html[semi]) || html[semi] == '#')) ++semi;
    if (semi >= limit || html[semi] != ';' || semi == pos + 1) return 0;
    const std::string_view body = html.substr(pos + 1, semi - pos - 1);
    if (body[0] == '#') {
        std::uint32_t value = 0;
        std::size_t k = 1;
        const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
        if (hex) k = 2;
        if (k >= body.size()) return 0;
        for (; k < body.size(); ++k) {
            const char c = body[k];
            std::uint32_t digit = 0;
            if (c >= '0' && c <= '9') {
                digit = static_cast<std::uint32_t>(c - '0');
            } else if (hex && c >= 'a' && c <= 'f') {
                digit = static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (hex && c >= 'A' && c <= 'F') {
                digit = static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return 0;
            }
            value = value * (hex ? 16u : 10u) + digit;
            if (value > 0x10FFFF) value = 0x110000;  // saturate; encoded as U+FFFD below
        }
        append_utf8(value == 0 ? replacement_character : static_cast<char32_t>(value), out);
        return body.size() + 2;
    }
    const auto it = std::lower_bound(named_entities.begin(), named_entities.end(), body,
                                     [](const named_entity& e, std::string_view n) { return e.name < n; });
    if (it == named_entities.end() || it->name != body) return 0;
    if (it->code_point != 0xAD) append_utf8(it->code_point, out);  // soft hyphen: invisible
    return body.size() + 2;
}

// Finds the '>' closing the tag that starts at html[pos] == '<', skipping quoted attribute values.
std::size_t find_tag_end(std::string_view html, std::size_t pos) {
    char quote = 0;
    for (std::size_t i = pos + 1; i < html.size(); ++i) {
        const char c = html[i];
        if (quote != 0) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return i;
        }
    }
    return std::string_view::npos;
}

bool is_block_tag(std::string_view name) {
    for (const std::string_view b : {"p", "div", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4",
                                     "h5", "h6", "pre", "tr"}) {
        if (iequals(name, b)) return true;
    }
    return false;
}

}  // namespace

namespace {

// The first '<' or '&' at or after `from`, else html.size(). Sixteen bytes a step: the text
// between tags, a byte at a time, was ~140 instructions a mention on the mixed benchmark stream
// (a tenth of its mentions are HTML), most of strip_html().
std::size_t next_markup(std::string_view html, std::size_t from) {
    const char* const p = html.data();
    const std::size_t n = html.size();
    std::size_t j = from;
#if defined(__SSE2__)
    const __m128i lt = _mm_set1_epi8('<');
    const __m128i amp = _mm_set1_epi8('&');
    for (; j + 16 <= n; j += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp))));
        if (mask != 0) return j + static_cast<std::size_t>(std::countr_zero(mask));
    }
#endif
    while (j < n && p[j] != '<' && p[j] != '&') ++j;
    return j;
}

}  // namespace

void strip_html(std::string_view html, std::string& out) {
    const std::size_t start = out.size();
    bool pending_break = false;  // a block boundary was seen; emitted before the next text
    const auto emit_break_if_pending = [&] {
        if (pending_break && out.size() > start && out.back() != '\n') out.push_back('\n');
        pending_break = false;
    };
    std::size_t i = 0;
    const std::size_t n = html.size();
    while (i < n) {
        const char c = html[i];
        if (c == '<') {
            if (html.compare(i, 4, "<!--") == 0) {
                const std::size_t end = html.find("-->", i + 4);
                i = end == std::string_view::npos ? n : end + 3;
                continue;
            }
            const std::size_t end = find_tag_end(html, i);
            std::size_t name_begin = i + 1;
            const bool closing = name_begin < n && html[name_begin] == '/';
            if (closing) ++name_begin;
            std::size_t name_end = name_begin;
            while (name_end < n && ascii_alnum(html[name_end])) ++name_end;
            if (end == std::string_view::npos || name_end == name_begin) {
                emit_break_if_pending();
                out.push_back('<');  // a bare '<' in text, e.g. "a < b"
                ++i;
                continue;
            }
            const std::string_view name = html.substr(name_begin, name_end - name_begin);
            i = end + 1;
            if (iequals(name, "br")) {
                out.push_back('\n');
                pending_break = false;
            } else if (is_block_tag(name)) {
                pending_break = true;
            } else if (!closing && (iequals(name, "script") || iequals(name, "style"))) {
                // Skip the body up to the matching close tag (case-insensitive search).
                std::size_t j = i;
                while (j < n) {
                    const std::size_t lt = html.find("</", j);
                    if (lt == std::string_view::npos) {
                        j = n;
                        break;
                    }
                    if (iequals(html.substr(lt + 2, name.size()), name)) {
                        const std::size_t close = html.find('>', lt);
                        j = close == std::string_view::npos ? n : close + 1;
                        break;
                    }
                    j = lt + 2;
                }
                i = j;
            }
            continue;
        }
        emit_break_if_pending();
        if (c == '&') {
            const std::size_t used = decode_entity(html, i, out);
            if (used != 0) {
                i += used;
                continue;
            }
            out.push_back('&');
            ++i;
            continue;
        }
        const std::size_t j = next_markup(html, i + 1);
        out.append(html.data() + i, j - i);
        i = j;
    }
}

namespace {

// Function words that are frequent in one language and rare or absent in the other. Words that
// are common in both ("in", "so", "was", "will", "man", "die", "war", "also") are deliberately
// left out.
constexpr std::array<std::string_view, 96> german_words{
    "aber",   "alle",   "als",    "auch",   "auf",   "bei",    "bin",    "bis",   "bitte", "da",
    "dann",   "danke",  "das",    "dass",   "dein",  "deine",  "dem",    "den",   "der",   "des",
    "dich",   "dir",    "doch",   "du",     "durch", "ein",    "eine",   "einem", "einen", "einer",
    "echt",   "er",     "es",     "etwas",  "euch",  "für",    "fuer",   "ganz",  "geht",  "gibt",
    "habe",   "haben",  "hast",   "heute",  "hier",  "ich",    "ihr",    "im",    "immer", "ist",
    "jetzt",  "kann",   "kein",   "keine",  "leider", "mal",   "mehr",   "mein",  "meine", "mich",
    "mir",    "mit",    "nach",   "nicht",  "nichts", "noch",  "nur",    "oder",  "ohne",  "schon",
    "sehr",   "seit",   "sich",   "sie",    "sind",  "uns",    "und",    "vom",   "von",   "warum",
    "weil",   "wenn",   "werden", "wie",    "wieder", "wir",   "wird",   "wo",    "zu",    "zum",
    "zur",    "über",   "ueber",  "wurde",  "nix",   "gerade",
};
constexpr std::array<std::string_view, 96> english_words{
    "about",  "again", "all",   "am",     "an",    "and",     "are",   "at",    "be",     "because",
    "been",   "but",   "by",    "can",    "can't", "could",   "did",   "didn't", "do",    "does",
    "doesn't", "don't", "for",  "from",   "get",   "got",     "had",   "has",   "have",   "he",
    "her",    "here",  "him",   "his",    "how",   "i",       "i'm",   "if",    "is",     "isn't",
    "it",     "it's",  "its",   "just",   "me",    "my",      "not",   "now",   "of",     "on",
    "only",   "or",    "our",   "out",    "please", "really", "she",   "should", "some",  "still",
    "than",   "thank", "thanks", "that",  "the",   "their",   "them",  "there", "they",   "this",
    "to",     "today", "up",    "us",     "very",  "want",    "we",    "were",  "what",   "when",
    "where",  "which", "while", "who",    "why",   "with",    "won't", "would", "you",    "your",
    "yet",    "i've",  "we're", "they're", "you're", "what's",
};

// Stop words are at most 8 bytes, so each packs into one integer, and both lists go into one
// table built at compile time: 1,024 buckets of two keys, with a multiplier for the hash chosen
// (from a fixed sequence, by the compiler) so that no bucket gets a third. A word is then one
// multiply and two compares, without a branch: whether a word is a stop word is as unpredictable
// as words are, and the probe loop of an open-addressing table mispredicted on it.
constexpr std::uint64_t pack(std::string_view w) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < w.size() && i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(w[i])} << (8 * i);
    return v;
}

enum : std::uint8_t { stop_de = 1, stop_en = 2 };

constexpr std::size_t stop_bucket_bits = 10;

struct stop_table {
    std::uint64_t multiplier = 0;
    std::array<std::uint64_t, 2 << stop_bucket_bits> keys{};  // bucket b: keys[2b], keys[2b + 1]; 0 empty
    std::array<std::uint8_t, 2 << stop_bucket_bits> languages{};

    constexpr std::size_t bucket(std::uint64_t key) const { return (key * multiplier) >> (64 - stop_bucket_bits); }
};

constexpr bool all_short(const auto& words) {
    for (const auto w : words) {
        if (w.size() > 8) return false;
    }
    return true;
}
static_assert(all_short(german_words) && all_short(english_words));

constexpr stop_table build_stop_table() {
    std::uint64_t candidate = 0x9E3779B97F4A7C15ull;
    for (;;) {
        stop_table t;
        t.multiplier = candidate | 1;
        const auto add = [&](std::string_view w, std::uint8_t language) {
            const std::uint64_t key = pack(w);
            const std::size_t first = 2 * t.bucket(key);
            for (std::size_t i = first; i < first + 2; ++i) {
                if (t.keys[i] == key || t.keys[i] == 0) {
                    t.keys[i] = key;
                    t.languages[i] |= language;
                    return true;
                }
            }
            return false;  // a third key in the bucket: try the next multiplier
        };
        bool fits = true;
        for (const auto w : german_words) fits = fits && add(w, stop_de);
        for (const auto w : english_words) fits = fits && add(w, stop_en);
        if (fits) return t;
        candidate = candidate * 6364136223846793005ull + 1442695040888963407ull;
    }
}

// Whether the packed word `key` is a German and/or English stop word (stop_de | stop_en).
std::uint8_t stop_word_languages(std::uint64_t key) {
    static constexpr stop_table table = build_stop_table();
    const std::size_t first = 2 * table.bucket(key);
    const auto hit = [&](std::size_t i) { return static_cast<std::uint8_t>(-static_cast<int>(table.keys[i] == key)); };
    return static_cast<std::uint8_t>((hit(first) & table.languages[first]) | (hit(first + 1) & table.languages[first + 1]));
}

// High bit of each byte of `w` that is neither an ASCII letter nor the apostrophe.
constexpr std::uint64_t non_word_bytes(std::uint64_t w) {
    constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    constexpr std::uint64_t high = 0x8080808080808080ull;
    const std::uint64_t seven = (w | 0x2020202020202020ull) & low7;  // letters lower-cased
    const std::uint64_t letter = (seven + 0x1F1F1F1F1F1F1F1Full) & ~(seven + 0x0505050505050505ull) & ~w & high;
    const std::uint64_t e = w ^ 0x2727272727272727ull;
    const std::uint64_t apostrophe = ~(((e & low7) + low7) | e) & high;
    return ~(letter | apostrophe) & high;
}

}  // namespace

namespace {

// ASCII letters and the apostrophe: the bytes that continue an ASCII run of a word.
constexpr auto word_byte = [] {
    std::array<bool, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    t['\''] = true;
    return t;
}();

struct language_evidence {
    int de = 0;
    int en = 0;
    int umlauts = 0;

    void add(std::uint8_t languages) {
        de += languages & stop_de;
        en += (languages & stop_en) >> 1;
    }
    void word(std::uint64_t key) { add(stop_word_languages(key)); }
};

// The words of data[i, e), a stretch that has bytes >= 0x80, a character at a time: ASCII runs
// of a word 8 bytes at a time, then ä ö ü ß (either case) and the typographic apostrophe inside
// words, any other character ending one. data[e] (when e < n) ends a word, as does the end.
void read_words_by_character(const char* data, std::size_t size, std::size_t n, std::size_t i, std::size_t e,
                             language_evidence& evidence) {
    // The current word packed as pack() would pack it (lower case), built as it is read; len > 8
    // means too long to be a stop word.
    std::uint64_t key = 0;
    std::size_t len = 0;
    const auto finish_word = [&] {
        if (len > 0 && len <= 8) evidence.word(key);
        key = 0;
        len = 0;
    };
    while (i < e) {
        const auto b = static_cast<unsigned char>(data[i]);
        if (word_byte[b]) {
            // A run of ASCII letters and apostrophes, appended to the word at once: OR 0x20
            // lower-cases a letter and leaves the apostrophe (0x27) as it is.
            std::uint64_t w = 0;
            std::size_t j = i + 1;
            if (size - i >= 8) {
                std::memcpy(&w, data + i, 8);  // little-endian: byte k is data[i + k]
                // The run's end from the same 8 bytes, without a loop whose exit mispredicts once
                // per word (words of 8 letters or more continue byte by byte).
                if (const std::uint64_t other = non_word_bytes(w); other != 0) {
                    j = std::min(i + static_cast<std::size_t>(std::countr_zero(other) / 8), n);
                } else {
                    j = std::min(i + 8, n);
                    while (j < n && word_byte[static_cast<unsigned char>(data[j])]) ++j;
                }
            } else {
                while (j < n && word_byte[static_cast<unsigned char>(data[j])]) ++j;
                for (std::size_t k = 0; k < j - i; ++k) {
                    w |= std::uint64_t{static_cast<unsigned char>(data[i + k])} << (8 * k);
                }
            }
            const std::size_t run = j - i;
            if (len + run <= 8) {
                const std::uint64_t mask = ~std::uint64_t{0} >> (64 - 8 * run);
                key |= ((w | 0x2020202020202020ull) & mask) << (8 * len);
            }
            len += run;
            i = j;
            continue;
        }
        if (b < 0x80) {
            if (len > 0) finish_word();
            ++i;
            continue;
        }
        // ä ö ü ß (either case) continue a word as their lower-case UTF-8 bytes.
        if (b == 0xC3 && i + 1 < n) {
            const auto b1 = static_cast<unsigned char>(data[i + 1]);
            if (b1 == 0x84 || b1 == 0xA4 || b1 == 0x96 || b1 == 0xB6 || b1 == 0x9C || b1 == 0xBC || b1 == 0x9F) {
                ++evidence.umlauts;
                const std::uint64_t two = 0xC3u | (std::uint64_t{b1 == 0x9F ? b1 : (b1 | 0x20u)} << 8);
                if (len < 8) key |= two << (8 * len);  // at len 7 the second byte falls off (8 bytes kept)
                len += 2;
                i += 2;
                continue;
            }
        }
        const auto d = decode_utf8(std::string_view(data, n), i);
        const char32_t lower = to_lower(d.code_point);
        if (lower == 0xE4 || lower == 0xF6 || lower == 0xFC || lower == 0xDF) {
            ++evidence.umlauts;
            const std::uint64_t two = 0xC3u | (std::uint64_t{0x80u | (lower & 0x3Fu)} << 8);
            if (len < 8) key |= two << (8 * len);
            len += 2;
        } else if (lower == 0x2019 && len > 0) {  // typographic apostrophe in "don’t"
            if (len < 8) key |= std::uint64_t{'\''} << (8 * len);
            ++len;
        } else {
            finish_word();
        }
        i += d.length;
    }
    finish_word();
}

// Bit k of a bit set over the text's first 2 KiB (a zero word past the end).
using text_bits = std::array<std::uint64_t, 2048 / 64 + 1>;

// The first set bit at or after `from`, or `limit` when none is before it.
std::size_t next_set(const text_bits& bits, std::size_t from, std::size_t limit) {
    std::size_t word = from / 64;
    std::uint64_t w = bits[word] & (~std::uint64_t{0} << (from % 64));
    while (w == 0) {
        if (++word * 64 >= limit) return limit;
        w = bits[word];
    }
    return std::min(word * 64 + static_cast<std::size_t>(std::countr_zero(w)), limit);
}

// The first clear bit at or after `from` (the bit set ends with a zero word).
std::size_t next_clear(const text_bits& bits, std::size_t from) {
    std::size_t word = from / 64;
    std::uint64_t w = ~bits[word] & (~std::uint64_t{0} << (from % 64));
    while (w == 0) w = ~bits[++word];
    return word * 64 + static_cast<std::size_t>(std::countr_zero(w));
}

}  // namespace

// The text's bytes are classified sixteen at a time into two bit sets, word bytes (ASCII letters,
// the apostrophe, and every byte >= 0x80) and bytes >= 0x80; each run of word bytes between ASCII
// separators is then one step: a run without non-ASCII bytes is a word, packed with one load,
// and the rare run with them is read a character at a time. Byte by byte, with a branch per
// separator and per word end and a probe loop per word, this was ~4% of crisisd's CPU on the
// mixed benchmark stream although only its 15% of mentions without a `lang` need it (~3,000
// instructions for a 184-byte text, ~56 mispredicted branches under cachegrind's model; now 23,
// and 1-3% more mentions per CPU-second for crisisd there).
std::string_view guess_language(std::string_view text) {
    const char* const data = text.data();
    const std::size_t size = text.size();
    const std::size_t n = std::min<std::size_t>(size, 2048);
    text_bits run_bits{};
    text_bits high_bits{};
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
        // Signed compares: bytes >= 0x80 are negative; OR 0x20 makes A-Z a-z and no other byte a letter.
        const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
        const __m128i word = _mm_or_si128(letter, _mm_cmpeq_epi8(v, _mm_set1_epi8('\'')));
        const auto high = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(v)));
        const auto run = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(word, v))));
        run_bits[i / 64] |= run << (i % 64);
        high_bits[i / 64] |= high << (i % 64);
    }
#endif
    for (; i < n; ++i) {
        const auto b = static_cast<unsigned char>(data[i]);
        const std::uint64_t bit = std::uint64_t{1} << (i % 64);
        if (b >= 0x80) high_bits[i / 64] |= bit;
        if (b >= 0x80 || word_byte[b]) run_bits[i / 64] |= bit;
    }
    language_evidence evidence;
    // Each run of word bytes once, from its first byte's bit; `continued`: the chunk before
    // ended inside a run (which was read whole when it started).
    std::uint64_t continued = 0;
    for (std::size_t chunk = 0; chunk * 64 < n; ++chunk) {
        const std::uint64_t run = run_bits[chunk];
        std::uint64_t starts = run & ~((run << 1) | continued);
        continued = run >> 63;
        for (; starts != 0; starts &= starts - 1) {
            const auto bit = static_cast<unsigned>(std::countr_zero(starts));
            const std::size_t start = chunk * 64 + bit;
            // The run's end and whether it has bytes >= 0x80: from this chunk's bits, unless the
            // run goes on into the next chunk.
            std::size_t end = 0;
            bool has_high = false;
            if (const std::uint64_t rest = ~run >> bit; rest != 0) {
                const auto length = static_cast<unsigned>(std::countr_zero(rest));  // <= 63 - bit
                end = start + length;
                has_high = ((high_bits[chunk] >> bit) & ((std::uint64_t{1} << length) - 1)) != 0;
            } else {
                end = next_clear(run_bits, start);
                has_high = next_set(high_bits, start, end) != end;
            }
            if (has_high) {
                read_words_by_character(data, size, n, start, end, evidence);
                continue;
            }
            const std::size_t length = end - start;
            const std::size_t packed = std::min<std::size_t>(length, 8);
            std::uint64_t w = 0;
            if (size - start >= 8) {
                std::memcpy(&w, data + start, 8);
            } else {
                for (std::size_t k = 0; k < packed; ++k) w |= std::uint64_t{static_cast<unsigned char>(data[start + k])} << (8 * k);
            }
            const std::uint64_t key = (w | 0x2020202020202020ull) & (~std::uint64_t{0} >> (64 - 8 * packed));
            // A word over 8 bytes is no stop word: looked up all the same, and its answer dropped.
            evidence.add(static_cast<std::uint8_t>(stop_word_languages(key) & -static_cast<int>(length <= 8)));
        }
    }
    // Umlauts and ß are strong evidence for German, but one name ("Müller") should not outweigh
    // a sentence of English function words.
    const int de_score = evidence.de + std::min(evidence.umlauts, 2);
    if (de_score == evidence.en) return {};
    return de_score > evidence.en ? std::string_view("de") : std::string_view("en");
}

}  // namespace crisisd::text
