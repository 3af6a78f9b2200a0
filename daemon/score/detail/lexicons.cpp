#include "score/detail/lexicons.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "text/normalize.hpp"
#include "text/utf8.hpp"

namespace crisisd::score::detail {

namespace {

constexpr double b_incr = 0.293;
constexpr double b_decr = -0.293;

// NEGATE of the reference port (npm vader-sentiment 1.1.3; the same list as vaderSentiment 3.3.2).
// The scorer also treats any token containing "n't" as a negator.
constexpr std::string_view english_negators[] = {
    "aint",     "arent",    "cannot",  "cant",     "couldnt",  "darent",   "didnt",    "doesnt",
    "ain't",    "aren't",   "can't",   "couldn't", "daren't",  "didn't",   "doesn't",  "dont",
    "hadnt",    "hasnt",    "havent",  "isnt",     "mightnt",  "mustnt",   "neither",  "don't",
    "hadn't",   "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",  "neednt",   "needn't",
    "never",    "none",     "nope",    "nor",      "not",      "nothing",  "nowhere",  "oughtnt",
    "shant",    "shouldnt", "uhuh",    "wasnt",    "werent",   "oughtn't", "shan't",   "shouldn't",
    "uh-uh",    "wasn't",   "weren't", "without",  "wont",     "wouldnt",  "won't",    "wouldn't",
    "rarely",   "seldom",   "despite",
};

// BOOSTER_DICT of the reference port (VADER of 2016). vaderSentiment 3.3.2 later added
// considerable, enormous, exceptional, extreme, frackin(g), fuckin, fuggin(g), incredible, major,
// total, tremendous, utter, marginal, occasional, scarce and slight; crisisd follows the port.
// The two-word keys ("kind of", "sort of", "just enough") only matter to the idiom check, which
// the scorer does on token pairs.
constexpr std::pair<std::string_view, double> english_boosters[] = {
    {"absolutely", b_incr},   {"amazingly", b_incr},    {"awfully", b_incr},      {"completely", b_incr},
    {"considerably", b_incr}, {"decidedly", b_incr},    {"deeply", b_incr},       {"effing", b_incr},
    {"enormously", b_incr},   {"entirely", b_incr},     {"especially", b_incr},   {"exceptionally", b_incr},
    {"extremely", b_incr},    {"fabulously", b_incr},   {"flipping", b_incr},     {"flippin", b_incr},
    {"fricking", b_incr},     {"frickin", b_incr},      {"frigging", b_incr},     {"friggin", b_incr},
    {"fully", b_incr},        {"fucking", b_incr},      {"greatly", b_incr},      {"hella", b_incr},
    {"highly", b_incr},       {"hugely", b_incr},       {"incredibly", b_incr},   {"intensely", b_incr},
    {"majorly", b_incr},      {"more", b_incr},         {"most", b_incr},         {"particularly", b_incr},
    {"purely", b_incr},       {"quite", b_incr},        {"really", b_incr},       {"remarkably", b_incr},
    {"so", b_incr},           {"substantially", b_incr}, {"thoroughly", b_incr},  {"totally", b_incr},
    {"tremendously", b_incr}, {"uber", b_incr},         {"unbelievably", b_incr}, {"unusually", b_incr},
    {"utterly", b_incr},      {"very", b_incr},         {"almost", b_decr},       {"barely", b_decr},
    {"hardly", b_decr},       {"kinda", b_decr},        {"kindof", b_decr},       {"kind-of", b_decr},
    {"less", b_decr},         {"little", b_decr},       {"marginally", b_decr},   {"occasionally", b_decr},
    {"partly", b_decr},       {"scarcely", b_decr},     {"slightly", b_decr},     {"somewhat", b_decr},
    {"sorta", b_decr},        {"sortof", b_decr},       {"sort-of", b_decr},
};

// Where the lexicon of the reference port (VADER's file of 2016) differs from the shipped
// vader_lexicon.txt of vaderSentiment 3.3.2 (checked entry by entry against the port's
// vader_lexicon.js): three later additions and one changed rating.
constexpr std::string_view reference_lexicon_lacks[] = {"heart", "hearts", "flawed"};
constexpr std::pair<std::string_view, double> reference_lexicon_values[] = {{"badass", -0.6}};

// German degree modifiers, negators and function words. Written for crisisd (not taken from any
// lexicon): boosters intensify like English "very", dampeners like "slightly".
constexpr std::string_view german_boosters[] = {
    "absolut",  "äußerst",   "außerordentlich", "besonders", "derbe",     "dermaßen",   "deutlich",
    "durchaus", "echt",      "enorm",           "erheblich", "extrem",    "ganz",       "gänzlich",
    "höchst",   "komplett",  "massiv",          "mega",      "richtig",   "sehr",       "so",
    "soo",      "sowas",     "tierisch",        "total",     "ultra",     "unfassbar",  "unglaublich",
    "unheimlich", "verdammt", "viel",           "voll",      "völlig",    "wahnsinnig", "wirklich",
    "ziemlich", "zutiefst",  "übelst",          "arg",       "krass",     "zu",         "überaus",
    "brutal",   "endlos",    "maximal",
};
constexpr std::string_view german_dampeners[] = {
    "etwas", "bisschen", "bissl", "bissel", "wenig", "kaum", "leicht", "eher", "relativ", "halbwegs",
    "einigermaßen", "fast", "beinahe", "teilweise", "teils", "ansatzweise", "minimal", "tendenziell",
};
constexpr std::string_view german_negators[] = {
    "nicht", "nich", "net", "ned", "kein", "keine", "keinen", "keinem", "keiner", "keines", "keins",
    "nie", "niemals", "nimmer", "nichts", "nix", "niemand", "nirgends", "nirgendwo", "ohne", "weder",
    "keinesfalls", "keineswegs", "garnicht", "null",
};
constexpr std::string_view german_kein_words[] = {
    "kein", "keine", "keinen", "keinem", "keiner", "keines", "keins", "ohne", "nix", "null",
};
constexpr std::string_view german_contrast[] = {"aber", "jedoch", "doch", "allerdings"};
constexpr std::string_view german_fillers[] = {
    "mir", "mich", "dir", "dich", "uns", "euch", "ihm", "ihn", "ihnen", "es", "das", "man", "ich", "du",
    "er", "sie", "wir", "ihr", "ja", "eben", "halt", "wohl", "noch", "immer", "mehr", "leider", "heute",
    "wieder", "schon", "auch", "gar", "überhaupt", "da", "hier", "jetzt", "irgendwie", "einfach", "echt",
    "wirklich", "so", "mal", "denn", "richtig", "mehr", "gerade", "grad", "seit", "stunden", "tagen",
};
constexpr std::string_view german_service_nouns[] = {
    "internet", "netz", "empfang", "verbindung", "strom", "wlan", "wifi", "signal", "telefon", "festnetz",
    "mobilfunk", "lte", "dsl", "tv", "fernsehen", "zugang", "antwort", "rückmeldung", "hilfe", "support",
    "service", "kontakt", "ersatz", "info", "infos", "information", "informationen", "update", "updates",
    "lösung", "entschädigung", "gutschrift", "techniker", "termin", "anschluss", "datenverbindung",
    "handynetz", "mobilnetz", "5g", "4g", "3g", "netzempfang", "reaktion", "erstattung", "rückruf",
    "wasser", "heizung", "zug", "bahn", "bus", "daten", "mobiles", "e-mail", "email", "ansprechpartner",
};

double parse_double(std::string_view s) {
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::string lower(std::string_view s) {
    std::string out;
    text::fold_case(s, out);
    return out;
}

template <typename Fn>
void for_each_line(std::string_view data, Fn&& fn) {
    while (!data.empty()) {
        const std::size_t nl = data.find('\n');
        std::string_view line = data.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        fn(line);
        if (nl == std::string_view::npos) break;
        data.remove_prefix(nl + 1);
    }
}

std::string_view field(std::string_view line, std::size_t index) {
    for (std::size_t i = 0; i < index; ++i) {
        const std::size_t tab = line.find('\t');
        if (tab == std::string_view::npos) return {};
        line.remove_prefix(tab + 1);
    }
    return line.substr(0, line.find('\t'));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool has_upper_case(std::string_view word) {
    for (std::size_t i = 0; i < word.size();) {
        const auto d = text::decode_utf8(word, i);
        if (text::is_upper(d.code_point)) return true;
        i += d.length;
    }
    return false;
}

// `reference`: the port's data (see reference_lexicon_*), plus boosters and negators; otherwise
// the 3.3.2 valences only. Duplicate entries: the last value wins (Python's dict and the port's
// vader_lexicon.js agree, e.g. lol = 1.8). Keys with upper case (":D", "O.o", ":Þ") can never
// equal a lower-cased token and are left out, as unreachable as they are in both implementations.
void load_english(word_table& table, bool reference) {
    for_each_line(vader_lexicon_txt, [&](std::string_view line) {
        const std::string_view word = field(line, 0);
        const std::string_view measure = field(line, 1);
        if (word.empty() || measure.empty() || has_upper_case(word)) return;
        if (reference && std::find(std::begin(reference_lexicon_lacks), std::end(reference_lexicon_lacks), word) !=
                             std::end(reference_lexicon_lacks)) {
            return;
        }
        entry& e = table.upsert(word);
        e.valence = parse_double(measure);
        e.flags |= entry::has_valence;
    });
    if (!reference) return;
    for (const auto& [word, value] : reference_lexicon_values) table.upsert(word).valence = value;
    for (const auto& [word, value] : english_boosters) {
        entry& e = table.upsert(word);
        e.boost = value;
        e.flags |= entry::booster;
    }
    for (const auto word : english_negators) table.upsert(word).flags |= entry::negator;
    constexpr std::pair<std::string_view, english_word> words[] = {
        {"never", w_never}, {"so", w_so},         {"this", w_this},     {"but", w_but},   {"least", w_least},
        {"at", w_at},       {"very", w_very},     {"kind", w_kind},     {"of", w_of},     {"the", w_the},
        {"shit", w_shit},   {"bomb", w_bomb},     {"bad", w_bad},       {"ass", w_ass},   {"yeah", w_yeah},
        {"right", w_right}, {"cut", w_cut},       {"mustard", w_mustard}, {"kiss", w_kiss}, {"death", w_death},
        {"hand", w_hand},   {"to", w_to},         {"mouth", w_mouth},   {"just", w_just}, {"enough", w_enough},
        {"sort", w_sort},
    };
    for (const auto& [word, id] : words) table.upsert(word).word = id;
}

void load_emoji(std::vector<emoji_description>& emoji) {
    for_each_line(emoji_utf8_lexicon_txt, [&](std::string_view line) {
        const std::string_view key = trim(field(line, 0));
        const std::string_view description = trim(field(line, 1));
        if (key.empty() || description.empty()) return;
        const auto d = text::decode_utf8(key, 0);
        // Python iterates the text one code point at a time, so only single-code-point keys can
        // ever match; sequences (flags, keycaps, ZWJ families) are reached through their parts.
        if (!d.valid || d.length != key.size()) return;
        emoji.push_back({d.code_point, description});
    });
    std::stable_sort(emoji.begin(), emoji.end(),
                     [](const emoji_description& a, const emoji_description& b) { return a.code_point < b.code_point; });
    // Python's dict keeps the last duplicate.
    std::vector<emoji_description> unique;
    for (const auto& e : emoji) {
        if (!unique.empty() && unique.back().code_point == e.code_point) {
            unique.back() = e;
        } else {
            unique.push_back(e);
        }
    }
    emoji = std::move(unique);
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Forms generated from a German base form, by word class. Over-generation is harmless (the extra
// keys are simply never seen); explicit lexicon lines always take precedence.
std::vector<std::string> inflections(std::string_view word, char word_class) {
    std::vector<std::string> forms;
    const auto add = [&](std::string_view stem, std::initializer_list<std::string_view> endings) {
        for (const auto end : endings) forms.push_back(std::string(stem) + std::string(end));
    };
    switch (word_class) {
        case 'a':
            add(word, {"e", "en", "er", "es", "em", "ere", "eren", "erer", "eres", "erem", "ste", "sten",
                       "ster", "stes", "stem", "este", "esten", "ester", "estes", "estem"});
            if (ends_with(word, "e")) add(word, {"n", "r", "s", "m"});
            break;
        case 'n':
            add(word, {"e", "en", "n", "s", "es", "er", "ern", "ns"});
            break;
        case 'v': {
            std::string_view stem = word;
            if (ends_with(word, "eln") || ends_with(word, "ern")) {
                stem.remove_suffix(1);
            } else if (ends_with(word, "en")) {
                stem.remove_suffix(2);
            } else if (ends_with(word, "n")) {
                stem.remove_suffix(1);
            }
            add(stem, {"e", "st", "t", "en", "et", "est", "te", "ten", "test", "tet", "end", "ende", "enden"});
            forms.push_back("ge" + std::string(stem) + "t");
            forms.push_back("ge" + std::string(stem) + "te");
            forms.push_back("ge" + std::string(stem) + "ten");
            break;
        }
        default:
            break;
    }
    return forms;
}

// ä -> ae, ö -> oe, ü -> ue, ß -> ss: how German is typed without a German keyboard.
std::string transliterate(std::string_view word) {
    std::string out;
    for (std::size_t i = 0; i < word.size();) {
        const auto d = text::decode_utf8(word, i);
        switch (d.code_point) {
            case U'ä': out += "ae"; break;
            case U'ö': out += "oe"; break;
            case U'ü': out += "ue"; break;
            case U'ß': out += "ss"; break;
            default: out.append(word.substr(i, d.length)); break;
        }
        i += d.length;
    }
    return out;
}

void load_german(word_table& table) {
    struct pending_form {
        std::string form;
        double valence;
    };
    std::vector<pending_form> generated;
    for_each_line(german_lexicon_txt, [&](std::string_view line) {
        if (line.empty() || line.front() == '#') return;
        const std::string key = lower(trim(field(line, 0)));
        const std::string_view value = trim(field(line, 1));
        const std::string_view word_class = trim(field(line, 2));
        if (key.empty() || value.empty()) return;
        const double v = parse_double(value);
        entry& e = table.upsert(key);
        if (v != 0) {
            e.valence = v;
            e.flags |= entry::has_valence;
        } else {
            e.flags |= entry::no_fallback;  // a known neutral word: no compound split, no English
        }
        const std::size_t space = key.find(' ');
        if (space != std::string::npos) {
            table.upsert(key.substr(0, space)).flags |= entry::phrase_start;
        } else if (!word_class.empty() && v != 0) {
            for (auto& form : inflections(key, word_class.front())) generated.push_back({std::move(form), v});
        }
    });
    for (const auto& g : generated) {
        if (table.find(g.form) != nullptr) continue;
        entry& e = table.upsert(g.form);
        e.valence = g.valence;
        e.flags |= entry::has_valence | entry::generated;
    }
    for (const auto w : german_boosters) {
        entry& e = table.upsert(w);
        e.boost = b_incr;
        e.flags |= entry::booster;
    }
    for (const auto w : german_dampeners) {
        entry& e = table.upsert(w);
        e.boost = b_decr;
        e.flags |= entry::booster;
    }
    for (const auto w : german_negators) table.upsert(w).flags |= entry::negator;
    for (const auto w : german_kein_words) table.upsert(w).flags |= entry::kein;
    for (const auto w : german_contrast) table.upsert(w).flags |= entry::contrast;
    for (const auto w : german_fillers) table.upsert(w).flags |= entry::filler;
    for (const auto w : german_service_nouns) table.upsert(w).flags |= entry::service_noun;
    table.upsert("weder").flags |= entry::weder;
    table.upsert("noch").flags |= entry::noch;

    // Transliterated twins of everything with umlauts or ß (including modifiers and phrases).
    std::vector<std::pair<std::string, entry>> twins;
    table.for_each([&](std::string_view key, const entry& e) {
        std::string t = transliterate(key);
        if (t != key) twins.emplace_back(std::move(t), e);
    });
    for (auto& [key, e] : twins) {
        if (table.find(key) != nullptr) continue;
        entry& twin = table.upsert(key);
        twin = e;
        twin.flags |= entry::generated;
    }

    // Which lengths of multi-word entry each first word starts, so the scorer looks up only
    // those: every multi-word key in the table marks its first word (when that word has an entry).
    std::vector<std::pair<std::string, std::uint32_t>> starts;
    table.for_each([&](std::string_view key, const entry&) {
        const std::size_t space = key.find(' ');
        if (space == std::string_view::npos) return;
        const std::size_t words = 1 + static_cast<std::size_t>(std::count(key.begin(), key.end(), ' '));
        if (words == 2) starts.emplace_back(std::string(key.substr(0, space)), entry::phrase2);
        if (words == 3) starts.emplace_back(std::string(key.substr(0, space)), entry::phrase3);
    });
    for (const auto& [first, flag] : starts) {
        if (table.find(first) != nullptr) table.upsert(first).flags |= flag;
    }
}

}  // namespace

std::size_t lexicons::find_emoji(char32_t cp) const noexcept {
    if (cp < 0x20000) {
        const std::size_t block = cp >> 4;
        for (std::size_t i = emoji_block_start[block]; i < emoji_block_start[block + 1]; ++i) {
            if (emoji[i].code_point == cp) return i;
        }
        return no_emoji;
    }
    const auto it = std::lower_bound(emoji.begin(), emoji.end(), cp,
                                     [](const emoji_description& e, char32_t c) { return e.code_point < c; });
    if (it == emoji.end() || it->code_point != cp) return no_emoji;
    return static_cast<std::size_t>(it - emoji.begin());
}

const lexicons& lexicons::instance() {
    static const lexicons* const built = [] {
        auto* l = new lexicons();  // intentionally leaked: scorers may run during static destruction
        load_english(l->english, true);
        load_english(l->english_modern, false);
        load_emoji(l->emoji);
        for (const emoji_description& e : l->emoji) {
            if (e.code_point < 0x20000) l->emoji_blocks[e.code_point >> 10] |= std::uint64_t{1} << ((e.code_point >> 4) & 63);
        }
        l->emoji_block_start.resize(0x20000 / 16 + 1);
        for (std::size_t block = 0, i = 0; block < l->emoji_block_start.size(); ++block) {
            while (i < l->emoji.size() && l->emoji[i].code_point < block * 16) ++i;
            l->emoji_block_start[block] = static_cast<std::uint16_t>(i);  // ~3,500 emoji: fits (lexicons_test)
        }
        load_german(l->german);
        l->german.for_each([&](std::string_view key, const entry& e) {
            if (key.size() >= 4 && e.has(entry::has_valence) && key.find(' ') == std::string_view::npos) {
                l->german_head_lengths[tail_bucket(key)] |= head_length_bit(key.size());
            }
        });
        return l;
    }();
    return *built;
}

}  // namespace crisisd::score::detail
