#include "match/matcher.hpp"

#include <hs/hs.h>

#include <algorithm>

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

struct matcher::impl {
    hs_database_t* db = nullptr;
    std::vector<matcher_pattern> patterns;
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

void scanner::scan(std::string_view folded_text, std::vector<std::size_t>& rules_hit) {
    rules_hit.clear();
    auto* db = impl_->owner->impl_->db;
    if (!db || !impl_->scratch) return;
    impl_->touched.clear();
    impl_->text = folded_text;
    auto on_match = [](unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) -> int {
        auto* self = static_cast<scanner::impl*>(ctx);
        const auto& pat = self->owner->impl_->patterns[id];
        const unsigned char bit = pat.exclude ? 2 : 1;
        if ((self->hit_state[pat.rule] & bit) != 0) return 0;  // this rule already has this kind of hit
        if (!boundary_ok(pat, self->text, static_cast<std::size_t>(to))) return 0;
        if (self->hit_state[pat.rule] == 0) self->touched.push_back(pat.rule);
        self->hit_state[pat.rule] |= bit;
        return 0;
    };
    hs_scan(db, folded_text.data(), static_cast<unsigned>(folded_text.size()), 0, impl_->scratch, on_match, impl_.get());
    std::sort(impl_->touched.begin(), impl_->touched.end());
    for (auto r : impl_->touched) {
        if (impl_->hit_state[r] == 1) rules_hit.push_back(r);
        impl_->hit_state[r] = 0;
    }
}

}  // namespace crisisd::match
