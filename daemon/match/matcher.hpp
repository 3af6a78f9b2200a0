#pragma once
// Keyword matching for all rules at once. Every rule's keywords and excludes are compiled into a
// single Vectorscan database, so one scan of a mention finds every rule it touches, however
// many rules and keywords there are. Matching is on case-folded text (text::fold_case), with
// Unicode word boundaries: "störung" matches "STÖRUNG" and "#störung", not "störungsfrei".
//
// A compiled matcher is immutable and may be shared; scanning needs a per-thread scanner.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "match/settings.hpp"

namespace crisisd::match {

struct compile_error {
    std::size_t rule = 0;
    std::string keyword;
    std::string message;
};

class matcher;

// Per-thread scratch space for scanning; cheap to keep, not to create per mention.
class scanner {
public:
    explicit scanner(const matcher& m);
    ~scanner();
    scanner(scanner&&) noexcept;
    scanner& operator=(scanner&&) noexcept;

    // Scans case-folded text and replaces `rules_hit` with the indices (ascending) of rules
    // that have a keyword hit and no exclude hit. Language and source filters are separate
    // (matcher::accepts) because they do not need the text.
    void scan(std::string_view folded_text, std::vector<std::size_t>& rules_hit);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

class matcher {
public:
    // Compiles every rule's keywords; the first keyword that cannot be compiled is reported.
    static std::variant<std::shared_ptr<const matcher>, compile_error> compile(const std::vector<match_settings>& rules);

    ~matcher();

    // Whether rule `rule` listens to mentions in `lang` from `source` (empty lists: everything).
    // A language "de" takes regional tags too ("de-AT", "de_at"); "de-AT" takes only that region.
    bool accepts(std::size_t rule, std::string_view lang, std::string_view source) const;
    std::size_t rule_count() const;
    // The rule's topic: its first keyword without a leading @ or #, as written in the config.
    const std::string& topic(std::size_t rule) const;

private:
    friend class scanner;
    struct impl;
    explicit matcher(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

// Whether a mention's language tag (as on the wire, or guessed) is the configured language
// `wanted`: "de" takes "de", "de-AT", "DE_at"; "de-AT" only that region.
bool language_matches(std::string_view wanted, std::string_view tag);

}  // namespace crisisd::match
