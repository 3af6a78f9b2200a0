#include "match/matcher.hpp"

#include <hs/hs.h>

#include <algorithm>

#include "text/normalize.hpp"

namespace crisisd::match {
namespace {

// Pattern ids encode the rule and whether the keyword excludes: id = rule * 2 + exclude.
constexpr unsigned pattern_id(std::size_t rule, bool exclude) { return static_cast<unsigned>(rule * 2 + (exclude ? 1 : 0)); }

bool is_word_byte(unsigned char c) {
    // Any byte of a multi-byte UTF-8 sequence is treated as part of a word: keywords are words
    // of human languages, and their non-ASCII letters are letters.
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Turns a folded keyword into a Vectorscan expression: literal characters, runs of spaces match
// any whitespace, and a word boundary is required at an end only where the keyword itself has a word character
// there (so "#ausfall" and "@liwest" still match after punctuation or at the start of text).
std::string to_expression(std::string_view keyword) {
    std::string out;
    while (!keyword.empty() && keyword.front() == ' ') keyword.remove_prefix(1);
    while (!keyword.empty() && keyword.back() == ' ') keyword.remove_suffix(1);
    if (keyword.empty()) return out;
    // Vectorscan has no \\b in Unicode mode, so a boundary is spelled out: start of text or a
    // character that is neither letter nor digit (the keyword's own text is literal anyway).
    if (is_word_byte(static_cast<unsigned char>(keyword.front()))) out += "(?:^|[^\\p{L}\\p{N}_])";
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
    if (is_word_byte(static_cast<unsigned char>(keyword.back()))) out += "(?:$|[^\\p{L}\\p{N}_])";
    return out;
}

}  // namespace

struct matcher::impl {
    hs_database_t* db = nullptr;
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
        std::string topic = rules[r].keywords.empty() ? std::string() : rules[r].keywords.front();
        while (!topic.empty() && (topic.front() == '@' || topic.front() == '#')) topic.erase(0, 1);
        im->topics.push_back(topic);
        for (int pass = 0; pass < 2; ++pass) {
            const auto& words = pass == 0 ? rules[r].keywords : rules[r].exclude;
            for (const auto& w : words) {
                folded.clear();
                text::fold_case(w, folded);
                auto expr = to_expression(folded);
                if (expr.empty()) return compile_error{r, w, "empty keyword"};
                expressions.push_back(std::move(expr));
                ids.push_back(pattern_id(r, pass == 1));
                flags.push_back(HS_FLAG_UTF8 | HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
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

namespace {

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

}  // namespace

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

struct scanner::impl {
    const matcher* owner = nullptr;
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
    auto on_match = [](unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) -> int {
        auto* self = static_cast<scanner::impl*>(ctx);
        std::size_t rule = id / 2;
        if (self->hit_state[rule] == 0) self->touched.push_back(rule);
        self->hit_state[rule] |= static_cast<unsigned char>((id & 1) ? 2 : 1);
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
