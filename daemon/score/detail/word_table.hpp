#pragma once
// Open-addressing hash table from a word (UTF-8 bytes, already case-folded) to its scoring entry.
// Built once when the lexicons are loaded, then only read: find() is const, allocation-free and
// safe to call from any number of threads. Keys are copied into an internal arena.
#include <cstdint>
#include <cstring>
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
        phrase2 = 1u << 12,      // first word of a two-word entry (with phrase_start)
        phrase3 = 1u << 13,      // first word of a three-word entry (with phrase_start)
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

    // Returns the entry for `key`, creating an empty one if absent. The reference is valid until
    // the next upsert().
    entry& upsert(std::string_view key);
    const entry* find(std::string_view key) const noexcept { return find(key, hash(key)); }
    // Same, with `h` = hash(key) computed by the caller (one hash for lookups in several tables).
    // Inline: it runs for every token, often twice.
    const entry* find(std::string_view key, std::uint64_t h) const noexcept {
        if (!maybe_present(h)) return nullptr;
        const auto tag = static_cast<std::uint32_t>(h >> 32);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const std::uint64_t s = slots_[i];
            if (s == 0) return nullptr;
            // A tag match is almost always the key; confirm it.
            if (static_cast<std::uint32_t>(s >> 32) == tag) {
                const record& r = records_[static_cast<std::uint32_t>(s) - 1];
                if (r.key_length == key.size() && same_bytes(arena_.data() + r.key_offset, key)) return &r.e;
            }
        }
    }
    std::size_t size() const noexcept { return records_.size(); }

    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const std::uint64_t s : slots_) {
            if (s != 0) {
                const record& r = records_[static_cast<std::uint32_t>(s) - 1];
                fn(key_of(r), r.e);
            }
        }
    }

    // Words are short (mostly < 16 bytes): mix 8 bytes at a time with a multiply-xorshift, which is
    // several times faster than byte-wise FNV and distributes well enough for a half-empty table.
    // The last 1..8 bytes are mixed as their little-endian value, read with two overlapping
    // fixed-size loads (or three byte loads below 4 bytes) instead of a variable-length copy,
    // which would be a library call per word.
    static std::uint64_t hash(std::string_view key) noexcept {
        const char* p = key.data();
        std::size_t n = key.size();
        std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
        while (n > 8) {
            h = mix8(h, load64(p));
            p += 8;
            n -= 8;
        }
        std::uint64_t w = 0;
        if (n >= 4) {
            w = load32(p) | (std::uint64_t{load32(p + n - 4)} << (8 * (n - 4)));
        } else if (n > 0) {
            w = static_cast<unsigned char>(p[0]) | (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << (8 * (n / 2))) |
                (std::uint64_t{static_cast<unsigned char>(p[n - 1])} << (8 * (n - 1)));
        }
        return finish(h, w);
    }
    // hash() of a key with at least 8 readable bytes after it (the scorer's words, in a buffer with
    // room after them): the last bytes are one load, masked, instead of a branch on their count,
    // which was the scorer's most mispredicted branch (cachegrind --branch-sim over the mixed
    // benchmark stream's texts: ~10 a mention, one in three words).
    static std::uint64_t hash_padded(std::string_view key) noexcept {
        const char* p = key.data();
        std::size_t n = key.size();
        if (n == 0) return hash(key);
        std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
        while (n > 8) {
            h = mix8(h, load64(p));
            p += 8;
            n -= 8;
        }
        // n is 1..8: ((1 << (8n - 1)) << 1) - 1 keeps its low n bytes, all 8 without an undefined shift.
        return finish(h, load64(p) & (((std::uint64_t{1} << (8 * n - 1)) << 1) - 1));
    }

private:
    static std::uint64_t mix8(std::uint64_t h, std::uint64_t w) noexcept {
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        return h ^ (h >> 31);
    }
    static std::uint64_t finish(std::uint64_t h, std::uint64_t w) noexcept {
        h = (h ^ w) * 0x94D049BB133111EBull;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        return h ^ (h >> 32);
    }
    // An entry with where its key lies in the arena.
    struct record {
        entry e;
        std::uint32_t key_offset = 0;
        std::uint32_t key_length = 0;
    };
    std::string_view key_of(const record& r) const noexcept { return {arena_.data() + r.key_offset, r.key_length}; }
    static std::uint64_t load64(const char* p) noexcept {
        std::uint64_t v = 0;
        std::memcpy(&v, p, 8);
        return v;
    }
    static std::uint32_t load32(const char* p) noexcept {
        std::uint32_t v = 0;
        std::memcpy(&v, p, 4);
        return v;
    }
    // stored[0, key.size()) == key, with fixed-size loads that stay inside both (no memcmp call).
    static bool same_bytes(const char* stored, std::string_view key) noexcept {
        const char* k = key.data();
        std::size_t n = key.size();
        if (n >= 8) {
            for (std::size_t i = 0; i + 8 < n; i += 8) {
                if (load64(stored + i) != load64(k + i)) return false;
            }
            return load64(stored + n - 8) == load64(k + n - 8);
        }
        if (n >= 4) return load32(stored) == load32(k) && load32(stored + n - 4) == load32(k + n - 4);
        for (std::size_t i = 0; i < n; ++i) {
            if (stored[i] != k[i]) return false;
        }
        return true;
    }
    void grow();

    // Most lookups are for words the table does not have (most tokens carry no sentiment, and a
    // German word is also tried in the English table and at its compound split points). A bit per
    // hash (a one-function Bloom filter, >= 8 bits per key, so about 1 in 9 absent words pass) turns
    // those into one bit test in a table of 1/16 of the slots' size, instead of a walk along the
    // probe sequence (2.5 slots on average for an absent word in a half-full table), each step a
    // branch on a tag compare.
    bool maybe_present(std::uint64_t h) const noexcept {
        return ((filter_[(h >> filter_shift) & filter_mask_] >> ((h >> 14) & 63)) & 1) != 0;
    }
    void add_to_filter(std::uint64_t h) noexcept { filter_[(h >> filter_shift) & filter_mask_] |= std::uint64_t{1} << ((h >> 14) & 63); }
    static constexpr unsigned filter_shift = 20;  // bits 14..19 pick the bit, 20.. the word (tags use 32..63)

    // Open addressing with linear probing, at most half full. A slot is 8 bytes: the upper 32 bits
    // of the key's hash (the position comes from the lower bits) and the record index + 1 (0:
    // empty), so a probe for an unknown word - most tokens - touches one small cache line, and
    // the tables of all three lexicons stay a fraction of the L2 cache.
    std::vector<std::uint64_t> slots_;
    std::vector<record> records_;
    std::string arena_;
    std::size_t mask_ = 0;
    std::vector<std::uint64_t> filter_;  // slots_.size() / 16 words: 4 bits per slot
    std::size_t filter_mask_ = 0;
};

}  // namespace crisisd::score::detail
