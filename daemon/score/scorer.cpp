#include "score/scorer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

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
    std::string_view raw;    // after VADER's punctuation strip; original case
    std::string_view lower;  // case-folded raw (typographic apostrophe folded to ')
    const entry* e = nullptr;
    bool foreign = false;     // German text, entry from the English lexicon: valence only
    bool upper = false;       // Python str.isupper()
    bool nt = false;          // contains "n't"
    bool clause_end = false;  // the whitespace token ended a clause (, . ; : ! ?)
    bool from_emoji = false;  // a word of an emoji's description
    bool consumed = false;    // continuation of a German multi-word entry
};

// Per-thread buffers: they grow to the largest mention a thread has seen and are then reused, so
// steady-state scoring does not touch the heap.
struct scratch {
    std::string clean;
    std::string lower;
    std::vector<token> tokens;
    std::vector<double> sentiments;
    std::vector<std::pair<std::size_t, std::size_t>> emoji_spans;
    int exclamations = 0;
    int questions = 0;
};

scratch& thread_scratch() {
    thread_local scratch s;
    return s;
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

// Links and @handles carry no sentiment and, left in, would count as neutral words.
bool is_link_or_handle(std::string_view raw) {
    while (!raw.empty() && (raw.front() == '(' || raw.front() == '<' || raw.front() == '"')) raw.remove_prefix(1);
    if (starts_with_ci(raw, "http://") || starts_with_ci(raw, "https://") || starts_with_ci(raw, "www.")) return true;
    if (raw.find("://") != std::string_view::npos) return true;
    return raw.size() > 1 && raw.front() == '@' && (is_ascii_alnum(raw[1]) || raw[1] == '_');
}

// Python str.isupper(): at least one cased character and no lower-case one.
bool python_isupper(std::string_view s) {
    bool upper = false;
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            if (b >= 'a' && b <= 'z') return false;
            if (b >= 'A' && b <= 'Z') upper = true;
            ++i;
            continue;
        }
        const auto d = text::decode_utf8(s, i);
        if (text::is_lower(d.code_point)) return false;
        if (text::is_upper(d.code_point)) upper = true;
        i += d.length;
    }
    return upper;
}

void append_lower(std::string_view raw, std::string& out) {
    const std::size_t start = out.size();
    text::fold_case(raw, out);
    // "don’t" as typed on phones is "don't".
    if (raw.find("\xE2\x80\x99") == std::string_view::npos) return;
    std::size_t w = start;
    for (std::size_t r = start; r < out.size();) {
        if (out.compare(r, 3, "\xE2\x80\x99") == 0) {
            out[w++] = '\'';
            r += 3;
        } else {
            out[w++] = out[r++];
        }
    }
    out.resize(w);
}

// Elongated words ("goooood", "sooo", "neeein"): runs of three or more identical letters are
// tried shortened to two, then to one letter, when the word as written is unknown.
const entry* find_elongated(const detail::word_table& table, std::string_view w) {
    if (const entry* e = table.find(w)) return e;
    if (w.size() < 3 || w.size() > 64) return nullptr;
    bool has_run = false;
    for (std::size_t i = 2; i < w.size() && !has_run; ++i) has_run = w[i] == w[i - 1] && w[i] == w[i - 2];
    if (!has_run) return nullptr;
    std::array<char, 64> two;  // NOLINT: filled before use
    std::array<char, 64> one;
    std::size_t n2 = 0;
    std::size_t n1 = 0;
    bool elongated = false;
    for (std::size_t i = 0; i < w.size();) {
        std::size_t j = i + 1;
        while (j < w.size() && w[j] == w[i]) ++j;
        const std::size_t run = j - i;
        const bool letter = (w[i] >= 'a' && w[i] <= 'z');
        if (letter && run >= 3) {
            elongated = true;
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
    if (!elongated) return nullptr;
    if (const entry* e = table.find({two.data(), n2})) return e;
    return table.find({one.data(), n1});
}

bool in_lexicon(const token& t) { return t.e != nullptr && t.e->has(entry::has_valence); }

// ---------------------------------------------------------------------------------------------
// Shared front end: emoji -> descriptions, whitespace split, links/handles, punctuation strip.

void replace_emoji(std::string_view text, const lexicons& lex, scratch& s) {
    s.clean.clear();
    s.emoji_spans.clear();
    bool prev_space = true;
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            s.clean.push_back(static_cast<char>(b));
            prev_space = b == ' ';
            ++i;
            continue;
        }
        const auto d = text::decode_utf8(text, i);
        const char32_t cp = d.code_point;
        if (cp < 0x2000 && cp != 0xA9 && cp != 0xAE) {  // no single-code-point emoji below U+2000 except (c) (r)
            s.clean.append(text.substr(i, d.length));
            prev_space = false;
            i += d.length;
            continue;
        }
        // Deliberate deviation from Python VADER: variation selectors, ZWJ and skin-tone modifiers
        // are presentation details. Python appends U+FE0F to the description ("red heart\uFE0F"),
        // which makes the last description word unreachable in the lexicon.
        if (cp == 0xFE0F || cp == 0xFE0E || cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF)) {
            i += d.length;
            continue;
        }
        const std::string_view description = d.valid ? lex.describe_emoji(cp) : std::string_view{};
        if (!description.empty()) {
            if (!prev_space) s.clean.push_back(' ');
            const std::size_t start = s.clean.size();
            s.clean.append(description);
            s.emoji_spans.emplace_back(start, s.clean.size());
        } else if (d.valid) {
            s.clean.append(text.substr(i, d.length));
        } else {
            text::append_utf8(text::replacement_character, s.clean);
        }
        prev_space = false;
        i += d.length;
    }
}

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

