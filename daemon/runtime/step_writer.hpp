#pragma once
// The step writer: what one pipeline step (or an admin command) decided goes to the state
// database as one transaction — the incident snapshots it changed, its actions into the outbox,
// the next incident number — before anything is sent, so after a crash the outbox and the
// incidents agree.
//
// When the database refuses a transaction (disk full, I/O error) nothing is dropped: the
// step's actions and snapshot ids are kept, in order, and written again once a second of wall
// time has passed (as the clock it is given converts it) or ahead of the next step, so each
// channel still gets its actions in order. Pages among them need not wait for the disk (they
// are at-least-once): each is handed to page_unrecorded() once, to be sent from memory, and
// when its row is written at last it is written as sent if it went out meanwhile. Statements
// wait: nothing is posted that was not recorded. A key the outbox already holds is refused:
// never sent, recorded as a dead letter of its own.
//
// Owns only its backlog; the database, the clock and the events outlive it. The incident
// engine is passed per call, because a reload replaces it. Not thread-safe: one thread (the
// daemon's) drives it, as it drives the pipeline.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "incident/engine.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

// An action with the JSON body its channel receives, built once when the step is written.
struct pending_action {
    incident::action action;
    std::string payload;
};

// The outbox row a page the database refused would have had: pending, due at once, no seq. The
// delivery loop sends it from memory in that shape (page_unrecorded below).
state::record unrecorded_row(const pending_action& p);

// What the writer reports. All calls come from the thread that drives the writer.
class step_writer_events {
public:
    virtual ~step_writer_events() = default;
    // The database refused a transaction (each attempt, the first and every retry).
    virtual void write_failed() = 0;
    // An action's key was already in the outbox; it was recorded as a dead letter instead.
    virtual void duplicate_refused(const incident::action& a) = 0;
    // An action is in the outbox and will be delivered.
    virtual void action_queued(const incident::action& a) = 0;
    // The outbox's pending or dead counts may have changed; `wake` when there is something to send.
    virtual void outbox_changed(bool wake) = 0;
    // A page (never a statement) the database refused to record: send it from memory now.
    // Called once per page, in order. Ignored by default (it then waits for its row).
    virtual void page_unrecorded(const pending_action&) {}
    // When that page was sent from memory (its row is then written as sent); nullopt: not yet.
    virtual std::optional<core::timestamp> page_sent_from_memory(const incident::action&) { return std::nullopt; }
    // Its row is written now: memory may let go of it.
    virtual void page_recorded(const incident::action&) {}
};

class step_writer {
public:
    step_writer(state::database& store, const core::clock& clock, step_writer_events& events);

    // Writes one step: snapshots of `incident_ids` (as `incidents` holds them now) and `actions`,
    // in one transaction, then announces what was queued. With a backlog, the snapshots are
    // committed alone and the actions join the backlog behind it, which is retried at once.
    void write(const incident::engine& incidents, std::vector<pending_action> actions,
               const std::vector<std::uint64_t>& incident_ids);

    // Group commit: from hold() to the matching release(), write() gathers its steps instead of
    // committing each, and the outermost release() writes them all in one transaction (one fsync
    // for a storm of incidents rather than one each). Nothing gathered is announced, so nothing
    // is sent, before that commit. Holds nest. Intake holds around a batch of frames and
    // releases before the event loop does anything else.
    void hold() { ++holds_; }
    void release(const incident::engine& incidents);
    bool holding() const { return holds_ > 0; }
    std::uint64_t group_commits() const { return group_commits_; }  // transactions written by release()

    // Writes the backlog again when its second has passed (every tick calls this).
    void retry(const incident::engine& incidents) { retry_backlog(incidents, false); }

    // True while actions or snapshots wait for the database to take them.
    bool backlogged() const { return !unsaved_.empty() || !unsaved_incidents_.empty(); }
    std::size_t unsaved_actions() const { return unsaved_.size(); }
    // Why the database last refused, while backlogged.
    const std::string& error() const { return error_; }

private:
    // Queued actions (pointers into `actions`), or nullopt when the database refused it all.
    std::optional<std::vector<const incident::action*>> write_actions(const incident::engine& incidents,
                                                                      const std::vector<pending_action>& actions,
                                                                      const std::vector<std::uint64_t>& incident_ids,
                                                                      bool in_transaction);
    void keep(std::vector<pending_action> actions, const std::vector<std::uint64_t>& ids, bool failed);
    void retry_backlog(const incident::engine& incidents, bool now);
    void refuse_duplicate(const pending_action& u);
    void announce(const std::vector<const incident::action*>& queued);
    void note_failure();
    void commit_step(const incident::engine& incidents, std::vector<pending_action> actions,
                     const std::vector<std::uint64_t>& incident_ids);

    state::database& store_;
    const core::clock& clock_;
    step_writer_events& events_;
    core::duration retry_every_;  // one second of wall time, in the clock's time

    std::vector<pending_action> unsaved_;
    std::size_t handed_out_ = 0;  // unsaved_[0, handed_out_) were offered to page_unrecorded
    std::vector<std::uint64_t> unsaved_incidents_;  // sorted, unique
    std::string error_;
    core::timestamp retry_at_{};
    std::uint64_t duplicates_ = 0;  // makes each refused duplicate's dead-letter key unique
    bool refused_duplicates_ = false;
    int holds_ = 0;
    std::vector<pending_action> held_;         // steps gathered while holding, in order
    std::vector<std::uint64_t> held_incidents_;
    std::uint64_t group_commits_ = 0;
};

}  // namespace crisisd::runtime
