#pragma once
// Detection settings of one rule: how to key its state, which window, what normal looks like,
// and the conditions that open and clear an incident. Plain data; config/ fills it from YAML.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace crisisd::detect {

enum class metric : std::uint8_t {
    count,           // mentions in the window (after the per-author limit)
    negative_count,  // of those, with compound <= negative_threshold
    negative_ratio,  // negative_count / count, 0 when count is 0
    mean_compound,   // mean compound score in the window
    unique_authors,  // distinct authors in the window
    rate,            // count per minute over the window
    volume_ratio,    // rate / max(baseline rate, min_baseline_rate)
    zscore,          // (rate - baseline mean) / baseline standard deviation
};

std::optional<metric> metric_from_name(std::string_view name);
std::string_view metric_name(metric m);

enum class comparison : std::uint8_t { lt, le, gt, ge, eq, ne };

struct condition {
    metric what = metric::count;
    comparison op = comparison::ge;
    double threshold = 0;
    bool operator==(const condition&) const = default;
};

struct condition_group {
    bool all = true;  // all: every condition must hold; any: one suffices
    std::vector<condition> conditions;
    core::duration hold{0};  // `for:` — the group must hold this long before it takes effect
    bool operator==(const condition_group&) const = default;
};

// Fields a rule's detector state can be keyed by; combine with |.
enum group_field : unsigned { group_topic = 1u, group_source = 2u, group_lang = 4u };

struct detector_settings {
    unsigned group_by = group_topic;
    core::duration window = std::chrono::minutes(5);
    core::duration baseline = std::chrono::hours(6);  // half-life of the learned baseline rate
    double min_baseline_rate = 1.0;                   // per minute; floor under the baseline
    double negative_threshold = -0.05;                // compound at or below is negative
    unsigned max_per_author = 0;                      // 0: unlimited
    std::size_t max_keys = 10000;
    condition_group fire_when;
    condition_group clear_when;
    core::duration cooldown{0};  // after clearing, no new fire for this long
    bool operator==(const detector_settings&) const = default;
};

}  // namespace crisisd::detect