template <typename Lookup>
void tokenize(language lang, const lexicons& lex, scratch& s, Lookup&& lookup) {
    s.tokens.clear();
    s.lower.clear();
    s.exclamations = 0;
    s.questions = 0;
    // Tokens keep string_views into `lower`, so it must not reallocate while tokenising; folding
    // never produces more than 3 bytes per input byte (an invalid byte becomes U+FFFD).
    if (s.lower.capacity() < 3 * s.clean.size() + 16) s.lower.reserve(3 * s.clean.size() + 16);
    const std::string_view clean = s.clean;
    std::size_t span = 0;
    std::size_t i = 0;
    while (i < clean.size()) {
        if (const std::size_t w = whitespace_length(clean, i); w != 0) {
            i += w;
            continue;
        }
        std::size_t j = i;
        while (j < clean.size()) {
            const auto b = static_cast<unsigned char>(clean[j]);
            if (b > 0x20 && b < 0x80) {  // printable ASCII: never white space
                ++j;
                continue;
            }
            if (whitespace_length(clean, j) != 0) break;
            ++j;
        }
        const std::string_view raw = clean.substr(i, j - i);
        const std::size_t start = i;
        i = j;
        if (is_link_or_handle(raw)) continue;
        for (const char c : raw) {
            s.exclamations += c == '!';
            s.questions += c == '?';
        }
        std::size_t a = 0;
        std::size_t b = raw.size();
        while (a < b && is_punct(raw[a])) ++a;
        while (b > a && is_punct(raw[b - 1])) --b;
        const std::string_view stripped = raw.substr(a, b - a);

        token t;
        while (span < s.emoji_spans.size() && s.emoji_spans[span].second <= start) ++span;
        t.from_emoji = span < s.emoji_spans.size() && s.emoji_spans[span].first <= start;
        const char last = raw.back();
        t.clause_end = (last == ',' || last == '.' || last == ';' || last == ':' || last == '!' || last == '?') &&
                       !stripped.empty();
        if (lang == language::english) {
            // VADER: strip leading/trailing punctuation unless that leaves <= 2 characters
            // (keeps ":)" and "<3", but also "ok!" - a Python quirk we keep for agreement).
            t.raw = code_points(stripped) <= 2 ? raw : stripped;
        } else {
            // German: keep a token as written only when it is itself known (emoticons such as
            // ":)" or ":-(", "<3"); otherwise always strip, so "ok!" and "gut," are found.
            t.raw = stripped;
            // Only a token that stripping would reduce to <= 2 characters can be an emoticon
            // (":)", ":-(", ":D", "<3"); longer ones ("gut,", "Stunde!!") are words.
            if (stripped.size() != raw.size() && code_points(stripped) <= 2) {
                const std::size_t mark = s.lower.size();
                append_lower(raw, s.lower);
                const std::string_view whole(s.lower.data() + mark, s.lower.size() - mark);
                const bool known = lex.german.find(whole) != nullptr || lex.english.find(whole) != nullptr ||
                                   emoticon_valence(whole) != 0;
                s.lower.resize(mark);
                if (stripped.empty() && !known) {
                    // Free-standing punctuation (tokenised tweets: "gut ."): ends the clause of
                    // the previous word instead of being a neutral word itself.
                    if (t.clause_end || raw.find_first_of(".,;:!?") != std::string_view::npos) {
                        if (!s.tokens.empty()) s.tokens.back().clause_end = true;
                    }
                    continue;
                }
                if (known || stripped.empty()) t.raw = raw;
            }
        }
        const std::size_t mark = s.lower.size();
        append_lower(t.raw, s.lower);
        t.lower = std::string_view(s.lower.data() + mark, s.lower.size() - mark);
        t.upper = python_isupper(t.raw);
        t.nt = t.lower.find("n't") != std::string_view::npos;
        lookup(t);
        s.tokens.push_back(t);
    }
}

