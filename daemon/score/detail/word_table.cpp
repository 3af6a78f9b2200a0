#include "score/detail/word_table.hpp"

#include <cstring>

namespace crisisd::score::detail {

word_table::word_table() : slots_(1024), mask_(1023) {}

// Words are short (mostly < 16 bytes): mix 8 bytes at a time with a multiply-xorshift, which is
// several times faster than byte-wise FNV and distributes well enough for a half-empty table. The
// last 1..8 bytes are read with two overlapping fixed-size loads (or three byte loads below 4
// bytes) instead of a variable-length copy, which would be a library call per word.
std::uint64_t word_table::hash(std::string_view key) noexcept {
    const char* p = key.data();
    std::size_t n = key.size();
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n > 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    std::uint64_t w = 0;
    if (n >= 4) {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
        std::memcpy(&first, p, 4);
        std::memcpy(&last, p + n - 4, 4);
        w = (std::uint64_t{first} << 32) | last;
    } else if (n > 0) {
        w = (std::uint64_t{static_cast<unsigned char>(p[0])} << 16) |
            (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) | static_cast<unsigned char>(p[n - 1]);
    }
    h = (h ^ w) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}

const entry* word_table::find(std::string_view key) const noexcept { return find(key, hash(key)); }

const entry* word_table::find(std::string_view key, std::uint64_t h) const noexcept {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (s.entry_index == empty) return nullptr;
        if (s.hash == h && s.key_length == key.size()) {
            // A 64-bit hash match is almost always the key: confirm byte by byte (short words;
            // cheaper inline than a call to memcmp).
            const char* stored = arena_.data() + s.key_offset;
            std::size_t k = 0;
            while (k < key.size() && stored[k] == key[k]) ++k;
            if (k == key.size()) return &entries_[s.entry_index];
        }
    }
}

entry& word_table::upsert(std::string_view key) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = hash(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        slot& s = slots_[i];
        if (s.entry_index == empty) {
            s.hash = h;
            s.key_offset = static_cast<std::uint32_t>(arena_.size());
            s.key_length = static_cast<std::uint32_t>(key.size());
            s.entry_index = static_cast<std::uint32_t>(entries_.size());
            arena_.append(key);
            entries_.emplace_back();
            return entries_.back();
        }
        if (s.hash == h && key_of(s) == key) return entries_[s.entry_index];
    }
}

void word_table::grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    for (const slot& s : old) {
        if (s.entry_index == empty) continue;
        std::size_t i = s.hash & mask_;
        while (slots_[i].entry_index != empty) i = (i + 1) & mask_;
        slots_[i] = s;
    }
}

}  // namespace crisisd::score::detail
