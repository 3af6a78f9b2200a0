#include "runtime/step_writer.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace crisisd::runtime {

state::record unrecorded_row(const pending_action& p) {
    state::record rec;
    rec.key = p.action.idempotency_key;
    rec.incident_id = p.action.incident_id;
    rec.channel = p.action.channel;
    rec.kind = incident::to_string(p.action.kind);
    rec.payload = p.payload;
    rec.created_at = p.action.at;
    rec.next_attempt = p.action.at;
    return rec;
}

namespace {

// One second of wall time in the clock's own time: a second for the system clock, `speed`
// seconds for the demo's scaled clock, so the retry pace is the same whatever the clock.
core::duration one_wall_second(const core::clock& clock) {
    const auto wall = clock.wall_delay(std::chrono::seconds(1));
    if (wall <= std::chrono::nanoseconds::zero()) return std::chrono::seconds(1);
    const double per = std::chrono::duration<double>(std::chrono::seconds(1)) / wall;
    return std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(per));
}

}  // namespace

step_writer::step_writer(state::database& store, const core::clock& clock, step_writer_events& events)
    : store_(store), clock_(clock), events_(events), retry_every_(one_wall_second(clock)) {}

void step_writer::write(const incident::engine& incidents, std::vector<pending_action> actions,
                        const std::vector<std::uint64_t>& incident_ids) {
    if (holds_ > 0) {
        // Snapshots are taken at release(), of the incidents as they are then: the newest state.
        held_.insert(held_.end(), std::make_move_iterator(actions.begin()), std::make_move_iterator(actions.end()));
        held_incidents_.insert(held_incidents_.end(), incident_ids.begin(), incident_ids.end());
        return;
    }
    commit_step(incidents, std::move(actions), incident_ids);
}

void step_writer::release(const incident::engine& incidents) {
    if (holds_ == 0 || --holds_ > 0) return;
    if (held_.empty() && held_incidents_.empty()) return;
    std::sort(held_incidents_.begin(), held_incidents_.end());
    held_incidents_.erase(std::unique(held_incidents_.begin(), held_incidents_.end()), held_incidents_.end());
    auto actions = std::move(held_);
    auto ids = std::move(held_incidents_);
    held_.clear();
    held_incidents_.clear();
    ++group_commits_;
    commit_step(incidents, std::move(actions), ids);
}

void step_writer::commit_step(const incident::engine& incidents, std::vector<pending_action> actions,
                              const std::vector<std::uint64_t>& incident_ids) {
    // One transaction (one fsync) for the step's incident snapshots and actions, written before
    // anything is sent: a crash after the commit still delivers them.
    store_.begin();
    for (auto id : incident_ids)
        if (const auto* inc = incidents.find(id)) store_.incidents().save(*inc);
    if (!backlogged()) {
        if (auto queued = write_actions(incidents, actions, {}, true)) announce(*queued);
        else keep(std::move(actions), incident_ids, true);
        return;
    }
    // Kept actions go first, so each channel still gets its actions in order.
    store_.commit();
    keep(std::move(actions), incident_ids, false);
    retry_backlog(incidents, true);
}

std::optional<std::vector<const incident::action*>> step_writer::write_actions(
    const incident::engine& incidents, const std::vector<pending_action>& actions,
    const std::vector<std::uint64_t>& incident_ids, bool in_transaction) {
    if (!in_transaction) store_.begin();
    std::vector<const incident::action*> queued;
    for (const auto& u : actions) {
        const auto& a = u.action;
        const auto r = store_.actions().enqueue(a.idempotency_key, a.incident_id, a.channel,
                                                incident::to_string(a.kind), u.payload, a.at);
        if (r == state::action_store::enqueue_result::queued) {
            queued.push_back(&a);
            // A page sent from memory while the disk was full is recorded as sent, not sent again.
            if (a.kind == incident::action_kind::notify)
                if (auto sent = events_.page_sent_from_memory(a))
                    if (auto row = store_.actions().find(a.idempotency_key)) store_.actions().mark_sent(row->seq, *sent);
        } else if (r == state::action_store::enqueue_result::duplicate) {
            refuse_duplicate(u);
        }
    }
    for (auto id : incident_ids)
        if (const auto* inc = incidents.find(id)) store_.incidents().save(*inc);
    // With the actions, so a restart never hands out an id that a recorded action carries.
    store_.counter().save_next_incident_id(incidents.next_id());
    if (!store_.commit()) return std::nullopt;
    for (const auto& u : actions)
        if (u.action.kind == incident::action_kind::notify) events_.page_recorded(u.action);
    return queued;
}

