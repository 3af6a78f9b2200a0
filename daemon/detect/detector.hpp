#pragma once
// Spike detection for every rule: per (rule, key) a sliding window and a learned baseline, and
// the fire/clear decision with hysteresis (`for:`), cooldown and a bound on live keys.
// Pure: time is always an argument; nothing here reads a clock. Not thread-safe: one owner.
#include <cstddef>
#include <cstdint>
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

    // Current metrics of a key; nullopt when the key is not live.
    std::optional<metrics_snapshot> metrics(std::size_t rule, std::string_view key, core::timestamp t) const;

    bool firing(std::size_t rule, std::string_view key) const;
    std::size_t live_keys() const;
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

    // Observations dropped because they were older than their key's window start.
    std::uint64_t ignored_observations() const;
    // Approximate bytes held for live key state (buckets, baselines, author sets, map nodes).
    std::size_t memory_bytes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::detect
