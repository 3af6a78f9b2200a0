#pragma once
// Start-up: the runtime takes up where the last run left the state database. The retention
// sweep runs first; then incident numbers continue, detector windows and baselines come back
// (rules changed since their snapshot start fresh), silences still running apply again, and
// incidents open at shutdown — or resolved within storage.resolved_grace — are restored with
// their step timers and history. Logs what it restored and what it ignored as unreadable.
//
// Called once, before the first step; not thread-safe (the runtime's one thread).
#include "core/time.hpp"
#include "runtime/commands.hpp"
#include "runtime/detection.hpp"
#include "runtime/housekeeping.hpp"
#include "runtime/step_handler.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

struct restore_parts {
    state::database& store;
    detection& det;
    commands& cmds;
    step_handler& steps;
    housekeeping& keeper;
};

// The actions restoring decided (a veto wait restarted) wait in det.step for the step handler.
void restore_state(const restore_parts& parts, core::timestamp now, core::duration resolved_grace);

}  // namespace crisisd::runtime
