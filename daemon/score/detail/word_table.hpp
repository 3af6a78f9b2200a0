#pragma once
// Open-addressing hash table from a word (UTF-8 bytes, already case-folded) to its scoring entry.
// Built once when the lexicons are loaded, then only read: find() is const, allocation-free and
// safe to call from any number of threads. Keys are copied into an internal arena.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::score::detail {

// What a word does when scoring. One entry per word, so a token needs a single lookup.
struct entry {
    enum flag : std::uint32_t {
        has_valence = 1u << 0,   // rated word: `valence` is its lexicon value
        booster = 1u << 1,       // degree modifier: `boost` is +-0.293 (sign flipped for negative words)
        negator = 1u << 2,       // flips the valence of a following rated word (x -0.74)
        contrast = 1u << 3,      // "but" rule word
        phrase_start = 1u << 4,  // first word of at least one multi-word entry
        service_noun = 1u << 5,  // German: "kein Internet" is a complaint although "Internet" is neutral
        filler = 1u << 6,        // German: may stand between a verb and a trailing "nicht"
        no_fallback = 1u << 7,   // German: a German word spelled like an English lexicon word
        generated = 1u << 8,     // an inflected or transliterated form (explicit entries win)
        weder = 1u << 9,         // German "weder" (makes a later "noch" a negator)
        noch = 1u << 10,
        kein = 1u << 11,         // German kein/keine/... and "ohne": negates a following service noun
    };
    double valence = 0;
    double boost = 0;
    std::uint32_t flags = 0;
    std::uint8_t word = 0;  // English: the word's english_word id (0: none), so rules compare integers

    bool has(flag f) const noexcept { return (flags & f) != 0; }
};

class word_table {
public:
    word_table();

    // Returns the entry for `key`, creating an empty one if absent.
    entry& upsert(std::string_view key);
    const entry* find(std::string_view key) const noexcept;
    // Same, with `h` = hash(key) computed by the caller (one hash for lookups in several tables).
    const entry* find(std::string_view key, std::uint64_t h) const noexcept;
    std::size_t size() const noexcept { return entries_.size(); }

    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& s : slots_) {
            if (s.entry_index != empty) fn(key_of(s), entries_[s.entry_index]);
        }
    }

    static std::uint64_t hash(std::string_view key) noexcept;

private:
    static constexpr std::uint32_t empty = 0xFFFFFFFFu;
    struct slot {
        std::uint64_t hash = 0;
        std::uint32_t key_offset = 0;
        std::uint32_t key_length = 0;
        std::uint32_t entry_index = empty;
    };
    std::string_view key_of(const slot& s) const noexcept { return {arena_.data() + s.key_offset, s.key_length}; }
    void grow();

    std::vector<slot> slots_;
    std::vector<entry> entries_;
    std::string arena_;
    std::size_t mask_ = 0;
};

}  // namespace crisisd::score::detail
