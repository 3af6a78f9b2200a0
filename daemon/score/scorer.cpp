#include "score/scorer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "score/detail/emoji_pass.hpp"
#include "score/detail/lexicons.hpp"
#include "text/normalize.hpp"
#include "text/utf8.hpp"

namespace crisisd::score {

namespace {

using detail::entry;
using detail::lexicons;

// vaderSentiment.py constants.
constexpr double c_incr = 0.733;
constexpr double n_scalar = -0.74;
constexpr double b_decr = -0.293;
constexpr double alpha = 15;
// German: "kein Internet", "ohne Strom" - a missing service is a complaint of roughly the weight
// of "Störung" in our lexicon, although neither word is negative by itself.
constexpr double missing_service_valence = -1.8;

enum class language { english, german };

struct token {
    std::string_view lower;  // the word after the punctuation strip, case-folded (typographic
                             // apostrophe folded to '); a view into scratch::lower
    const entry* e = nullptr;
    bool foreign = false;     // German text, entry from the English lexicon: valence only
    bool upper = false;       // Python str.isupper()
    bool clause_end = false;  // the whitespace token ended a clause (, . ; : ! ?)
    bool from_emoji = false;  // a word of an emoji's description
    bool consumed = false;    // continuation of a German multi-word entry
};

// One English token as the reference port sees it.
struct en_token {
    std::string_view lower;    // the token as the port keeps it, lower-cased for lookups
    const entry* e = nullptr;  // entry of `lower` (reference lexicon; 3.3.2 for emoji words)
    std::uint8_t word = 0;     // detail::english_word id of `lower` (0 if none or elongated)
    bool upper = false;        // the port's is_upper_python()
    bool cased = false;        // written with upper case: case-sensitive word lists cannot match
    bool nt = false;           // contains "n't" (or "n’t", crisisd addition)
};

// The tokens of an emoji's description, made once per process by the tokenizers themselves
// (described_emoji_words()): a described emoji stands in the text as one token, which the
// tokenizers replace by these. Its description words used to be copied into the text, then
// tokenised, hashed and looked up in every mention that has one (most of the mixed benchmark
// stream's): ~490 instructions a mention on that stream (callgrind, scoring only: 9,946 -> 9,459
// with the German lookup's from_emoji test this made unneeded).
struct described_emoji {
    std::vector<en_token> english;  // lower: views into lower_english
    std::vector<token> german;      // lower: views into lower_german
    int exclamations = 0;           // German counts the description's "!" and "?" ("ON! arrow")
    int questions = 0;
    bool clause_before = false;  // German: the description starts with free-standing punctuation
    std::string lower_english;
    std::string lower_german;
};

// Per-thread buffers: they grow to the largest mention a thread has seen and are then reused, so
// steady-state scoring does not touch the heap.
struct scratch {
    std::string clean;
    // The text with its ASCII letters lower-cased at [0, n), then the folded forms of tokens with
    // non-ASCII bytes: an ASCII token's lower-case form is a view at its own offset (lower_text()).
    std::string lower;
    std::string key;  // a German multi-word key whose words are not one space apart in the text
    std::vector<token> tokens;        // German
    std::vector<en_token> en_tokens;  // English
    // The tokens that can have a sentiment (English: rated; German: with an entry), in order, and
    // their sentiments: the rules and VADER's sums run over these few instead of every token, whose
    // other sentiments are all 0 (3% fewer instructions on the mixed benchmark stream).
    std::vector<std::uint32_t> scored;
    std::vector<double> sentiments;
    std::size_t upper = 0;  // tokens in ALL-CAPS
    bool text_runs = false;  // German: text_has_letter_run() of `lower`
    std::size_t but = 0;        // English: the first "but", else tokens.size()
    std::size_t upper_but = 0;  // English: the first "BUT", else tokens.size()
    detail::emoji_marks emoji;  // the described emoji in `clean` (replace_emoji())
    bool describing = false;     // tokenising an emoji's description (described_emoji)
    const std::vector<described_emoji>* described = nullptr;  // by index in lexicons::emoji
    bool clause_before = false;  // German: free-standing punctuation before the first token
    int exclamations = 0;
    int questions = 0;
};

scratch& thread_scratch() {
    thread_local scratch s;
    return s;
}

static_assert(std::endian::native == std::endian::little, "the 8-byte word tricks below assume little-endian loads");

// Byte classes for the tokenizer.
// k_space is JavaScript's ASCII \s; Python's str.split() (German) also splits at k_space_py.
// k_space_lead: a byte that can start a non-ASCII space (U+0085, U+00A0, U+1680, U+2000..U+200A,
// U+2028/9, U+202F, U+205F, U+3000, U+FEFF): only those need decoding to find a token's end.
enum : std::uint16_t {
    k_space = 1, k_punct = 2, k_upper = 4, k_lower = 8, k_high = 16, k_bang = 32, k_quest = 64, k_space_py = 128,
    k_space_lead = 256, k_clause = 512, k_colon = 1024,
    k_apostrophe = 2048,
};
constexpr std::array<std::uint16_t, 256> byte_class = [] {
    std::array<std::uint16_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        std::uint16_t k = 0;
        if (c == ' ' || (c >= 0x09 && c <= 0x0D)) k |= k_space;
        if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')) {
            k |= k_punct;
        }
        if (c >= 'A' && c <= 'Z') k |= k_upper;
        if (c >= 'a' && c <= 'z') k |= k_lower;
        if (c >= 0x80) k |= k_high;
        if (c == '!') k |= k_bang;
        if (c == '?') k |= k_quest;
        if ((k & k_space) != 0 || (c >= 0x1C && c <= 0x1F)) k |= k_space_py;
        if (c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3 || c == 0xEF) k |= k_space_lead;
        if (c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?') k |= k_clause;
        if (c == ':') k |= k_colon;
        if (c == '\'') k |= k_apostrophe;
        t[static_cast<std::size_t>(c)] = k;
    }
    return t;
}();
inline std::uint16_t class_of(char c) { return byte_class[static_cast<unsigned char>(c)]; }

// How many of the 8 bytes at p, from the first, are ASCII lower-case letters (8: all). The
// tokenizers skip such a run at once: their byte-at-a-time loop (a class lookup and three tests
// per byte) was a fifth of scoring on the mixed benchmark stream, and most bytes of a word are
// lower-case letters, whose byte class is k_lower alone.
inline std::size_t lower_letter_run(const char* p) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    constexpr std::uint64_t high = 0x8080808080808080ull;
    const std::uint64_t seven = w & 0x7F7F7F7F7F7F7F7Full;
    // High bit of each byte: >= 'a', and not > 'z', and ASCII.
    const std::uint64_t lower = (seven + 0x1F1F1F1F1F1F1F1Full) & ~(seven + 0x0505050505050505ull) & ~w & high;
    const std::uint64_t other = ~lower & high;
    return other == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(other) / 8);
}

// Python's string.punctuation.
bool is_punct(char c) {
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 0x20);
        if (c != prefix[i]) return false;
    }
    return true;
}

// Links and @handles carry no sentiment and, left in, would count as neutral words. `colon`: the
// token has a ':' (from the tokenizer's byte classes), without which it has no "://" either -
// most tokens with punctuation are words with a comma or a full stop, which then cost one test.
bool is_link_or_handle(std::string_view raw, bool colon) {
    while (!raw.empty() && (raw.front() == '(' || raw.front() == '<' || raw.front() == '"')) raw.remove_prefix(1);
    if (raw.size() > 1 && raw.front() == '@' && (is_ascii_alnum(raw[1]) || raw[1] == '_')) return true;
    if (starts_with_ci(raw, "www.")) return true;
    if (!colon) return false;
    if (starts_with_ci(raw, "http://") || starts_with_ci(raw, "https://")) return true;
    return raw.find("://") != std::string_view::npos;
}

