#pragma once
// Detector state across restarts and reloads (DESIGN: "a restart neither blinds the daemon nor
// makes it jumpy"): every rule's windows, baselines and firing state go into the state database
// under the rule's name, tagged with the rule's fingerprint. Saved state is reused — at start
// from the database, at a reload from the running pipeline — only by a rule with the same name
// and fingerprint, so a rule whose state would measure something else starts fresh.
//
// The fingerprint is what the state *means*: which mentions count (keywords, exclusions,
// languages, sources, negative_threshold, max_per_author), how they are keyed (group_by), over
// which window and baseline half-life, and the baseline floor a new key starts from
// (min_baseline_rate). Not in it: the conditions' thresholds and `for:`, clear conditions,
// cooldown, max_keys, severity, playbook, max_incidents_per_hour — the state stays meaningful
// when they change and the next evaluation applies the new ones. One definition for restart
// and reload, so both agree on "the same rule".
// Call from the daemon's thread (the database and the pipeline have one owner).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "state/detail/meta.hpp"

namespace crisisd::state {

// Stable across builds and runs (FNV-1a over a canonical text of the settings); the same value
// as crisisd before schema versions wrote, so snapshots written then are still adopted.
std::uint64_t rule_fingerprint(const pipeline::rule_settings& rule);

struct detector_state_outcome {
    std::size_t rules = 0;       // rules written or adopted
    std::size_t changed = 0;     // rules whose saved state was for a different fingerprint (start fresh)
    std::size_t unreadable = 0;  // saved state this build cannot read (start fresh)
    std::size_t bytes = 0;       // snapshot bytes written or read
};

class detector_snapshots {
public:
    explicit detector_snapshots(detail::meta_table& meta) : meta_(meta) {}

    // Writes every rule's state; the caller wraps it in one transaction (database::begin).
    detector_state_outcome save(const pipeline::pipeline& p);
    // Adopts the saved state of every rule that has one with the same fingerprint. Call before
    // the first mention is processed.
    detector_state_outcome restore(pipeline::pipeline& p);

private:
    detail::meta_table& meta_;
};

// For a reload that builds a new pipeline: copies the state of every rule that exists in both
// with the same name and fingerprint. Returns, for each rule of `to`, whether it took state over.
std::vector<bool> carry_detector_state(const pipeline::pipeline& from, pipeline::pipeline& to);

}  // namespace crisisd::state