void step_writer::keep(std::vector<pending_action> actions, const std::vector<std::uint64_t>& ids, bool failed) {
    const bool first = !backlogged();
    unsaved_.insert(unsaved_.end(), std::make_move_iterator(actions.begin()), std::make_move_iterator(actions.end()));
    unsaved_incidents_.insert(unsaved_incidents_.end(), ids.begin(), ids.end());
    std::sort(unsaved_incidents_.begin(), unsaved_incidents_.end());
    unsaved_incidents_.erase(std::unique(unsaved_incidents_.begin(), unsaved_incidents_.end()), unsaved_incidents_.end());
    if (!failed) return;
    note_failure();
    if (first)
        core::log_error("state database refuses writes (" + error_ + "): " + std::to_string(unsaved_.size()) +
                        " action(s) are kept in memory and written again every second; pages are sent from "
                        "memory meanwhile, statements only once they are recorded");
}

void step_writer::note_failure() {
    error_ = store_.last_error();
    events_.write_failed();
    retry_at_ = clock_.now() + retry_every_;
    // Pages do not wait for the disk (at-least-once; their keys make a second send harmless).
    for (; handed_out_ < unsaved_.size(); ++handed_out_)
        if (unsaved_[handed_out_].action.kind == incident::action_kind::notify) events_.page_unrecorded(unsaved_[handed_out_]);
}

void step_writer::retry_backlog(const incident::engine& incidents, bool now) {
    if (!backlogged()) return;
    const auto t = clock_.now();
    // A clock set back (the system clock may be) must not hold the backlog until it catches up.
    const bool due = t >= retry_at_ || t < retry_at_ - retry_every_;
    if (!now && !due) return;
    auto queued = write_actions(incidents, unsaved_, unsaved_incidents_, false);
    if (!queued) {
        note_failure();
        return;
    }
    core::log(core::log_level::notice, "state database takes writes again: " + std::to_string(queued->size()) +
                                           " kept action(s) recorded and on their way");
    announce(*queued);
    unsaved_.clear();
    handed_out_ = 0;
    unsaved_incidents_.clear();
    error_.clear();
}

// Every action is new by construction (incident numbers only grow), so a key already in the
// outbox means state was lost or a bug: the action is not sent (the key may be an old post's
// at the destination), and it is not dropped silently either: an error in the log and a dead
// letter of its own, which crisisd_outbox_dead_letters counts and the admin API lists.
void step_writer::refuse_duplicate(const pending_action& u) {
    const auto& a = u.action;
    const std::string why = "not sent: the outbox already holds an action with key " + a.idempotency_key +
                            " (state lost or a bug); check the incident numbering";
    core::log_error("incident " + std::to_string(a.incident_id) + ": " + why);
    events_.duplicate_refused(a);
    store_.actions().record_refused(a.idempotency_key + "#duplicate-" + std::to_string(++duplicates_) + "-" +
                                        std::to_string(a.at.time_since_epoch().count()),
                                    a.incident_id, a.channel, incident::to_string(a.kind), u.payload, a.at, why);
    refused_duplicates_ = true;
}

void step_writer::announce(const std::vector<const incident::action*>& queued) {
    if (refused_duplicates_) {
        refused_duplicates_ = false;
        events_.outbox_changed(false);
    }
    for (const auto* a : queued) events_.action_queued(*a);
    if (queued.empty()) return;
    events_.outbox_changed(true);
}

}  // namespace crisisd::runtime