const entry* find_shortened(const detail::word_table& table, std::string_view w);

// A lower-cased token that starts with "http://", "https://", or "@" and a letter, digit or "_".
bool is_web_address_or_handle(std::string_view w) {
    if (w.size() > 1 && w[0] == '@') return is_ascii_alnum(w[1]) || w[1] == '_';
    return w.starts_with("http://") || w.starts_with("https://");
}

// Bytes after the end of any token that scratch::lower keeps readable (has_letter_run()).
constexpr std::size_t lower_slack = 40;

// Elongated words ("goooood", "sooo", "neeein"): runs of three or more identical letters are
// tried shortened to two, then to one letter, when the word as written is unknown. `w` lies in
// scratch::lower, so 18 bytes from its start can be read. Runs for nearly every token (every
// one no lexicon has); a word of up to 16 bytes is tested with three overlapping 16-byte
// compares and no loop: the byte loop's exit, at a different length each word, was the scorer's
// most mispredicted branch (cachegrind --branch-sim over the mixed stream's texts: 8% of its
// mispredictions, ~17 a mention).
bool has_letter_run(std::string_view w) {
#if defined(__SSE2__)
    if (w.size() <= 16) {
        const char* p = w.data();
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
        const __m128i same = _mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(b, c));
        // Signed compares: bytes >= 0x80 are negative and never in 'a'..'z'.
        const __m128i letter =
            _mm_and_si128(_mm_cmpgt_epi8(a, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(a, _mm_set1_epi8('z' + 1)));
        const auto runs = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(same, letter)));
        // Bit i: w[i, i + 3) is one letter three times; only i + 3 <= w.size() counts.
        const unsigned inside = w.size() >= 3 ? (1u << (w.size() - 2)) - 1 : 0;
        return (runs & inside) != 0;
    }
#endif
    for (std::size_t i = 2; i < w.size(); ++i) {
        if (w[i] == w[i - 1] && w[i] == w[i - 2] && w[i] >= 'a' && w[i] <= 'z') return true;
    }
    return false;
}

// Whether has_letter_run() can be true for any word lying in lower[0, n) (the text lower-cased;
// 18 bytes after it readable): false when no letter a-z stands three times in a row anywhere in
// it, as in most mentions (89% of the mixed benchmark stream's). The per-word test then runs only
// for texts with such a run ("sooo", or a link's "www"): it ran for nearly every token (every one
// no lexicon has), ~540 instructions an English mention of that stream and ~370 a German one,
// against ~240 for this test.
bool text_has_letter_run(const char* lower, std::size_t n) {
#if defined(__SSE2__)
    const __m128i before_a = _mm_set1_epi8('a' - 1);
    const __m128i after_z = _mm_set1_epi8('z' + 1);
    // Runs starting in the 16 bytes at p.
    const auto runs_at = [&](const char* p) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
        const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
        // Signed compares: bytes >= 0x80 are negative and never in 'a'..'z'.
        const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(a, before_a), _mm_cmplt_epi8(a, after_z));
        return _mm_and_si128(letter, _mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(b, d)));
    };
    // Blocks whose runs lie wholly in the text are or-ed together and tested once.
    __m128i any = _mm_setzero_si128();
    std::size_t c = 0;
    for (; c + 18 <= n; c += 16) any = _mm_or_si128(any, runs_at(lower + c));
    auto runs = static_cast<unsigned>(_mm_movemask_epi8(any));
    if (c + 2 < n) runs |= static_cast<unsigned>(_mm_movemask_epi8(runs_at(lower + c))) & ((1u << (n - 2 - c)) - 1);
    return runs != 0;
#else
    return has_letter_run({lower, n});
#endif
}

// `w` as written (hash `h`), else shortened when `run` (= has_letter_run(w)).
const entry* find_elongated(const detail::word_table& table, std::string_view w, std::uint64_t h, bool run) {
    if (const entry* e = table.find(w, h)) return e;
    return run ? find_shortened(table, w) : nullptr;
}

bool in_lexicon(const token& t) { return t.e != nullptr && t.e->has(entry::has_valence); }

// German: whether german_rules can give the token a sentiment other than 0, or must see it (a
// contrast word, "weder"). Most German entries are neither: neutral words such as "die" or "war",
// whose entry only blocks the compound and English fallbacks; visiting them was ~350 instructions
// a mention of the mixed benchmark stream (release build).
bool may_score(const token& t) {
    if (t.e == nullptr) return false;
    constexpr std::uint32_t own_flags = entry::phrase_start | entry::service_noun | entry::contrast | entry::weder;
    return t.e->has(entry::has_valence) || (!t.foreign && (t.e->flags & own_flags) != 0);
}

// ---------------------------------------------------------------------------------------------
// Shared front end: emoji -> descriptions, whitespace split, links/handles, punctuation strip.

// German path only: emoticons not in either lexicon (":-)))", ";-]", ">:(") by their mouth.
double emoticon_valence(std::string_view w) {
    std::size_t i = 0;
    if (i < w.size() && (w[i] == '>' || w[i] == '}')) ++i;
    if (i >= w.size() || (w[i] != ':' && w[i] != ';' && w[i] != '=')) return 0;
    ++i;
    while (i < w.size() && (w[i] == '-' || w[i] == '\'' || w[i] == 'o' || w[i] == '^')) ++i;
    if (i >= w.size()) return 0;
    const std::string_view mouth = w.substr(i);
    if (mouth.find_first_not_of(")]}d3*>p") == std::string_view::npos) return 2.0;
    if (mouth.find_first_not_of("([{<|/\\@") == std::string_view::npos) return -2.0;
    return 0;
}

// The first character emoticon_valence() needs (a cheap test before the call).
bool may_be_emoticon(std::string_view w) {
    const char c = w.empty() ? '\0' : w[0];
    return c == ':' || c == ';' || c == '=' || c == '>' || c == '}';
}

// "hahaha", "hihihi", "hehe": laughter of any length.
bool is_laughter(std::string_view w) {
    if (w.size() < 4 || w.size() % 2 != 0) return false;
    const char vowel = w[1];
    if (vowel != 'a' && vowel != 'e' && vowel != 'i') return false;
    for (std::size_t i = 0; i < w.size(); i += 2) {
        if (w[i] != 'h' || w[i + 1] != vowel) return false;
    }
    return true;
}

std::size_t whitespace_length(std::string_view s, std::size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return ((b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20)) ? 1 : 0;
    const auto d = text::decode_utf8(s, i);
    return text::is_space(d.code_point) ? d.length : 0;
}

// ASCII lower-casing of p[0, n) into out, 8 bytes at a time while 8 bytes can be read before
// `limit` (the end of the text): bytes 'A'..'Z' get 0x20 added. May write up to 7 bytes past
// out + n, which the callers' buffers leave room for.
void lower_ascii(const char* p, std::size_t n, const char* limit, char* out) {
    std::size_t c = 0;
    for (; c < n && limit - (p + c) >= 8; c += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + c, 8);
        const std::uint64_t seven = w & 0x7F7F7F7F7F7F7F7Full;
        // High bit of each byte: >= 'A', and not > 'Z', and ASCII.
        const std::uint64_t upper =
            (seven + 0x3F3F3F3F3F3F3F3Full) & ~(seven + 0x2525252525252525ull) & ~w & 0x8080808080808080ull;
        w |= upper >> 2;
        std::memcpy(out + c, &w, 8);
    }
    for (; c < n; ++c) out[c] = (p[c] >= 'A' && p[c] <= 'Z') ? static_cast<char>(p[c] + 0x20) : p[c];
}

