#pragma once
// Remembers the last `capacity` keys it accepted, so the overlap a resumed stream replays
// (Jetstream `cursor=` a few seconds back, a Mastodon reconnect) is dropped instead of being
// counted twice. Bounded: the oldest key is forgotten when a new one arrives at capacity, so
// a duplicate older than the last `capacity` keys passes (size it above what a replay brings).
//
// Every mention passes through here, so it is built not to allocate once warm: the keys live
// in a ring of strings whose buffers are reused, found through an open-addressing index of
// slot numbers (linear probing, deletion by backward shift, so no tombstones pile up). An index
// cell also holds the low 32 bits of its key's hash, so a probe compares those without reading
// the ring, and the backward shift finds each cell's home without it either: with the hashes
// kept beside the ring instead, each probe step and each shifted cell was a read elsewhere in
// memory, and the window was ~4% of crisisd's CPU on the mixed benchmark stream (perf). Keys
// are compared in full when their hash bits match.
// Not thread-safe: one per source, used on the source's executor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::ingest {

class dedup_window {
public:
    explicit dedup_window(std::size_t capacity = 100000);

    // True the first time a key is seen (and remembers it); false for a duplicate. An empty key
    // is never a duplicate.
    bool first_time(std::string_view key);
    std::size_t size() const { return size_; }

private:
    // An index cell: the key's hash (low 32 bits) above, its slot + 1 below; 0 is empty.
    static constexpr std::uint64_t empty = 0;
    static std::uint64_t cell_value(std::uint32_t hash, std::size_t slot) {
        return (std::uint64_t{hash} << 32) | static_cast<std::uint32_t>(slot + 1);
    }
    std::size_t home(std::uint64_t value) const { return (value >> 32) & mask_; }
    std::size_t find(std::string_view key, std::uint32_t hash) const;  // index cell, or npos
    void erase_cell(std::size_t cell);

    std::vector<std::string> keys_;      // the ring: slot i holds a key while i is live
    std::vector<std::uint32_t> hashes_;  // of keys_[i] (low 32 bits), to find the oldest's cell
    std::size_t next_ = 0;               // the slot written next; the oldest once full
    std::size_t size_ = 0;
    std::vector<std::uint64_t> index_;   // power of two, at least twice the capacity
    std::size_t mask_ = 0;
};

}  // namespace crisisd::ingest
