#pragma once
// Remembers the last `capacity` keys it accepted, so the overlap a resumed stream replays
// (Jetstream `cursor=` a few seconds back, a Mastodon reconnect) is dropped instead of being
// counted twice. Bounded: the oldest key is forgotten when a new one arrives at capacity, so
// a duplicate older than the last `capacity` keys passes (size it above what a replay brings).
//
// Every mention passes through here, so it is built not to allocate once warm: the keys live
// in a ring of strings whose buffers are reused, found through an open-addressing index of
// slot numbers (linear probing, deletion by backward shift, so no tombstones pile up). Keys
// are compared in full; the hash only picks the probe start.
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
    static constexpr std::uint32_t empty = 0;  // index cells hold slot + 1
    std::size_t find(std::string_view key, std::uint64_t hash) const;  // index cell, or npos
    void erase_cell(std::size_t cell);

    std::vector<std::string> keys_;      // the ring: slot i holds a key while i is live
    std::vector<std::uint64_t> hashes_;  // of keys_[i]
    std::size_t next_ = 0;               // the slot written next; the oldest once full
    std::size_t size_ = 0;
    std::vector<std::uint32_t> index_;   // power of two, at least twice the capacity
    std::size_t mask_ = 0;
};

}  // namespace crisisd::ingest