// The whole text lower-cased (ASCII letters; other bytes as they are) into out[0, n), once per
// text: tokens' lower-case forms are then views, not a lower_ascii() call and copy each, which
// cost ~40 instructions a token on the mixed benchmark stream against ~0.4 a byte here.
void lower_text(std::string_view text, char* out) {
    const char* const p = text.data();
    const std::size_t n = text.size();
    std::size_t c = 0;
#if defined(__SSE2__)
    // Signed compares: bytes >= 0x80 are negative and never in 'A'..'Z'.
    const __m128i before_a = _mm_set1_epi8('A' - 1);
    const __m128i after_z = _mm_set1_epi8('Z' + 1);
    const __m128i bit = _mm_set1_epi8(0x20);
    for (; c + 16 <= n; c += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c));
        const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a), _mm_cmplt_epi8(v, after_z));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), _mm_or_si128(v, _mm_and_si128(upper, bit)));
    }
#endif
    lower_ascii(p + c, n - c, p + n, out + c);
}

// append_lower() of a word with non-ASCII bytes, written to `out` (at most 3 bytes per input
// byte), and python_isupper() of the word (`upper`). `lowered`: the word in the lower-cased text
// (8 bytes after it readable); `ascii_upper` / `ascii_lower`: whether its ASCII bytes have upper-
// / lower-case letters. Runs of ASCII bytes are copied from `lowered` 8 at a time, and Latin-1
// letters (C3 xx: the umlauts, ß, é ...) are folded without decoding: byte by byte, with the case
// tests of every ASCII byte, this was ~240 instructions a word (now ~110), ~720 a German mention
// of the mixed benchmark stream. Returns the length written.
std::size_t fold_word(std::string_view w, const char* lowered, bool ascii_upper, bool ascii_lower, char* out,
                      bool& upper) {
    std::size_t n = 0;
    bool has_upper = ascii_upper;
    bool has_lower = ascii_lower;
    for (std::size_t i = 0; i < w.size();) {
        std::uint64_t x = 0;
        std::memcpy(&x, lowered + i, 8);
        std::memcpy(out + n, &x, 8);  // may write past the word: the caller's buffer has room
        const std::uint64_t high = x & 0x8080808080808080ull;
        const std::size_t ascii = high == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(high) / 8);
        if (ascii >= w.size() - i) {
            n += w.size() - i;
            break;
        }
        n += ascii;
        i += ascii;
        if (ascii == 8) continue;
        const auto b = static_cast<unsigned char>(w[i]);
        if (b == 0xC3 && i + 1 < w.size() && (static_cast<unsigned char>(w[i + 1]) & 0xC0) == 0x80) {
            // U+00C0..U+00FF: upper case U+00C0..U+00DE except U+00D7 (x) lower-cases by +0x20;
            // lower case is U+00DF..U+00FF except U+00F7 (division sign).
            const auto b1 = static_cast<unsigned char>(w[i + 1]);
            out[n++] = w[i];
            if (b1 <= 0x9E && b1 != 0x97) {
                has_upper = true;
                out[n++] = static_cast<char>(b1 + 0x20);
            } else {
                has_lower |= b1 >= 0x9F && b1 != 0xB7;
                out[n++] = static_cast<char>(b1);
            }
            i += 2;
            continue;
        }
        const auto d = text::decode_utf8(w, i);
        if (!d.valid) {
            n += text::encode_utf8(text::replacement_character, out + n);  // neither upper nor lower case
            i += d.length;
            continue;
        }
        const char32_t cp = d.code_point;
        const char32_t lower = text::to_lower(cp);
        if (lower != cp) {
            has_upper = true;
            n += text::encode_utf8(lower, out + n);
        } else {
            has_lower |= text::is_lower(cp);
            if (cp == 0x2019) {
                out[n++] = '\'';  // "don’t" as typed on phones is "don't"
            } else {
                std::memcpy(out + n, w.data() + i, d.length);
                n += d.length;
            }
        }
        i += d.length;
    }
    upper = has_upper && !has_lower;
    return n;
}

// German tokens: whitespace split, links and handles dropped, punctuation stripped unless the
// token is a known emoticon; remembers clause ends for the negation window.
template <typename Lookup>
void tokenize_german(const lexicons& lex, std::string_view clean, scratch& s, Lookup&& lookup) {
    s.tokens.clear();
    s.scored.clear();
    s.upper = 0;
    s.clause_before = false;
    s.exclamations = 0;
    s.questions = 0;
    // Tokens keep string_views into `lower`, which is sized once per text: the lower-cased text,
    // then non-ASCII tokens folded one after another (never more than 3 bytes per input byte: an
    // invalid byte becomes U+FFFD).
    if (s.lower.size() < 4 * clean.size() + lower_slack) s.lower.resize(4 * clean.size() + lower_slack);
    char* const lower = s.lower.data();
    lower_text(clean, lower);
    s.text_runs = text_has_letter_run(lower, clean.size());
    std::size_t used = clean.size();
    // An ASCII `w` is the lower-cased text at its own offset; others are folded at lower + used,
    // and `upper` gets python_isupper(w).
    const auto fold = [&](std::string_view w, std::uint16_t seen, bool& upper) {
        const char* const lowered = lower + (w.data() - clean.data());
        if ((seen & k_high) == 0) return std::string_view(lowered, w.size());
        char* const out = lower + used;
        // The marks stripping removes have no case: the token's ASCII case is the word's.
        return std::string_view(out, fold_word(w, lowered, (seen & k_upper) != 0, (seen & k_lower) != 0, out, upper));
    };
    std::size_t next_emoji = 0;
    std::size_t i = 0;
    const std::size_t n = clean.size();
    while (i < n) {
        const std::uint16_t k = class_of(clean[i]);
        if ((k & k_space_py) != 0) {
            ++i;
            continue;
        }
        if ((k & k_space_lead) != 0) {
            if (const std::size_t w = whitespace_length(clean, i); w != 0) {
                i += w;
                continue;
            }
        }
        // One pass finds the token's end and which kinds of bytes it has, so the checks below
        // run only for tokens that can need them.
        std::size_t j = i + 1;
        std::uint16_t seen = k;
        while (j < n) {
            if (n - j >= 8) {
                if (const std::size_t run = lower_letter_run(clean.data() + j); run != 0) {
                    seen |= k_lower;
                    j += run;
                    if (run == 8) continue;
                }
            }
            const std::uint16_t c = class_of(clean[j]);
            if ((c & k_space_py) != 0 || ((c & k_space_lead) != 0 && whitespace_length(clean, j) != 0)) break;
            seen |= c;
            ++j;
        }
        const std::string_view raw(clean.data() + i, j - i);  // i < j <= n: no substr() check
        if (i == s.emoji.at[next_emoji]) {
            // A described emoji (replace_emoji()): its description's tokens, as tokenising the
            // description where it stands would make them.
            const described_emoji& d = (*s.described)[s.emoji.id[next_emoji++]];
            if (d.clause_before && !s.tokens.empty()) s.tokens.back().clause_end = true;
            s.exclamations += d.exclamations;
            s.questions += d.questions;
            for (const token& w : d.german) {
                s.tokens.push_back(w);
                s.upper += w.upper;
                if (may_score(w)) s.scored.push_back(static_cast<std::uint32_t>(s.tokens.size() - 1));
            }
            i = j;
            continue;
        }
        i = j;
        if ((seen & k_punct) != 0 && is_link_or_handle(raw, (seen & k_colon) != 0)) continue;
        if ((seen & (k_bang | k_quest)) != 0) {
            for (const char c : raw) {
                s.exclamations += c == '!';
                s.questions += c == '?';
            }
        }
        std::size_t a = 0;
        std::size_t b = raw.size();
        if ((seen & k_punct) != 0) {
            while (a < b && is_punct(raw[a])) ++a;
            while (b > a && is_punct(raw[b - 1])) --b;
        }
        const std::string_view stripped = raw.substr(a, b - a);
        const bool ascii = (seen & k_high) == 0;

        const bool from_emoji = s.describing;
        const bool clause_end = (class_of(raw.back()) & k_clause) != 0 && !stripped.empty();  // , . ; : ! ?
        // German: keep a token as written only when it is itself known (emoticons such as
        // ":)" or ":-(", "<3"); otherwise always strip, so "ok!" and "gut," are found.
        bool upper = false;  // python_isupper() of the kept form, for non-ASCII tokens
        std::string_view folded;
        // Only a token that stripping would reduce to <= 2 characters can be an emoticon
        // (":)", ":-(", ":D", "<3"); longer ones ("gut,", "Stunde!!") are words.
        if (stripped.size() != raw.size() &&
            (ascii ? stripped.size() <= 2 : stripped.size() <= 8 && code_points(stripped) <= 2)) {
            const std::string_view whole = fold(raw, seen, upper);
            const bool known = lex.german.find(whole) != nullptr || lex.english_modern.find(whole) != nullptr ||
                               emoticon_valence(whole) != 0;
            if (stripped.empty() && !known) {
                // Free-standing punctuation (tokenised tweets: "gut ."): ends the clause of
                // the previous word instead of being a neutral word itself.
                if (clause_end || raw.find_first_of(".,;:!?") != std::string_view::npos) {
                    if (!s.tokens.empty()) s.tokens.back().clause_end = true;
                    s.clause_before |= s.tokens.empty();
                }
                continue;
            }
            if (known || stripped.empty()) folded = whole;  // kept as written, already folded
        }
        if (folded.data() == nullptr) folded = fold(stripped, seen, upper);
        if (!ascii) used += folded.size();
        // Built in place: a token assembled on the stack and copied into the vector costs a
        // store-forwarding stall per token.
        token& t = s.tokens.emplace_back();
        t.lower = folded;
        t.from_emoji = from_emoji;
        t.clause_end = clause_end;
        // ASCII: case flags from the byte classes.
        t.upper = ascii ? (seen & k_upper) != 0 && (seen & k_lower) == 0 : upper;
        lookup(t);
        s.upper += t.upper;
        if (may_score(t)) s.scored.push_back(static_cast<std::uint32_t>(s.tokens.size() - 1));
    }
}

