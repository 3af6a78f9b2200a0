#pragma once
// Spike detection for every rule: per (rule, key) a sliding window and a learned baseline, and
// the fire/clear decision with hysteresis (`for:`), cooldown and a bound on live keys.
// Pure: time is always an argument; nothing here reads a clock. Not thread-safe: one owner.
//
// Semantics the rest of the daemon relies on:
// - The window is 60 time buckets (window/60 each); metrics cover the newest 60 buckets.
// - Baseline: exponentially weighted per-minute rate (half-life = `baseline`) and variance of
//   bucket rates, fed only by buckets as they leave the window, so a spike raises "normal" only
//   once it has passed. A new key starts at min_baseline_rate. volume_ratio divides by
//   max(baseline, min_baseline_rate); zscore's deviation is at least the Poisson noise of the
//   floored baseline.
// - Each key keeps its own clock (the newest time it saw). An observation older than the key's
//   window start is dropped and counted in ignored_observations(); a late one inside the window
//   is counted in its bucket. tick() with a time before a key's clock leaves that key alone.
// - `for:` holds from the first evaluation (observe or tick) that found the group true until
//   one finds it false. fire_when may accumulate its `for:` during cooldown and fires at the
//   first evaluation after the cooldown. An empty fire_when never fires; an empty clear_when
//   clears once fire_when has not held for clear_when's `for:`.
// - max_keys per rule (0 = unbounded): a new key evicts the least valuable one. First the least
//   recently observed plain key (not firing, no `for:` pending, not cooling down, baseline at the
//   floor: nothing a fresh key would not relearn), in O(1); only when no key is plain, the least
//   recently observed non-firing key; a firing one only when all fire — without a clear signal,
//   so its incident stays open for a person rather than posting "resolved" mid-storm. A sender
//   inventing keys (group_by on wire values) thus cycles through its own fresh keys and cannot
//   push out a key that fires or has learned a baseline. tick() retires idle keys (empty window,
//   not firing or cooling down, baseline at the floor); they are not counted as evictions.
// - Per-author limit: an author's mentions beyond max_per_author within the window do not count
//   (count, negative_count, mean_compound, rates) but the author still counts in unique_authors.
//   Authors are exact up to 65,536 per key and window; beyond that new authors count as unknown.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "detect/settings.hpp"

namespace crisisd::detect {

// One mention as a rule's detector sees it.
struct observation {
    std::uint64_t author_hash = 0;  // hash of the author; 0 means unknown (counts as its own author)
    double compound = 0;            // sentiment, -1..1
};

// The metrics of one key at one moment (what conditions test, and the evidence of an incident).
struct metrics_snapshot {
    double count = 0;
    double negative_count = 0;
    double negative_ratio = 0;
    double mean_compound = 0;
    double unique_authors = 0;
    double rate = 0;           // per minute
    double baseline_rate = 0;  // per minute, learned
    double volume_ratio = 0;
    double zscore = 0;

    double get(metric m) const;
};

enum class signal_kind { fire, clear };

struct signal {
    std::size_t rule = 0;  // index into the rules the detector was built with
    std::string key;       // the group key ("liwest", "liwest/mastodon/de", …)
    signal_kind kind = signal_kind::fire;
    core::timestamp at{};
    metrics_snapshot metrics;
};

class detector {
public:
    explicit detector(std::vector<detector_settings> rules);
    ~detector();
    detector(detector&&) noexcept;
    detector& operator=(detector&&) noexcept;

    // Records one mention matched by `rule` under `key` at time t and evaluates that key;
    // appends a fire or clear signal to `out` when the state changes.
    void observe(std::size_t rule, std::string_view key, const observation& o, core::timestamp t,
                 std::vector<signal>& out);

    // Re-evaluates every live key at time t (clearing needs this: a storm ends by silence).
    void tick(core::timestamp t, std::vector<signal>& out);

    // Moves every key's window, holds and cooldown by `delta`, to whole buckets: the caller's
    // timeline stepped (the wall clock was set) and the windows follow it with their contents,
    // so a key neither goes blind for a step back nor drops its window for a step forward.
    void shift(core::duration delta);

    // Current metrics of a key; nullopt when the key is not live.
    std::optional<metrics_snapshot> metrics(std::size_t rule, std::string_view key, core::timestamp t) const;

    bool firing(std::size_t rule, std::string_view key) const;
    // The rule's live keys, least recently observed first (charts and diagnostics; O(keys)).
    std::vector<std::string> keys(std::size_t rule) const;
    std::size_t live_keys() const;
    // Whether the rule still has a window for `key` (keys leave when idle or evicted).
    bool tracks(std::size_t rule, std::string_view key) const;
    std::uint64_t evicted_keys() const;  // keys dropped because a rule hit max_keys
    // Persistence across restarts (DESIGN: "a restart does not make the daemon blind or jumpy").
    // save_rule() encodes one rule's live keys — windows, baselines, author sets, firing and
    // cooldown state — as an opaque byte string the caller stores under the rule's name.
    // load_rule() adopts such a string for the rule at that index, before observations start:
    // keys already live are kept as they are, max_keys is respected, and when the rule's window
    // or per-author limit changed since saving, only baselines and firing state carry over.
    // Returns false, changing nothing, when the bytes are not a snapshot this build can read.
    std::string save_rule(std::size_t rule) const;
    bool load_rule(std::size_t rule, std::string_view bytes);
    // Cluster mode (issue 15): a partition's owner saves only the keys of its partition, in
    // save_rule()'s format, and forgets them when the partition moves to another replica (so a
    // later take-back loads them afresh instead of keeping stale windows). O(live keys of the rule).
    using key_filter = std::function<bool(std::string_view key)>;
    std::string save_keys(std::size_t rule, const key_filter& keep) const;
    std::size_t forget_keys(std::size_t rule, const key_filter& drop);

    // Observations dropped because they were older than their key's window start.
    std::uint64_t ignored_observations() const;
    // Approximate bytes held for live key state (buckets, baselines, author sets, map nodes).
    std::size_t memory_bytes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::detect
