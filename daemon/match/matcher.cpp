#include "match/matcher.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text/normalize.hpp"

namespace crisisd::match {
namespace {

bool is_word_byte(unsigned char c) {
    // Any byte of a multi-byte UTF-8 sequence is treated as part of a word: keywords are words
    // of human languages, and their non-ASCII letters are letters.
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Turns a folded keyword into a Vectorscan expression: literal bytes, and runs of spaces match
// any whitespace. Word boundaries are not part of the expression: Unicode classes such as
// [^\p{L}\p{N}] around every keyword made a 10,000-keyword database take minutes and gigabytes
// to compile. The scan callback checks them instead (see boundary_ok), which is exact for
// literals because the callback can find where the match started.
std::string to_expression(std::string_view keyword) {
    std::string out;
    bool in_space = false;
    for (char ch : keyword) {
        auto c = static_cast<unsigned char>(ch);
        if (c == ' ' || c == '\t') {
            if (!in_space) out += "\\s+";
            in_space = true;
            continue;
        }
        in_space = false;
        if (c < 0x80 && !is_word_byte(c)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

// Letters and digits of any script count as word characters; punctuation, symbols, spaces and
// emoji do not. Without a Unicode database at hand the non-word blocks are listed: ASCII
// non-alphanumerics, Latin-1 punctuation and signs, the general punctuation, symbol, arrow,
// dingbat and emoji blocks, CJK punctuation, variation selectors and fullwidth punctuation.
bool is_word_code_point(char32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
    if (cp <= 0xBF) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (cp == 0xD7 || cp == 0xF7) return false;
    if (cp >= 0x2000 && cp <= 0x2BFF) return false;
    if (cp >= 0x3000 && cp <= 0x303F) return false;
    if (cp >= 0xFE00 && cp <= 0xFE0F) return false;
    if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;
    if (cp >= 0xE0000) return false;
    return true;
}

// The code point that starts at `at` / ends just before `at` (lenient: bad UTF-8 reads as a
// letter, which errs towards no match).
char32_t code_point_at(std::string_view s, std::size_t at) {
    const auto b0 = static_cast<unsigned char>(s[at]);
    if (b0 < 0x80) return b0;
    std::size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1;
    if (n == 1 || at + n > s.size()) return 0xFFFD;
    char32_t cp = b0 & (0x7F >> n);
    for (std::size_t i = 1; i < n; ++i) cp = cp << 6 | (static_cast<unsigned char>(s[at + i]) & 0x3F);
    return cp;
}
char32_t code_point_before(std::string_view s, std::size_t at) {
    std::size_t start = at - 1;
    while (start > 0 && at - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    return code_point_at(s, start);
}

// One compiled keyword: its rule, whether it vetoes, and what the callback needs to find where a
// match began (the folded words, in order) and which ends need a word boundary.
struct matcher_pattern {
    std::size_t rule = 0;
    bool exclude = false;
    bool left_boundary = false, right_boundary = false;
    std::vector<std::string> words;
};

}  // namespace

// Up to this many keywords, all single words, are searched for without Vectorscan (see
// scanner::scan).
constexpr std::size_t max_literal_patterns = 3;

struct matcher::impl {
    hs_database_t* db = nullptr;
    std::vector<matcher_pattern> patterns;
    bool literal_scan = false;  // every pattern is one word, and there are few
    std::vector<match_settings> rules;
    std::vector<std::string> topics;
    ~impl() {
        if (db) hs_free_database(db);
    }
};

matcher::matcher(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
matcher::~matcher() = default;

std::variant<std::shared_ptr<const matcher>, compile_error> matcher::compile(const std::vector<match_settings>& rules) {
    auto im = std::make_unique<impl>();
    im->rules = rules;
    std::vector<std::string> expressions;
    std::vector<unsigned> ids;
    std::vector<unsigned> flags;
    std::vector<std::pair<std::size_t, std::string>> origin;  // for error reports
    std::string folded;
    for (std::size_t r = 0; r < rules.size(); ++r) {
        im->topics.push_back(topic_of(rules[r]));
        for (int pass = 0; pass < 2; ++pass) {
            const auto& words = pass == 0 ? rules[r].keywords : rules[r].exclude;
            for (const auto& w : words) {
                folded.clear();
                text::fold_case(w, folded);
                matcher_pattern pat;
                pat.rule = r;
                pat.exclude = pass == 1;
                for (std::size_t i = 0; i < folded.size();) {
                    while (i < folded.size() && (folded[i] == ' ' || folded[i] == '\t')) ++i;
                    const std::size_t j = folded.find_first_of(" \t", i);
                    const std::size_t end = j == std::string::npos ? folded.size() : j;
                    if (end > i) pat.words.push_back(folded.substr(i, end - i));
                    i = end;
                }
                if (pat.words.empty()) return compile_error{r, w, "empty keyword"};
                pat.left_boundary = is_word_byte(static_cast<unsigned char>(pat.words.front().front()));
                pat.right_boundary = is_word_byte(static_cast<unsigned char>(pat.words.back().back()));
                std::string joined;
                for (const auto& part : pat.words) joined += (joined.empty() ? "" : " ") + part;
                expressions.push_back(to_expression(joined));
                ids.push_back(static_cast<unsigned>(im->patterns.size()));
                // Every occurrence is reported (no SINGLEMATCH): the first may fail the boundary
                // check ("liwestfan liwest") while a later one passes.
                flags.push_back(HS_FLAG_CASELESS);
                im->patterns.push_back(std::move(pat));
                origin.emplace_back(r, w);
            }
        }
    }
    im->literal_scan = im->patterns.size() <= max_literal_patterns &&
                       std::all_of(im->patterns.begin(), im->patterns.end(), [](const matcher_pattern& p) { return p.words.size() == 1; });
    if (!expressions.empty()) {
        std::vector<const char*> ptrs;
        for (auto& e : expressions) ptrs.push_back(e.c_str());
        hs_compile_error_t* err = nullptr;
        if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()), HS_MODE_BLOCK,
                             nullptr, &im->db, &err) != HS_SUCCESS) {
            compile_error ce;
            ce.message = err && err->message ? err->message : "cannot compile keywords";
            if (err && err->expression >= 0 && static_cast<std::size_t>(err->expression) < origin.size()) {
                ce.rule = origin[static_cast<std::size_t>(err->expression)].first;
                ce.keyword = origin[static_cast<std::size_t>(err->expression)].second;
            }
            hs_free_compile_error(err);
            return ce;
        }
    }
    return std::shared_ptr<const matcher>(new matcher(std::move(im)));
}

// A rule's "de" takes any German ("de", "de-AT", "DE_at"); a rule's "de-AT" only that region.
// Wire tags vary in case and separator, so both are compared loosely.
bool language_matches(std::string_view wanted, std::string_view tag) {
    auto same = [](char a, char b) {
        auto norm = [](char c) { return c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        return norm(a) == norm(b);
    };
    if (tag.size() < wanted.size()) return false;
    for (std::size_t i = 0; i < wanted.size(); ++i)
        if (!same(wanted[i], tag[i])) return false;
    return tag.size() == wanted.size() || tag[wanted.size()] == '-' || tag[wanted.size()] == '_';
}

bool matcher::accepts(std::size_t rule, std::string_view lang, std::string_view source) const {
    const auto& r = impl_->rules[rule];
    if (!r.sources.empty() && std::find(r.sources.begin(), r.sources.end(), source) == r.sources.end()) return false;
    if (r.languages.empty()) return true;
    for (const auto& l : r.languages)
        if (language_matches(l, lang)) return true;
    return false;
}

std::size_t matcher::rule_count() const { return impl_->rules.size(); }
const std::string& matcher::topic(std::size_t rule) const { return impl_->topics[rule]; }

namespace {

// Whether the match of `pat` ending at `to` stands as whole words: walks back over its words
// (and the whitespace between them) to find where it began, then looks at the characters
// around it.
bool boundary_ok(const matcher_pattern& pat, std::string_view text, std::size_t to) {
    std::size_t from = to;
    for (std::size_t i = pat.words.size(); i-- > 0;) {
        from -= pat.words[i].size();
        if (i > 0)
            while (from > 0 && (text[from - 1] == ' ' || text[from - 1] == '\t' || text[from - 1] == '\n' ||
                                text[from - 1] == '\r' || text[from - 1] == '\f' || text[from - 1] == '\v'))
                --from;
    }
    if (pat.left_boundary && from > 0 && is_word_code_point(code_point_before(text, from))) return false;
    if (pat.right_boundary && to < text.size() && is_word_code_point(code_point_at(text, to))) return false;
    return true;
}

}  // namespace

struct scanner::impl {
    const matcher* owner = nullptr;
    std::string_view text;  // the text being scanned, for boundary checks
    hs_scratch_t* scratch = nullptr;
    std::vector<unsigned char> hit_state;  // per rule: bit 0 keyword hit, bit 1 exclude hit
    std::vector<std::size_t> touched;

    // A match of pattern `id` ending at `to`.
    void on_match(std::size_t id, std::size_t to) {
        const auto& pat = owner->impl_->patterns[id];
        const unsigned char bit = pat.exclude ? 2 : 1;
        if ((hit_state[pat.rule] & bit) != 0) return;  // this rule already has this kind of hit
        if (!boundary_ok(pat, text, to)) return;
        if (hit_state[pat.rule] == 0) touched.push_back(pat.rule);
        hit_state[pat.rule] |= bit;
    }
    ~impl() {
        if (scratch) hs_free_scratch(scratch);
    }
};

scanner::scanner(const matcher& m) : impl_(std::make_unique<impl>()) {
    impl_->owner = &m;
    if (m.impl_->db) hs_alloc_scratch(m.impl_->db, &impl_->scratch);
    impl_->hit_state.assign(m.rule_count(), 0);
}
scanner::~scanner() = default;
scanner::scanner(scanner&&) noexcept = default;
scanner& scanner::operator=(scanner&&) noexcept = default;

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 0x20) : c; }

// Calls on_end(end offset) for every occurrence of `word` in `text`, overlapping ones too, with
// ASCII letters compared regardless of case and every other byte as it is: what Vectorscan
// reports for the word's expression (literal bytes, HS_FLAG_CASELESS, no UTF-8 mode).
template <typename OnEnd>
void find_word(std::string_view text, std::string_view word, OnEnd&& on_end) {
    const std::size_t n = word.size();
    if (n == 0 || n > text.size()) return;
    const char* const t = text.data();
    const std::size_t last_start = text.size() - n;  // occurrences start at 0..last_start
    const auto matches_at = [&](std::size_t i) {
        for (std::size_t k = 0; k < n; ++k)
            if (ascii_lower(t[i + k]) != ascii_lower(word[k])) return false;
        return true;
    };
#if defined(__SSE2__)
    // Sixteen start positions a step: those whose first and last byte fit (the filter of
    // Muła's "SIMD-friendly substring search"), each then compared in full. A letter is
    // compared in both cases rather than the text lower-cased.
    if (last_start >= 15) {
        const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 0x20) : c; };
        const char first = ascii_lower(word.front()), last = ascii_lower(word.back());
        const __m128i f1 = _mm_set1_epi8(first), f2 = _mm_set1_epi8(upper(first));
        const __m128i l1 = _mm_set1_epi8(last), l2 = _mm_set1_epi8(upper(last));
        const auto candidates = [&](std::size_t i) {
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + i));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + i + n - 1));
            const __m128i fa = _mm_or_si128(_mm_cmpeq_epi8(a, f1), _mm_cmpeq_epi8(a, f2));
            const __m128i lb = _mm_or_si128(_mm_cmpeq_epi8(b, l1), _mm_cmpeq_epi8(b, l2));
            return static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(fa, lb)));
        };
        const auto check = [&](std::size_t i, unsigned mask) {
            for (; mask != 0; mask &= mask - 1) {
                const std::size_t at = i + static_cast<std::size_t>(std::countr_zero(mask));
                if (matches_at(at)) on_end(at + n);
            }
        };
        std::size_t i = 0;
        for (; i + 15 <= last_start; i += 16) check(i, candidates(i));
        // The last starts: one more step ending at last_start, without the ones already seen.
        if (i <= last_start) {
            const std::size_t from = last_start - 15;
            check(from, candidates(from) & (0xFFFFu << (i - from)));
        }
        return;
    }