// ---------------------------------------------------------------------------------------------
// Shared back end: VADER's score_valence().

// `tokens`: how many tokens the text has; s.sentiments are those of s.scored, every other token's
// is 0.
sentiment score_valence(const scratch& s, std::size_t tokens) {
    sentiment out;
    if (tokens == 0) return out;
    const int exclamations = s.exclamations;
    const int questions = s.questions;
    // One pass: each sum adds the same values in the same order as VADER's separate loops.
    double sum = 0;
    double pos_sum = 0;
    double neg_sum = 0;
    auto neu_count = static_cast<int>(tokens - s.sentiments.size());
    for (const double v : s.sentiments) {
        // Most words are neutral: counted, and not added (a sum plus +-0.0 is the same sum, as
        // `sum` is never -0.0: it starts at +0.0 and x + -x is +0.0).
        if (v == 0) {
            ++neu_count;
            continue;
        }
        sum += v;
        if (v > 0) pos_sum += v + 1;  // +1/-1 compensate for neutral words counting 1
        if (v < 0) neg_sum += v - 1;
    }
    const double ep = std::min(exclamations, 4) * 0.292;
    double qm = 0;
    if (questions > 1) qm = questions <= 3 ? questions * 0.18 : 0.96;
    const double punct = ep + qm;
    if (sum > 0) {
        sum += punct;
    } else if (sum < 0) {
        sum -= punct;
    }
    out.compound = std::clamp(sum / std::sqrt(sum * sum + alpha), -1.0, 1.0);

    if (pos_sum > std::fabs(neg_sum)) {
        pos_sum += punct;
    } else if (pos_sum < std::fabs(neg_sum)) {
        neg_sum -= punct;
    }
    const double total = pos_sum + std::fabs(neg_sum) + neu_count;
    out.pos = std::fabs(pos_sum / total);
    out.neg = std::fabs(neg_sum / total);
    out.neu = std::fabs(neu_count / total);
    return out;
}

// The "but" rule: sentiments before the contrast word (token b) x0.5, after it x1.5.
void scale_around(scratch& s, std::size_t b) {
    for (std::size_t k = 0; k < s.sentiments.size(); ++k) {
        if (s.scored[k] < b) s.sentiments[k] *= 0.5;
        if (s.scored[k] > b) s.sentiments[k] *= 1.5;
    }
}

// ---------------------------------------------------------------------------------------------
// English: the reference JavaScript port of VADER (npm vader-sentiment 1.1.3), rule for rule.
// The port compares some words case-sensitively on the token as written ("not", "never", "so",
// "this", "but"/"BUT", idioms) and looks others up lower-cased (lexicon, boosters, "least",
// "kind of"). Tokens carry the english_word id of their lower-case form plus whether the original
// had upper case, so both kinds of comparison are integer tests.

// JavaScript's \s, which the port splits on (Python's str.split() differs: U+001C..U+001F, U+0085
// and no U+FEFF).
std::size_t js_space_length(std::string_view s, std::size_t i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return (class_of(s[i]) & k_space) != 0 ? 1 : 0;
    if (b != 0xC2 && b != 0xE1 && b != 0xE2 && b != 0xE3 && b != 0xEF) return 0;
    const auto d = text::decode_utf8(s, i);
    const char32_t c = d.code_point;
    const bool space = c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
                       c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
    return space ? d.length : 0;
}

// The port keeps only tokens longer than one JavaScript character, i.e. UTF-16 code unit ("a",
// "I", "é" and "❤" go, "ok" and "😀" stay).
bool longer_than_one_js_char(std::string_view s) {
    if (s.size() <= 1) return false;
    if (s.size() >= 4) return true;  // one code point of up to 3 bytes cannot be 4 bytes long
    const auto b = static_cast<unsigned char>(s[0]);
    if (s.size() == 2) return !(b >= 0xC2 && b <= 0xDF && (static_cast<unsigned char>(s[1]) & 0xC0) == 0x80);
    return !(b >= 0xE0 && b <= 0xEF && (static_cast<unsigned char>(s[1]) & 0xC0) == 0x80 &&
             (static_cast<unsigned char>(s[2]) & 0xC0) == 0x80);
}

// The port's PUNC_LIST: the only marks it strips, and only as a whole before or after a word.
bool in_punc_list(std::string_view mark) {
    switch (mark.size()) {
        case 1: return std::string_view(".!?,;:-'\"").find(mark[0]) != std::string_view::npos;
        case 2: return mark == "!!" || mark == "??";
        case 3: return mark == "!!!" || mark == "???" || mark == "?!?" || mark == "!?!";
        case 4: return mark == "?!?!" || mark == "!?!?";
        default: return false;
    }
}

