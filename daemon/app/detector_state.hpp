#pragma once
// Detector state across restarts (DESIGN: "a restart neither blinds the daemon nor makes it
// jumpy"): every rule's windows, baselines and firing state go into the state database's meta
// table under "detector:<rule name>", tagged with a fingerprint of what the state means. At
// start a rule adopts its saved state only when the fingerprint still matches, so a rule whose
// keywords, keying, window, baseline or counting changed starts fresh instead of inheriting
// numbers that measured something else. Thresholds, `for:`, cooldown, severity and playbook
// are not part of the fingerprint: the state stays meaningful when only they change, and the
// next evaluation applies the new ones.
// Call from the daemon's thread (the store and the pipeline have one owner).
#include <cstddef>
#include <cstdint>
#include <string>

#include "outbox/store.hpp"
#include "pipeline/pipeline.hpp"

namespace crisisd::app {

// Stable across builds and runs (FNV-1a over a canonical text of the settings).
std::uint64_t rule_state_fingerprint(const pipeline::rule_settings& rule);

std::string detector_state_key(const pipeline::rule_settings& rule);

struct detector_state_outcome {
    std::size_t rules = 0;      // rules written or adopted
    std::size_t changed = 0;    // rules whose saved state was for different settings (start fresh)
    std::size_t unreadable = 0; // saved state this build cannot read (start fresh)
    std::size_t bytes = 0;      // snapshot bytes written or read
};

// Writes every rule's state in one transaction. Must not be called inside store::begin().
detector_state_outcome save_detector_state(const pipeline::pipeline& p, outbox::store& store);
// Adopts the saved state of every rule that has one for the same settings. Call before the
// first mention is processed.
detector_state_outcome restore_detector_state(pipeline::pipeline& p, const outbox::store& store);

// For a reload that builds a new pipeline: copies the state of every rule that exists in both
// with the same name and fingerprint, so unchanged rules keep their baselines. Returns how many.
std::size_t carry_detector_state(const pipeline::pipeline& from, pipeline::pipeline& to);

}  // namespace crisisd::app