// ---------------------------------------------------------------------------------------------
// Shared back end: VADER's score_valence().

sentiment score_valence(const std::vector<double>& sentiments, int exclamations, int questions) {
    sentiment out;
    if (sentiments.empty()) return out;
    double sum = 0;
    for (const double v : sentiments) sum += v;
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

    double pos_sum = 0;
    double neg_sum = 0;
    int neu_count = 0;
    for (const double v : sentiments) {
        if (v > 0) pos_sum += v + 1;  // +1/-1 compensate for neutral words counting 1
        if (v < 0) neg_sum += v - 1;
        if (v == 0) ++neu_count;
    }
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

// The "but" rule, by position (Python's list.index() lookup can rescale the wrong one of two equal
// values; see README).
void apply_contrast(const std::vector<token>& tokens, std::vector<double>& sentiments, bool german) {
    for (std::size_t b = 0; b < tokens.size(); ++b) {
        const token& t = tokens[b];
        const bool contrast = german ? (t.e != nullptr && !t.foreign && !t.consumed && t.e->has(entry::contrast))
                                     : t.lower == "but";
        if (!contrast) continue;
        for (std::size_t k = 0; k < sentiments.size(); ++k) {
            if (k < b) sentiments[k] *= 0.5;
            if (k > b) sentiments[k] *= 1.5;
        }
        return;
    }
}

// ---------------------------------------------------------------------------------------------
// English: vaderSentiment.py 3.3.2, rule for rule.

struct idiom {
    std::array<std::string_view, 3> words;
    std::size_t length;
    double valence;
};
// SPECIAL_CASES. Python also lists the single word "badass", which can never equal a joined
// n-gram of two or more tokens, so it is omitted here.
constexpr idiom special_cases[] = {
    {{"the", "shit", ""}, 2, 3},        {{"the", "bomb", ""}, 2, 3},        {{"bad", "ass", ""}, 2, 1.5},
    {{"bus", "stop", ""}, 2, 0},        {{"yeah", "right", ""}, 2, -2},     {{"kiss", "of", "death"}, 3, -1.5},
    {{"to", "die", "for"}, 3, 3},       {{"beating", "heart", ""}, 2, 3.1}, {{"broken", "heart", ""}, 2, -2.9},
};
constexpr std::array<std::string_view, 2> multiword_boosters[] = {{"just", "enough"}, {"kind", "of"}, {"sort", "of"}};

class english_rules {
public:
    english_rules(const std::vector<token>& tokens, bool cap_diff) : t_(tokens), cap_diff_(cap_diff) {}

    double valence(std::size_t i) const {
        const token& item = t_[i];
        double v = item.e->valence;
        if (item.lower == "no" && i + 1 < t_.size() && in_lexicon(t_[i + 1])) v = 0.0;
        if ((i > 0 && lower(i - 1) == "no") || (i > 1 && lower(i - 2) == "no") ||
            (i > 2 && lower(i - 3) == "no" && (lower(i - 1) == "or" || lower(i - 1) == "nor"))) {
            v = item.e->valence * n_scalar;
        }
        if (item.upper && cap_diff_) v += v > 0 ? c_incr : -c_incr;
        for (std::size_t start = 0; start < 3; ++start) {
            if (i <= start) continue;
            const token& prev = t_[i - (start + 1)];
            if (in_lexicon(prev)) continue;
            double s = scalar_inc_dec(prev, v);
            if (start == 1 && s != 0) s *= 0.95;
            if (start == 2 && s != 0) s *= 0.9;
            v += s;
            v = negation_check(v, start, i);
            if (start == 2) v = special_idioms_check(v, i);
        }
        return least_check(v, i);
    }

private:
    std::string_view lower(std::size_t i) const { return t_[i].lower; }

    double scalar_inc_dec(const token& word, double v) const {
        if (word.e == nullptr || !word.e->has(entry::booster)) return 0;
        double scalar = word.e->boost;
        if (v < 0) scalar *= -1;
        if (word.upper && cap_diff_) scalar += v > 0 ? c_incr : -c_incr;
        return scalar;
    }

    static bool negated(const token& t) { return (t.e != nullptr && t.e->has(entry::negator)) || t.nt; }

    double negation_check(double v, std::size_t start, std::size_t i) const {
        if (start == 0) {
            if (negated(t_[i - 1])) v *= n_scalar;
        } else if (start == 1) {
            if (lower(i - 2) == "never" && (lower(i - 1) == "so" || lower(i - 1) == "this")) {
                v *= 1.25;
            } else if (lower(i - 2) == "without" && lower(i - 1) == "doubt") {
            } else if (negated(t_[i - 2])) {
                v *= n_scalar;
            }
        } else {
            // Python: `a and b or c` - "so"/"this" right before the word scales by 1.25 even
            // without "never" (operator precedence in vaderSentiment.py; kept for fidelity).
            if ((lower(i - 3) == "never" && (lower(i - 2) == "so" || lower(i - 2) == "this")) ||
                (lower(i - 1) == "so" || lower(i - 1) == "this")) {
                v *= 1.25;
            } else if (lower(i - 3) == "without" && (lower(i - 2) == "doubt" || lower(i - 1) == "doubt")) {
            } else if (negated(t_[i - 3])) {
                v *= n_scalar;
            }
        }
        return v;
    }

    bool sequence_is(std::size_t from, std::size_t length, const std::string_view* words) const {
        for (std::size_t k = 0; k < length; ++k) {
            if (lower(from + k) != words[k]) return false;
        }
        return true;
    }

    const idiom* special_case(std::size_t from, std::size_t length) const {
        for (const idiom& id : special_cases) {
            if (id.length == length && sequence_is(from, length, id.words.data())) return &id;
        }
        return nullptr;
    }

    double special_idioms_check(double v, std::size_t i) const {
        // Order of vaderSentiment.py: onezero, twoonezero, twoone, threetwoone, threetwo.
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
        // Booster bi-grams ("kind of", "sort of", "just enough") at threetwo and twoone.
        for (const std::size_t from : {i - 3, i - 2}) {
            for (const auto& words : multiword_boosters) {
                if (sequence_is(from, 2, words.data())) v += b_decr;
            }
        }
        return v;
    }

    double least_check(double v, std::size_t i) const {
        if (i > 1 && !in_lexicon(t_[i - 1]) && lower(i - 1) == "least") {
            if (lower(i - 2) != "at" && lower(i - 2) != "very") v *= n_scalar;
        } else if (i > 0 && !in_lexicon(t_[i - 1]) && lower(i - 1) == "least") {
            v *= n_scalar;
        }
        return v;
    }

    const std::vector<token>& t_;
    bool cap_diff_;
};

bool cap_differential(const std::vector<token>& tokens) {
    std::size_t upper = 0;
    for (const token& t : tokens) upper += t.upper;
    const std::size_t diff = tokens.size() - upper;
    return diff > 0 && diff < tokens.size();
}

sentiment score_english(const lexicons& lex, scratch& s) {
    tokenize(language::english, lex, s, [&](token& t) { t.e = find_elongated(lex.english, t.lower); });
    const bool cap_diff = cap_differential(s.tokens);
    const english_rules rules(s.tokens, cap_diff);
    s.sentiments.clear();
    for (std::size_t i = 0; i < s.tokens.size(); ++i) {
        const token& t = s.tokens[i];
        const bool kind_of = i + 1 < s.tokens.size() && t.lower == "kind" && s.tokens[i + 1].lower == "of";
        if ((t.e != nullptr && t.e->has(entry::booster)) || kind_of || !in_lexicon(t)) {
            s.sentiments.push_back(0);
            continue;
        }
        s.sentiments.push_back(rules.valence(i));
    }
    apply_contrast(s.tokens, s.sentiments, false);
    return score_valence(s.sentiments, s.exclamations, s.questions);
}

// ---------------------------------------------------------------------------------------------
// German: VADER's arithmetic with German modifiers and morphology (see README).

const entry* find_compound_head(const lexicons& lex, std::string_view w) {
    // Longest known suffix of at least 4 bytes after a first part of at least 3 bytes:
    // "totalausfall" -> "ausfall", "internetstörungen" -> "störungen".
    if (w.size() < 7 || !lex.german_tails.test(lexicons::tail_bucket(w))) return nullptr;
    for (std::size_t start = 3; start + 4 <= w.size(); ++start) {
        if ((static_cast<unsigned char>(w[start]) & 0xC0) == 0x80) continue;
        const entry* e = lex.german.find(w.substr(start));
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

void lookup_german(const lexicons& lex, token& t) {
    if (t.from_emoji) {
        t.e = lex.english.find(t.lower);
        t.foreign = true;
        return;
    }
    if ((t.e = find_elongated(lex.german, t.lower)) != nullptr) return;
    // English words and emoticons in German posts ("fail", "sorry", ":)"), valence only.
    if (const entry* e = find_elongated(lex.english, t.lower); e != nullptr && e->has(entry::has_valence)) {
        t.e = e;
        t.foreign = true;
        return;
    }
    if ((t.e = find_compound_head(lex, t.lower)) != nullptr) return;
    if (is_laughter(t.lower)) {
        t.e = lex.english.find("haha");
        t.foreign = true;
    } else if (const double v = emoticon_valence(t.lower); v != 0) {
        t.e = v > 0 ? &positive_emoticon : &negative_emoticon;
        t.foreign = true;
    }
}

class german_rules {
public:
    german_rules(const lexicons& lex, std::vector<token>& tokens, bool cap_diff)
        : lex_(lex), t_(tokens), cap_diff_(cap_diff) {
        for (std::size_t i = 0; i < t_.size(); ++i) {
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
    std::pair<const entry*, std::size_t> phrase(std::size_t i) const {
        std::array<char, 96> key;  // NOLINT: filled before use
        for (std::size_t length = 3; length >= 2; --length) {
            if (i + length > t_.size()) continue;
            std::size_t n = 0;
            bool fits = true;
            for (std::size_t k = 0; k < length && fits; ++k) {
                const token& t = t_[i + k];
                if ((k + 1 < length && t.clause_end) || t.consumed || n + t.lower.size() + 1 > key.size()) {
                    fits = false;
                    break;
                }
                if (k > 0) key[n++] = ' ';
                std::memcpy(key.data() + n, t.lower.data(), t.lower.size());
                n += t.lower.size();
            }
            if (!fits) continue;
            const entry* e = lex_.german.find({key.data(), n});
            if (e != nullptr && e->has(entry::has_valence)) return {e, length};
        }
        return {nullptr, 0};
    }

    const lexicons& lex_;
    std::vector<token>& t_;
    bool cap_diff_;
    std::size_t first_weder_ = static_cast<std::size_t>(-1);
};

sentiment score_german(const lexicons& lex, scratch& s) {
    tokenize(language::german, lex, s, [&](token& t) { lookup_german(lex, t); });
    german_rules rules(lex, s.tokens, cap_differential(s.tokens));
    s.sentiments.clear();
    for (std::size_t i = 0; i < s.tokens.size(); ++i) s.sentiments.push_back(rules.valence(i));
    apply_contrast(s.tokens, s.sentiments, true);
    return score_valence(s.sentiments, s.exclamations, s.questions);
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

scorer::scorer() : lexicons_(&lexicons::instance()) {}

sentiment scorer::score(std::string_view text, std::string_view lang) const {
    scratch& s = thread_scratch();
    replace_emoji(text, *lexicons_, s);
    return resolve_language(text, lang) == language::german ? score_german(*lexicons_, s)
                                                            : score_english(*lexicons_, s);
}

}  // namespace crisisd::score