// The port's get_words_plus_punc() dictionary, decided per token: a token that is a word (no ASCII
// punctuation, more than one UTF-16 unit) with one PUNC_LIST entry glued before or after it becomes
// the bare word; everything else stays as written ("good!!!!", "(good", "'good'" and ":)" stay).
std::string_view js_strip(std::string_view t) {
    std::size_t a = 0;
    while (a < t.size() && (class_of(t[a]) & k_punct) != 0) ++a;
    std::size_t b = t.size();
    while (b > a && (class_of(t[b - 1]) & k_punct) != 0) --b;
    if ((a == 0) == (b == t.size())) return t;  // nothing to strip, or marks on both sides
    const std::string_view word = t.substr(a, b - a);
    for (const char c : word) {
        if ((class_of(c) & k_punct) != 0) return t;  // inner punctuation: the dictionary key would lack it
    }
    if (!longer_than_one_js_char(word)) return t;
    return in_punc_list(a > 0 ? t.substr(0, a) : t.substr(b)) ? word : t;
}

bool in_lexicon(const en_token& t) { return t.e != nullptr && t.e->has(entry::has_valence); }
bool is_booster(const en_token& t) { return t.e != nullptr && t.e->has(entry::booster); }

// Lower-cases `raw` into `out` and fills the token's flags. toLowerCase() as far as lexicon keys
// can tell: every key is ASCII (upper-case keys such as ":D" or ":Þ" are unreachable in the port
// and not loaded), and the only non-ASCII character that lower-cases to ASCII is the Kelvin sign.
// crisisd addition: the typographic apostrophe of phone keyboards reads as "'" ("don’t").
// Returns the length written and whether a letter repeats three times ("sooo").
std::size_t lower_token(std::string_view raw, char* out, en_token& t, bool& run) {
    std::size_t n = 0;
    std::uint16_t seen = 0;
    bool apostrophe = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        const std::uint16_t k = class_of(c);
        seen |= k;
        if ((k & k_upper) != 0) {
            c = static_cast<char>(c + 0x20);
        } else if (c == '\'') {
            apostrophe = true;
        } else if (c == '\xE2' && i + 2 < raw.size()) {
            if (raw[i + 1] == '\x80' && raw[i + 2] == '\x99') {
                out[n++] = '\'';
                apostrophe = true;
                i += 2;
                continue;
            }
            if (raw[i + 1] == '\x84' && raw[i + 2] == '\xAA') {
                out[n++] = 'k';
                seen |= k_upper;
                i += 2;
                continue;
            }
        }
        if (n >= 2 && out[n - 1] == c && out[n - 2] == c && (class_of(c) & k_lower) != 0) run = true;
        out[n++] = c;
    }
    // The port's is_upper_python(): /^[^a-z]*[A-Z]+[^a-z]*$/ ("WTF!!", ":)OK", "ÄRGER" are upper).
    t.upper = (seen & k_upper) != 0 && (seen & k_lower) == 0;
    t.cased = (seen & k_upper) != 0;
    t.nt = apostrophe && (raw.find("n't") != std::string_view::npos || raw.find("n\xE2\x80\x99t") != std::string_view::npos);
    return n;
}

// Python/JS VADER leave elongated words unrated; crisisd looks them up with runs of three or more
// identical letters shortened to two, then to one ("goooood", "sooo", "Nooooo"). `w` has such a run.
const entry* find_shortened(const detail::word_table& table, std::string_view w) {
    if (w.size() > 64) return nullptr;
    std::array<char, 64> two;  // NOLINT: filled before use
    std::array<char, 64> one;
    std::size_t n2 = 0;
    std::size_t n1 = 0;
    for (std::size_t i = 0; i < w.size();) {
        std::size_t j = i + 1;
        while (j < w.size() && w[j] == w[i]) ++j;
        const std::size_t run = j - i;
        if (run >= 3 && w[i] >= 'a' && w[i] <= 'z') {
            two[n2++] = w[i];
            two[n2++] = w[i];
            one[n1++] = w[i];
        } else {
            for (std::size_t k = 0; k < run; ++k) {
                two[n2++] = w[i];
                one[n1++] = w[i];
            }
        }
        i = j;
    }
    if (const entry* e = table.find({two.data(), n2})) return e;
    return table.find({one.data(), n1});
}

void tokenize_english(const lexicons& lex, std::string_view clean, scratch& s) {
    s.en_tokens.clear();
    s.scored.clear();
    s.upper = 0;
    s.but = s.upper_but = static_cast<std::size_t>(-1);
    s.exclamations = 0;
    s.questions = 0;
    // Tokens keep string_views into `lower`: the lower-cased text, then the tokens with non-ASCII
    // bytes lower-cased one after another (lower_token() never lengthens a token).
    if (s.lower.size() < 2 * clean.size() + lower_slack) s.lower.resize(2 * clean.size() + lower_slack);
    char* const lower = s.lower.data();
    lower_text(clean, lower);
    const bool text_runs = text_has_letter_run(lower, clean.size());
    std::size_t used = clean.size();
    std::size_t next_emoji = 0;
    const std::size_t n = clean.size();
    std::size_t i = 0;
    while (i < n) {
        const std::uint16_t k = class_of(clean[i]);
        if ((k & k_space) != 0) {
            ++i;
            continue;
        }
        if ((k & k_space_lead) != 0) {
            if (const std::size_t w = js_space_length(clean, i); w != 0) {
                i += w;
                continue;
            }
        }
        std::size_t j = i + 1;
        std::uint16_t seen = k;
        while (j < n) {
            if (n - j >= 8) {  // see lower_letter_run()
                if (const std::size_t run = lower_letter_run(clean.data() + j); run != 0) {
                    seen |= k_lower;
                    j += run;
                    if (run == 8) continue;
                }
            }
            const std::uint16_t c = class_of(clean[j]);
            if ((c & k_space) != 0 || ((c & k_space_lead) != 0 && js_space_length(clean, j) != 0)) break;
            seen |= c;
            ++j;
        }
        const std::string_view piece(clean.data() + i, j - i);  // i < j <= n: no substr() check
        if (i == s.emoji.at[next_emoji]) {
            // A described emoji (replace_emoji()): its description's tokens, as tokenising the
            // description where it stands would make them.
            for (const en_token& w : (*s.described)[s.emoji.id[next_emoji++]].english) {
                s.en_tokens.push_back(w);
                s.upper += w.upper;
                if (w.word == detail::w_but) {
                    const std::size_t at = s.en_tokens.size() - 1;
                    if (!w.cased && s.but > at) s.but = at;
                    if (w.upper && s.upper_but > at) s.upper_but = at;
                }
                if (in_lexicon(w)) s.scored.push_back(static_cast<std::uint32_t>(s.en_tokens.size() - 1));
            }
            i = j;
            continue;
        }
        i = j;
        const bool from_emoji = s.describing;
        // The port counts "!" and "?" anywhere in its input, which has no emoji descriptions.
        if ((seen & (k_bang | k_quest)) != 0 && !from_emoji) {
            for (const char c : piece) {
                s.exclamations += c == '!';
                s.questions += c == '?';
            }
        }
        // URLs and @handles stay neutral tokens, as in the port: they can never match the lexicon
        // (the port strips no "@", "/" or inner punctuation) but shift windows and ALL-CAPS counts.
        if ((seen & k_high) != 0 ? !longer_than_one_js_char(piece) : piece.size() < 2) continue;
        const std::string_view raw = (seen & k_punct) != 0 ? js_strip(piece) : piece;
        // Built in place: a token assembled on the stack and copied into the vector costs a
        // store-forwarding stall per token.
        en_token& t = s.en_tokens.emplace_back();
        bool run = false;
        if ((seen & k_high) == 0) {
            // ASCII (most tokens): the lower-cased text at the token's own offset, with the case
            // flags from the byte classes (the marks js_strip() removed have no case) and the
            // letter-run scan only when needed.
            t.lower = std::string_view(lower + (raw.data() - clean.data()), raw.size());
            t.upper = (seen & k_upper) != 0 && (seen & k_lower) == 0;
            t.cased = (seen & k_upper) != 0;
            // Most tokens with punctuation have no apostrophe ("word," "word."): their find() call
            // was ~190 instructions an English mention on the mixed benchmark stream.
            t.nt = (seen & k_apostrophe) != 0 && raw.find("n't") != std::string_view::npos;
        } else {
            const std::size_t length = lower_token(raw, lower + used, t, run);
            t.lower = std::string_view(lower + used, length);
            used += length;
        }
        s.upper += t.upper;
        // A link or handle is a neutral token: no lexicon key starts with "http://", "https://"
        // or "@" and a word character (lexicons_test checks), so it is not looked up - a URL's
        // hash, letter-run scan ("www") and shortened lookups were ~200 instructions.
        if ((seen & k_punct) != 0 && is_web_address_or_handle(t.lower)) continue;
        t.e = lex.english.find(t.lower, detail::word_table::hash_padded(t.lower));  // t.lower lies in `lower`
        if (t.e != nullptr) {
            t.word = t.e->word;
            if (t.word == detail::w_but) {
                // but_check(): the first "but", else the first "BUT" ("But" is no contrast for the port).
                const std::size_t at = s.en_tokens.size() - 1;
                if (!t.cased && s.but > at) s.but = at;
                if (t.upper && s.upper_but > at) s.upper_but = at;
            }
        } else if ((seen & k_high) == 0 ? text_runs && has_letter_run(t.lower) : run) {
            t.e = find_shortened(lex.english, t.lower);
        }
        if (from_emoji && !in_lexicon(t)) {
            // A word of an emoji's description (crisisd addition, see README): VADER 3.3.2's
            // lexicon, which rates the words those descriptions use ("heart").
            if (const entry* e = lex.english_modern.find(t.lower)) t.e = e;
        }
        if (in_lexicon(t)) s.scored.push_back(static_cast<std::uint32_t>(s.en_tokens.size() - 1));
    }
}