#endif
    const char first = ascii_lower(word.front()), last = ascii_lower(word.back());
    for (std::size_t i = 0; i <= last_start; ++i) {
        if (ascii_lower(t[i]) == first && ascii_lower(t[i + n - 1]) == last && matches_at(i)) on_end(i + n);
    }
}

}  // namespace

void scanner::scan(std::string_view folded_text, std::vector<std::size_t>& rules_hit) {
    const matcher::impl& m = *impl_->owner->impl_;
    if (!m.literal_scan) return scan_with_vectorscan(folded_text, rules_hit);
    // A few single words are found here rather than by Vectorscan, whose fixed cost per scan
    // dominates for such a database: with the one keyword of the mixed benchmark stream its scan
    // was ~840 instructions a mention (callgrind, ~200-byte texts), with this search ~680. Every
    // occurrence goes through the same check as a Vectorscan match (matcher_test compares the two).
    rules_hit.clear();
    if (!m.db || !impl_->scratch) return;  // as scan_with_vectorscan(): no database, no hits
    impl_->touched.clear();
    impl_->text = folded_text;
    for (std::size_t id = 0; id < m.patterns.size(); ++id)
        find_word(folded_text, m.patterns[id].words.front(), [&](std::size_t to) { impl_->on_match(id, to); });
    finish(rules_hit);
}

void scanner::scan_with_vectorscan(std::string_view folded_text, std::vector<std::size_t>& rules_hit) {
    rules_hit.clear();
    auto* db = impl_->owner->impl_->db;
    if (!db || !impl_->scratch) return;
    impl_->touched.clear();
    impl_->text = folded_text;
    auto on_match = [](unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) -> int {
        static_cast<scanner::impl*>(ctx)->on_match(id, static_cast<std::size_t>(to));
        return 0;
    };
    hs_scan(db, folded_text.data(), static_cast<unsigned>(folded_text.size()), 0, impl_->scratch, on_match, impl_.get());
    finish(rules_hit);
}

void scanner::finish(std::vector<std::size_t>& rules_hit) {
    std::sort(impl_->touched.begin(), impl_->touched.end());
    for (auto r : impl_->touched) {
        if (impl_->hit_state[r] == 1) rules_hit.push_back(r);
        impl_->hit_state[r] = 0;
    }
}

}  // namespace crisisd::match
