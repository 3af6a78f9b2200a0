#pragma once
// Reload of the rules, playbooks and statements: the part of a reload the runtime decides.
// Open incidents keep their steps, timers and numbers (they move to an engine built for the
// new playbooks as across a restart), and so do silences. A changed rule set gets a new
// pipeline; rules whose detector state means the same (state::rule_fingerprint, the one
// definition a restart uses too) hand it over, so a changed threshold neither blinds nor
// startles them. Sockets, channels and listeners are the caller's.
//
// Call on the runtime's thread, between two mentions.
#include <string>
#include <vector>

#include "core/time.hpp"
#include "runtime/commands.hpp"
#include "runtime/detection.hpp"

namespace crisisd::runtime {

// Swaps `next` in for `running` (the rules the pipeline was built from). Returns "" when
// swapped, with what changed appended to `notes`, else why nothing changed (a keyword
// Vectorscan cannot compile). Incidents that now wait for a person are marked touched.
std::string reload_rules(detection& det, const std::vector<pipeline::rule_settings>& running,
                         pipeline::pipeline_settings next, commands& cmds, core::timestamp now,
                         std::vector<std::string>& notes);

}  // namespace crisisd::runtime
