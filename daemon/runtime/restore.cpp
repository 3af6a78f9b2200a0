#include "runtime/restore.hpp"

#include <string>

#include "core/log.hpp"

namespace crisisd::runtime {

void restore_state(const restore_parts& p, core::timestamp now, core::duration resolved_grace) {
    p.keeper.sweep();
    // Incident numbers continue after a restart, so idempotency keys never collide with those
    // of actions already in the outbox (state::counters says how).
    const auto next = p.store.counter().next_incident_id();
    if (next.counter_unreadable) core::log_warning("state database: ignoring unreadable next_incident_id");
    if (next.counter_missing)
        core::log_warning("state database: next_incident_id is missing; incident numbers continue at " +
                          std::to_string(next.id) + ", after the highest one the outbox holds");
    auto& pipe = *p.det.pipe;
    pipe.incidents().set_next_id(next.id);
    const auto restored = p.store.detectors().restore(pipe);
    if (restored.rules > 0)
        core::log_info("restored detector state of " + std::to_string(restored.rules) + " rule(s), " +
                       std::to_string(pipe.live_keys()) + " key(s)");
    if (restored.changed > 0)
        core::log_info(std::to_string(restored.changed) + " rule(s) changed since their detector state was saved; they start fresh");
    if (restored.unreadable > 0)
        core::log_warning("state database: ignoring " + std::to_string(restored.unreadable) + " unreadable detector snapshot(s)");
    // Silences still running when the daemon stopped (a reload rebuilds the engine from them too).
    p.cmds.restore_silences(pipe.incidents());
    // Incidents open before a restart stay open, with their step timers and history; resolved
    // ones come back for storage.resolved_grace (the console shows them), older ones stay in
    // the database until the retention sweep.
    auto loaded = p.store.incidents().live(now - resolved_grace);
    for (std::size_t i = 0; i < loaded.unreadable; ++i) core::log_warning("state database: ignoring an unreadable incident snapshot");
    if (loaded.incidents.empty()) return;
    std::size_t live = 0;
    for (const auto& inc : loaded.incidents) live += inc.state != incident::incident_state::resolved ? 1 : 0;
    // Actions (a veto wait restarted) are written at start(), once the console has its URL.
    pipe.incidents().restore(std::move(loaded.incidents), incident::engine::restore_reason::restart, now,
                             p.det.step.actions);
    p.steps.touch_live_steps();
    if (live > 0) core::log_info("restored " + std::to_string(live) + " open incident(s) from the state database");
}

}  // namespace crisisd::runtime
