#pragma once
// Sentiment scoring for mentions in English and German.
//
// English follows VADER (Hutto & Gilbert 2014) as implemented by the reference JavaScript port
// (npm vader-sentiment 1.1.3), rule for rule: its tokenising, lexicon, boosters, negation window,
// "but" rule, ALL-CAPS, punctuation emphasis, idioms, "least" and normalisation with alpha 15;
// crisisd adds emoji via their CLDR descriptions and elongated words. German uses crisisd's own lexicon
// (lexicons/german_lexicon.txt) with the same arithmetic plus German negation, modifiers,
// compounds, inflection and transliteration. See score/README.md for the rules and deviations.
//
// All lexicons are compiled into the binary; constructing a scorer is cheap after the first one
// (the parsed tables are built once per process and shared read-only).
#include <string_view>

namespace crisisd::score {

// VADER's output: compound in [-1, 1]; pos + neu + neg == 1 (all 0 for text without tokens).
// Values are not rounded (Python VADER rounds them to 4 and 3 decimals for display).
struct sentiment {
    double compound = 0, pos = 0, neu = 0, neg = 0;
};

namespace detail {
struct lexicons;
}

class scorer {
public:
    scorer();

    // `lang`: "en", "de" (a BCP-47 tag starting with either also works), or "" / anything else
    // to guess between the two from the text (English when there is no evidence). `text` is plain
    // text; URLs and @handles never score (German drops them, English keeps them as neutral words
    // like the reference port), a #hashtag's word counts in German, elongations ("sooo",
    // "neeein") are looked up in their short form when the long form is unknown.
    // Thread-safe (const, per-thread scratch buffers); no heap allocation once a thread's buffers
    // have grown to the largest text it has seen.
    sentiment score(std::string_view text, std::string_view lang) const;

private:
    const detail::lexicons* lexicons_;
};

}  // namespace crisisd::score