struct idiom {
    std::array<std::uint8_t, 3> words;
    std::size_t length;
    double valence;
};
// The port's SPECIAL_CASE_IDIOMS (matched case-sensitively, like all its n-grams).
constexpr idiom special_case_idioms[] = {
    {{detail::w_the, detail::w_shit, 0}, 2, 3},
    {{detail::w_the, detail::w_bomb, 0}, 2, 3},
    {{detail::w_bad, detail::w_ass, 0}, 2, 1.5},
    {{detail::w_yeah, detail::w_right, 0}, 2, -2},
    {{detail::w_cut, detail::w_the, detail::w_mustard}, 3, 2},
    {{detail::w_kiss, detail::w_of, detail::w_death}, 3, -1.5},
    {{detail::w_hand, detail::w_to, detail::w_mouth}, 3, -2},
};
// BOOSTER_DICT's two-word keys, which only the idiom check can see.
constexpr std::array<std::uint8_t, 2> multiword_boosters[] = {
    {detail::w_just, detail::w_enough}, {detail::w_kind, detail::w_of}, {detail::w_sort, detail::w_of}};

class english_rules {
public:
    english_rules(const std::vector<en_token>& tokens, bool cap_diff) : t_(tokens), cap_diff_(cap_diff) {}

    // sentiment_valence() for a rated token i.
    double valence(std::size_t i) const {
        const en_token& item = t_[i];
        double v = item.e->valence;
        if (item.upper && cap_diff_) v += v > 0 ? c_incr : -c_incr;
        for (std::size_t start = 0; start < 3 && start < i; ++start) {
            const en_token& prev = t_[i - (start + 1)];
            if (in_lexicon(prev)) continue;
            double s = scalar_inc_dec(prev, v);
            if (start == 1) s *= 0.95;
            if (start == 2) s *= 0.9;
            v += s;
            v = never_check(v, start, i);
            if (start == 2) v = idioms_check(v, i);
        }
        return least_check(v, i);
    }

private:
    // The token as written is exactly the lower-case word `w`.
    bool raw_is(std::size_t i, std::uint8_t w) const { return t_[i].word == w && !t_[i].cased; }
    bool so_or_this(std::size_t i) const { return raw_is(i, detail::w_so) || raw_is(i, detail::w_this); }

    double scalar_inc_dec(const en_token& word, double v) const {
        if (!is_booster(word)) return 0;
        double scalar = v < 0 ? -word.e->boost : word.e->boost;
        if (cap_diff_ && word.upper) scalar += v > 0 ? c_incr : -c_incr;
        return scalar;
    }

    // The port's negated([word]): the word exactly as written in NEGATE, or containing "n't".
    static bool negated(const en_token& t) {
        return (t.e != nullptr && t.e->has(entry::negator) && !t.cased) || t.nt;
    }

    double never_check(double v, std::size_t start, std::size_t i) const {
        if (start == 0) {
            if (negated(t_[i - 1])) v *= n_scalar;
        } else if (start == 1) {
            if (raw_is(i - 2, detail::w_never) && so_or_this(i - 1)) {
                v *= 1.5;
            } else if (negated(t_[i - 2])) {
                v *= n_scalar;
            }
        } else {
            // As in the port (and Python): "so"/"this" right before the word also scales by 1.25.
            if ((raw_is(i - 3, detail::w_never) && so_or_this(i - 2)) || so_or_this(i - 1)) {
                v *= 1.25;
            } else if (negated(t_[i - 3])) {
                v *= n_scalar;
            }
        }
        return v;
    }

    bool sequence_is(std::size_t from, std::size_t length, const std::uint8_t* words) const {
        for (std::size_t k = 0; k < length; ++k) {
            if (!raw_is(from + k, words[k])) return false;
        }
        return true;
    }

    const idiom* special_case(std::size_t from, std::size_t length) const {
        if (t_[from].word == detail::w_none) return nullptr;  // every idiom starts with a listed word
        for (const idiom& id : special_case_idioms) {
            if (id.length == length && sequence_is(from, length, id.words.data())) return &id;
        }
        return nullptr;
    }

    // Only reached with i >= 3.
    double idioms_check(double v, std::size_t i) const {
        // The port's order: onezero, twoonezero, twoone, threetwoone, threetwo; first match wins.
        const std::pair<std::size_t, std::size_t> before[] = {{i - 1, 2}, {i - 2, 3}, {i - 2, 2}, {i - 3, 3}, {i - 3, 2}};
        for (const auto& [from, length] : before) {
            if (const idiom* id = special_case(from, length)) {
                v = id->valence;
                break;
            }
        }
        if (t_.size() - 1 > i) {
            if (const idiom* id = special_case(i, 2)) v = id->valence;
        }
        if (t_.size() - 1 > i + 1) {
            if (const idiom* id = special_case(i, 3)) v = id->valence;
        }
        for (const auto& words : multiword_boosters) {
            if (sequence_is(i - 3, 2, words.data()) || sequence_is(i - 2, 2, words.data())) {
                v += b_decr;
                break;
            }
        }
        return v;
    }

