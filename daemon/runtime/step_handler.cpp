#include "runtime/step_handler.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "runtime/action_payload.hpp"

namespace crisisd::runtime {

step_handler::step_handler(detection& det, step_writer& writer, const follow_ups& follow, const clock& clock,
                           step_events& events)
    : det_(det), writer_(writer), follow_(follow), clock_(clock), events_(events) {}

void step_handler::handle(std::optional<clock::monotonic_time> arrival) {
    auto& step = det_.step;
    if (step.empty() && det_.touched.empty()) return;
    auto& incidents = det_.pipe->incidents();
    for (auto id : step.opened) {
        const auto* inc = incidents.find(id);
        if (!inc) continue;
        const double latency = arrival ? std::chrono::duration<double>(clock_.monotonic() - *arrival).count() : 0;
        core::log(core::log_level::notice, "incident " + std::to_string(id) + " opened: rule=" + inc->rule +
                                               " key=" + inc->key + " severity=" + std::string(incident::to_string(inc->severity)));
        events_.incident_opened(*inc, latency);
    }
    for (auto id : step.resolved) {
        const auto* inc = incidents.find(id);
        if (!inc) continue;
        core::log(core::log_level::notice,
                  "incident " + std::to_string(id) + " resolved: rule=" + inc->rule + " key=" + inc->key);
        events_.incident_resolved(*inc);
    }
    for (auto id : step.resolved) follow_.add(incidents, id, incident::action_event::resolved, clock_.now(), step.actions);
    if (!step.retired.empty()) events_.incidents_retired(step.retired);
    note_suppressed();
    std::vector<pending_action> actions;
    actions.reserve(step.actions.size());
    for (const auto& a : step.actions)
        actions.push_back({a, action_payload(a, incidents.find(a.incident_id), console_url_)});
    auto changed = changed_incidents();
    events_.incidents_changed(changed);
    writer_.write(incidents, std::move(actions), std::move(changed));
    std::size_t open = 0;
    for (const auto& inc : incidents.incidents())
        if (inc.state != incident::incident_state::resolved) ++open;
    events_.open_incidents(open);
    step.clear();
}

// Snapshots of the incidents this step or a command changed go in the same transaction as the
// step's actions: after a crash the outbox and the incidents agree. What a tick changes
// without an action (an escalation skipped after an acknowledgement) is recomputed by the
// engine after a restore, so it needs no snapshot of its own.
std::vector<std::uint64_t> step_handler::changed_incidents() {
    const auto& step = det_.step;
    std::vector<std::uint64_t> ids = std::move(det_.touched);
    det_.touched.clear();
    ids.insert(ids.end(), step.opened.begin(), step.opened.end());
    ids.insert(ids.end(), step.resolved.begin(), step.resolved.end());
    for (const auto& a : step.actions) ids.push_back(a.incident_id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

void step_handler::touch_live_steps() {
    for (const auto& inc : det_.pipe->incidents().incidents()) {
        const bool live = std::any_of(inc.steps.begin(), inc.steps.end(), [](const incident::step_status& st) {
            return st.state == incident::step_state::awaiting_approval ||
                   (st.state == incident::step_state::scheduled && st.due);
        });
        if (live) det_.touched.push_back(inc.id);
    }
}

// A burst also ends when an hour passes without a refusal (the rule may simply have gone quiet).
void step_handler::note_suppressed() {
    const auto& step = det_.step;
    const auto now = clock_.now();
    for (const auto& s : step.suppressed) {
        const auto& rule = det_.pipe->rule(s.rule);
        events_.incident_suppressed(rule.name);
        auto [it, first] = suppressing_.try_emplace(rule.name);
        if (!first && now - it->second.last > std::chrono::hours(1)) {
            it->second = suppression_burst{};
            first = true;
        }
        ++it->second.refused;
        it->second.last = now;
        if (first)
            core::log_warning("rule " + rule.name + ": " + std::to_string(s.opened_last_hour) +
                              " incidents opened in the last hour, its max_incidents_per_hour; key " + s.key +
                              " and further keys open no incident until fewer opened in the hour before");
    }
    for (auto id : step.opened) {
        const auto* inc = det_.pipe->incidents().find(id);
        auto it = inc ? suppressing_.find(inc->rule) : suppressing_.end();
        if (it == suppressing_.end()) continue;
        core::log(core::log_level::notice, "rule " + it->first + ": opens incidents again; " +
                                               std::to_string(it->second.refused) +
                                               " firing key(s) opened none while it was at its cap");
        suppressing_.erase(it);
    }
}

}  // namespace crisisd::runtime
