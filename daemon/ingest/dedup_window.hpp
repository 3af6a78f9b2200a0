#pragma once
// Remembers the last `capacity` keys it accepted, so the overlap a resumed stream replays
// (Jetstream `cursor=` a few seconds back, a Mastodon reconnect) is dropped instead of being
// counted twice. Bounded: the oldest key is forgotten when a new one arrives at capacity, so
// a duplicate older than the last `capacity` keys passes (size it above what a replay brings).
// Not thread-safe: one per source, used on the source's executor.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace crisisd::ingest {

class dedup_window {
public:
    explicit dedup_window(std::size_t capacity = 100000);

    // True the first time a key is seen (and remembers it); false for a duplicate. An empty key
    // is never a duplicate.
    bool first_time(std::string_view key);
    std::size_t size() const { return order_.size(); }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::size_t capacity_;
    std::unordered_set<std::string, hash, std::equal_to<>> seen_;
    std::deque<std::string> order_;  // insertion order, for forgetting the oldest
};

}  // namespace crisisd::ingest