    double least_check(double v, std::size_t i) const {
        if (i > 0 && t_[i - 1].word == detail::w_least && !in_lexicon(t_[i - 1])) {
            if (i == 1 || (t_[i - 2].word != detail::w_at && t_[i - 2].word != detail::w_very)) v *= n_scalar;
        }
        return v;
    }

    const std::vector<en_token>& t_;
    bool cap_diff_;
};

sentiment score_english(const lexicons& lex, std::string_view clean, scratch& s) {
    tokenize_english(lex, clean, s);
    const std::vector<en_token>& tokens = s.en_tokens;
    const bool cap_diff = s.upper > 0 && s.upper < tokens.size();
    const english_rules rules(tokens, cap_diff);
    // Only rated tokens can have a sentiment other than 0 (see scratch::scored).
    s.sentiments.resize(s.scored.size());
    for (std::size_t k = 0; k < s.scored.size(); ++k) {
        const std::size_t i = s.scored[k];
        const en_token& t = tokens[i];
        const bool kind_of = t.word == detail::w_kind && i + 1 < tokens.size() && tokens[i + 1].word == detail::w_of;
        s.sentiments[k] = kind_of || is_booster(t) ? 0.0 : rules.valence(i);
    }
    const std::size_t but = s.but < tokens.size() ? s.but : s.upper_but;
    if (but < tokens.size()) scale_around(s, but);
    return score_valence(s, tokens.size());
}

// ---------------------------------------------------------------------------------------------
// German: VADER's arithmetic with German modifiers and morphology (see README).

// `w` lies in scratch::lower (8 bytes after it readable).
const entry* find_compound_head(const lexicons& lex, std::string_view w) {
    // Longest known suffix of at least 4 bytes after a first part of at least 3 bytes:
    // "totalausfall" -> "ausfall", "internetstörungen" -> "störungen". Only the suffix lengths
    // that some rated key ending in the same 4 bytes has are looked up (usually none or one).
    if (w.size() < 7) return nullptr;
    const std::uint32_t lengths = lex.german_head_lengths[lexicons::tail_bucket(w)];
    if (lengths == 0) return nullptr;
    for (std::size_t start = 3; start + 4 <= w.size(); ++start) {
        if ((lengths & lexicons::head_length_bit(w.size() - start)) == 0) continue;
        if ((static_cast<unsigned char>(w[start]) & 0xC0) == 0x80) continue;
        const std::string_view head = w.substr(start);
        const entry* e = lex.german.find(head, detail::word_table::hash_padded(head));
        if (e != nullptr && e->has(entry::has_valence)) return e;
    }
    return nullptr;
}

const entry positive_emoticon{2.0, 0, entry::has_valence};
const entry negative_emoticon{-2.0, 0, entry::has_valence};

bool has_letter(std::string_view w) {
    for (const char c : w) {
        if ((c >= 'a' && c <= 'z') || (static_cast<unsigned char>(c) >= 0xC3)) return true;
    }
    return false;
}

// A word of an emoji's description: VADER 3.3.2's lexicon (see README), valence only.
void lookup_description_word(const lexicons& lex, token& t) {
    t.e = lex.english_modern.find(t.lower);
    t.foreign = true;
}

// A word of the text (description words come ready-made: described_emoji).
void lookup_german(const lexicons& lex, bool text_runs, bool in_text, token& t) {
    const std::uint64_t h = detail::word_table::hash_padded(t.lower);  // t.lower lies in scratch::lower
    if ((t.e = lex.german.find(t.lower, h)) != nullptr) return;
    // An ASCII word is a view into the lower-cased text, which then may have no letter run at all;
    // a folded one lies after it (lower_text()), and may (the Kelvin sign folds to 'k').
    const bool run = (in_text && !text_runs) ? false : has_letter_run(t.lower);
    if (run && (t.e = find_shortened(lex.german, t.lower)) != nullptr) return;
    // English words and emoticons in German posts ("fail", "sorry", ":)"), valence only.
    if (const entry* e = find_elongated(lex.english_modern, t.lower, h, run); e != nullptr && e->has(entry::has_valence)) {
        t.e = e;
        t.foreign = true;
        return;
    }
    if ((t.e = find_compound_head(lex, t.lower)) != nullptr) return;
    if (is_laughter(t.lower)) {
        t.e = lex.english_modern.find("haha");
        t.foreign = true;
    } else if (const double v = may_be_emoticon(t.lower) ? emoticon_valence(t.lower) : 0; v != 0) {
        t.e = v > 0 ? &positive_emoticon : &negative_emoticon;
        t.foreign = true;
    }
}

class german_rules {
public:
    // `with_entry`: the tokens for which may_score() holds, in order.
    german_rules(const lexicons& lex, std::vector<token>& tokens, const std::vector<std::uint32_t>& with_entry,
                 std::string& key, bool cap_diff)
        : lex_(lex), t_(tokens), key_(key), cap_diff_(cap_diff) {
        for (const std::size_t i : with_entry) {
            if (own(i) && t_[i].e->has(entry::weder)) {
                first_weder_ = i;
                break;
            }
        }
    }

    // Valence of token i (0 for unrated words); may mark following tokens as consumed.
    double valence(std::size_t i) {
        token& item = t_[i];
        if (item.consumed) return 0;
        if (own(i) && item.e->has(entry::booster)) return 0;
        double v = 0;
        std::size_t last = i;  // last token of the scored unit
        bool missing_service = false;
        if (own(i) && item.e->has(entry::phrase_start)) {
            if (const auto [e, length] = phrase(i); e != nullptr) {
                v = e->valence;
                last = i + length - 1;
                for (std::size_t k = i + 1; k <= last; ++k) t_[k].consumed = true;
            }
        }
        if (last == i) {
            if (in_lexicon(item)) {
                v = item.e->valence;
            } else if (own(i) && item.e->has(entry::service_noun) && kein_before(i)) {
                v = missing_service_valence;
                missing_service = true;
            } else {
                return 0;
            }
        }
        if (item.upper && cap_diff_) v += v > 0 ? c_incr : -c_incr;
        // Emoji and emoticons comment on the whole post: "natürlich nicht :-)" is not a negated
        // smile, so they take no negation or degree modifiers.
        if (item.from_emoji || !has_letter(item.lower)) return v;
        bool negated_before = false;
        for (std::size_t k = 1; k <= 3 && k <= i; ++k) {
            const std::size_t j = i - k;
            const token& prev = t_[j];
            if (prev.clause_end) break;  // negation and degree do not cross , . ; : ! ?
            if (prev.consumed || in_lexicon(prev) || !own(j)) continue;
            if (prev.e->has(entry::booster)) {
                double s = v < 0 ? -prev.e->boost : prev.e->boost;
                if (prev.upper && cap_diff_) s += v > 0 ? c_incr : -c_incr;
                if (k == 2) s *= 0.95;
                if (k == 3) s *= 0.9;
                v += s;
            }
            if (!missing_service && is_negator(j)) {
                // One negator per word: "weder gut noch schlecht" must not negate "schlecht" twice.
                v *= n_scalar;
                negated_before = true;
                break;
            }
        }
        // German puts "nicht" after the verb: "funktioniert (leider) nicht", "gefällt mir nicht".
        // Fillers ("leider", "immer noch") are not what a trailing "nicht" negates.
        if (!negated_before && !t_[last].clause_end && !(own(i) && item.e->has(entry::filler))) {
            for (std::size_t j = last + 1; j < t_.size() && j <= last + 4; ++j) {
                const token& next = t_[j];
                if (!own(j)) break;
                if (next.consumed) continue;  // inside "immer noch", "schon wieder" ...
                if (next.e->has(entry::negator) && !next.e->has(entry::kein) && next.lower != "nichts" &&
                    next.lower != "weder" && next.lower != "niemand") {
                    if (!followed_by_nur(j)) v *= n_scalar;
                    break;
                }
                if (!next.e->has(entry::filler) || next.clause_end) break;
            }
        }
        return v;
    }

private:
    bool own(std::size_t i) const { return t_[i].e != nullptr && !t_[i].foreign; }

    bool followed_by_nur(std::size_t j) const { return j + 1 < t_.size() && t_[j + 1].lower == "nur"; }

    bool is_negator(std::size_t j) const {
        const entry* e = t_[j].e;
        if (e->has(entry::negator)) return !followed_by_nur(j);  // "nicht nur ... sondern auch"
        return e->has(entry::noch) && first_weder_ < j;          // "weder ... noch"
    }

    bool kein_before(std::size_t i) const {
        for (std::size_t k = 1; k <= 2 && k <= i; ++k) {
            const std::size_t j = i - k;
            if (t_[j].clause_end) return false;
            if (own(j) && t_[j].e->has(entry::kein)) return true;
        }
        return false;
    }

    // Longest multi-word entry starting at token i (3 words, then 2), not across a clause end.
    // Only the lengths of entry that the word starts are looked up.
    std::pair<const entry*, std::size_t> phrase(std::size_t i) const {
        const std::uint32_t flags = t_[i].e->flags;
        for (std::size_t length = 3; length >= 2; --length) {
            if ((flags & (length == 3 ? entry::phrase3 : entry::phrase2)) == 0 || i + length > t_.size()) continue;
            bool fits = true;
            for (std::size_t k = 0; k < length; ++k) {
                const token& t = t_[i + k];
                if ((k + 1 < length && t.clause_end) || t.consumed) {
                    fits = false;
                    break;
                }
            }
            if (!fits) continue;
            const entry* e = lex_.german.find(phrase_key(i, length));
            if (e != nullptr && e->has(entry::has_valence)) return {e, length};
        }
        return {nullptr, 0};
    }

    // "w1 w2 (w3)": ASCII words one space apart in the text are that key in the lower-cased text
    // already (no copy); other words are joined in key_.
    std::string_view phrase_key(std::size_t i, std::size_t length) const {
        bool adjacent = true;
        for (std::size_t k = i + 1; k < i + length && adjacent; ++k) {
            const std::string_view prev = t_[k - 1].lower;
            adjacent = t_[k].lower.data() == prev.data() + prev.size() + 1 && prev.data()[prev.size()] == ' ';
        }
        const token& end = t_[i + length - 1];
        if (adjacent) {
            const char* first = t_[i].lower.data();
            return {first, static_cast<std::size_t>(end.lower.data() + end.lower.size() - first)};
        }
        key_.clear();
        for (std::size_t k = i; k < i + length; ++k) {
            if (k > i) key_ += ' ';
            key_ += t_[k].lower;
        }
        return key_;
    }

    const lexicons& lex_;
    std::vector<token>& t_;
    std::string& key_;
    bool cap_diff_;
    std::size_t first_weder_ = static_cast<std::size_t>(-1);
};

sentiment score_german(const lexicons& lex, std::string_view clean, scratch& s) {
    tokenize_german(lex, clean, s, [&](token& t) {
        lookup_german(lex, s.text_runs, t.lower.data() < s.lower.data() + clean.size(), t);
    });
    // ALL-CAPS emphasis only counts when some, but not all, tokens are upper case.
    const bool cap_diff = s.upper > 0 && s.upper < s.tokens.size();
    german_rules rules(lex, s.tokens, s.scored, s.key, cap_diff);
    // A word no lexicon has (most of them) is 0 without the call: valence() starts from the
    // token's entry, so only the tokens with one are visited (see scratch::scored).
    // The first "aber" is found in the same pass, among the tokens with an entry, instead of a
    // second pass testing every token again (its branches were 2.7% of the scorer's mispredictions,
    // cachegrind --branch-sim over the mixed stream's texts). Exact: valence(i) marks only tokens
    // after i as consumed, so token i's `consumed` is final when the loop reaches it.
    std::size_t contrast = s.tokens.size();
    s.sentiments.resize(s.scored.size());
    for (std::size_t k = 0; k < s.scored.size(); ++k) {
        const std::size_t i = s.scored[k];
        const token& t = s.tokens[i];
        if (contrast == s.tokens.size() && !t.foreign && !t.consumed && t.e->has(entry::contrast)) contrast = i;
        s.sentiments[k] = rules.valence(i);
    }
    if (contrast < s.tokens.size()) scale_around(s, contrast);
    return score_valence(s, s.tokens.size());
}

// Re-points tokens' `lower` views from a scratch's buffer into `keep`, a copy of its used part.
template <typename Token>
void keep_lower(std::vector<Token>& tokens, const std::string& scratch_lower, std::string& keep) {
    std::size_t used = 0;
    for (const Token& t : tokens) used = std::max(used, static_cast<std::size_t>(t.lower.data() + t.lower.size() - scratch_lower.data()));
    keep.assign(scratch_lower.data(), used);
    for (Token& t : tokens) t.lower = std::string_view(keep.data() + (t.lower.data() - scratch_lower.data()), t.lower.size());
}

// Every emoji's description tokenised once, by the tokenizers themselves, as from_emoji words
// (see described_emoji). Exact where it stands in a text: replace_emoji() puts spaces on both
// sides, so no token reaches across the description's ends, and what a description's tokens do to
// the text's (a German free-standing mark ending the previous word's clause) is recorded.
const std::vector<described_emoji>& described_emoji_words(const lexicons& lex) {
    static const std::vector<described_emoji>* const built = [&lex] {
        auto* all = new std::vector<described_emoji>(lex.emoji.size());  // leaked, as lexicons
        scratch tmp;
        tmp.describing = true;
        tmp.emoji.at.assign(1, static_cast<std::size_t>(-1));
        for (std::size_t k = 0; k < lex.emoji.size(); ++k) {
            described_emoji& d = (*all)[k];
            const std::string_view text = lex.emoji[k].description;
            tokenize_english(lex, text, tmp);
            d.english = tmp.en_tokens;
            keep_lower(d.english, tmp.lower, d.lower_english);
            tokenize_german(lex, text, tmp, [&](token& t) { lookup_description_word(lex, t); });
            d.german = tmp.tokens;
            keep_lower(d.german, tmp.lower, d.lower_german);
            d.exclamations = tmp.exclamations;
            d.questions = tmp.questions;
            d.clause_before = tmp.clause_before;
        }
        return all;
    }();
    return *built;
}

language resolve_language(std::string_view text, std::string_view lang) {
    const auto tag_is = [&](std::string_view code) {
        return lang.size() >= 2 && starts_with_ci(lang, code) && (lang.size() == 2 || lang[2] == '-' || lang[2] == '_');
    };
    if (tag_is("de")) return language::german;
    if (tag_is("en")) return language::english;
    return text::guess_language(text) == "de" ? language::german : language::english;
}

}  // namespace

scorer::scorer() : lexicons_(&lexicons::instance()) { described_emoji_words(*lexicons_); }

sentiment scorer::score(std::string_view text, std::string_view lang) const {
    scratch& s = thread_scratch();
    s.described = &described_emoji_words(*lexicons_);
    const std::string_view clean = detail::replace_emoji(text, *lexicons_, s.clean, s.emoji);
    return resolve_language(text, lang) == language::german ? score_german(*lexicons_, clean, s)
                                                            : score_english(*lexicons_, clean, s);
}

}  // namespace crisisd::score
