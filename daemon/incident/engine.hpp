#pragma once
// The incident state machine and playbook runner. Given detector signals, commands from people
// and the passing of time, it decides which actions (notifications, statements) are due.
// Pure: time is an argument; it sends nothing itself. Not thread-safe: one owner.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "detect/detector.hpp"
#include "incident/names.hpp"
#include "incident/settings.hpp"

namespace crisisd::incident {

// Something to deliver. The idempotency key is stable across restarts: the same incident and
// step always yield the same key, so the outbox can refuse a second copy.
struct action {
    std::string idempotency_key;  // "<incident id>/<open|resolve>/<step>/<channel>"
    std::uint64_t incident_id = 0;
    std::size_t step = 0;
    bool on_resolve = false;
    action_kind kind = action_kind::notify;
    std::string channel;
    action_event event = action_event::none;  // notify: opened, escalated, resolved, acknowledged, veto_restarted
    std::string statement;  // statement: its name
    std::string language;   // statement: language chosen
    std::string text;       // statement: the text as shown for approval or veto; notify: a one-line summary
    core::timestamp at{};
    // Statement: how it was approved, so the outbox can refuse one that claims `required` without
    // a person (defence in depth: the engine never emits one). `approved_by` is whoever approved
    // or approved early; empty when the veto wait ran out or the statement is automatic.
    approval approval_mode = approval::automatic;
    std::string approved_by;
};

// What a step is, recorded when its phase begins (opening, or resolution for on_resolve steps):
// from then on the step runs as recorded, and the playbook is consulted only to notice that it
// changed (a reload or a restart with a new configuration), never to bind a different step to
// it by position.
struct step_identity {
    step_kind kind = step_kind::notify;
    std::string statement;  // statement: its name
    approval approval_mode = approval::automatic;
    std::vector<std::string> channels;
    core::duration wait{0};
    core::duration after{0};
    bool unless_acknowledged = true;

    bool operator==(const step_identity&) const = default;
};
step_identity identity_of(const step_settings& s);

// One playbook step of an incident. Indexes are 0-based over the whole incident: the opening
// steps first, then the on_resolve steps (which wait, without a due time, until resolution).
struct step_status {
    std::size_t index = 0;
    bool on_resolve = false;
    step_kind kind = step_kind::notify;
    step_state state = step_state::scheduled;
    std::optional<core::timestamp> due;  // when a scheduled step fires
    // Statement: the text rendered once, when the step started (or was shown again for fresh
    // approval); it is what the console shows for approval or veto and exactly what is posted.
    std::string preview;
    std::string language;  // statement: the language of `preview`
    // Recorded when the step started; nullopt before that (on_resolve steps until resolution)
    // and in snapshots written before identities were kept, which count as changed.
    std::optional<step_identity> identity;
    // The step changed in the playbook after its incident opened: whatever its approval mode, it
    // is posted only when a person approves it.
    bool fresh_approval = false;
};

struct history_entry {
    core::timestamp at{};
    std::string who;   // "crisisd" for automatic transitions, else the person
    // The incident's own transitions are named as the action events are ("opened",
    // "acknowledged", "resolved"); people's decisions say more ("vetoed step 2", …).
    std::string what;
};

struct incident {
    std::uint64_t id = 0;
    std::string rule;
    std::string key;
    severity_level severity = severity_level::warning;
    std::string playbook;
    incident_state state = incident_state::open;
    core::timestamp opened_at{};
    std::optional<core::timestamp> acknowledged_at;
    std::optional<core::timestamp> resolved_at;
    detect::metrics_snapshot evidence;  // metrics when it opened
    std::map<std::string, std::size_t> languages;  // language -> mentions, picks statement language
    std::vector<step_status> steps;
    std::vector<history_entry> history;
};

// What the pipeline knows when a rule fires.
struct opening {
    std::string rule;
    std::string key;
    severity_level severity = severity_level::warning;
    std::string playbook;  // may be empty: record only
    detect::metrics_snapshot evidence;
    std::map<std::string, std::size_t> languages;
};

enum class command_result { done, already_done, not_found, not_allowed };

struct engine_settings {
    std::vector<playbook_settings> playbooks;
    std::vector<statement_settings> statements;
    // How long a resolved incident with nothing left to do (no step scheduled or awaiting a
    // person) stays in memory after its last change, for the console and the API; then retire()
    // lets it go. nullopt: kept for the engine's lifetime (replay reports list every incident).
    std::optional<core::duration> resolved_grace = std::chrono::hours(24);
};

class engine {
public:
    explicit engine(engine_settings settings);
    ~engine();
    engine(engine&&) noexcept;
    engine& operator=(engine&&) noexcept;

    // A rule fired: opens an incident (unless one is already open for rule+key) and appends the
    // actions due at once. Returns the incident id.
    std::uint64_t open(const opening& o, core::timestamp now, std::vector<action>& out);
    // A rule cleared: resolves its open incident and runs on_resolve.
    void clear(std::string_view rule, std::string_view key, core::timestamp now, std::vector<action>& out);
    // Steps whose time has come (veto wait over, escalation). Touches only incidents with a step
    // due by `now`: O(due · log n).
    void tick(core::timestamp now, std::vector<action>& out);
    // The earliest due time of a scheduled step, O(1): kept ordered as steps change.
    std::optional<core::timestamp> next_deadline() const;
    // Lets go of resolved incidents whose grace (engine_settings::resolved_grace) ran out by
    // `now`, appending their ids to `retired`; find() and incidents() no longer know them.
    // O(1) when none is due. Retirement is not a deadline: call it on the regular tick.
    void retire(core::timestamp now, std::vector<std::uint64_t>& retired);

    // Moves every time the engine holds by `delta`: incident times and history, due steps,
    // retirement and silences. The caller's timeline stepped (the wall clock was set); every wait
    // keeps the length it had left, and the times shown follow the clock people read.
    void shift(core::duration delta);

    command_result acknowledge(std::uint64_t id, std::string_view who, core::timestamp now);
    command_result approve(std::uint64_t id, std::size_t step, std::string_view who, core::timestamp now,
                           std::vector<action>& out);
    command_result veto(std::uint64_t id, std::size_t step, std::string_view who, core::timestamp now);
    command_result resolve(std::uint64_t id, std::string_view who, core::timestamp now, std::vector<action>& out);

    // Mutes a rule (every key when `key` is empty) until `until`: open() then records nothing
    // and returns 0. A later silence for the same rule/key replaces the earlier one.
    command_result silence(std::string_view rule, std::string_view key, core::timestamp until, std::string_view who,
                           core::timestamp now);
    bool silenced(std::string_view rule, std::string_view key, core::timestamp now) const;

    // Ids continue from here (default 1), so numbering survives a restart.
    void set_next_id(std::uint64_t id);
    std::uint64_t next_id() const;
    // Cluster mode (issue 15): ids come from `source` (the partition's sequence, see
    // cluster/incident_ids.hpp) instead of next_id(). Empty: next_id() again.
    void set_id_source(std::function<std::uint64_t(std::string_view rule, std::string_view key)> source);
    // Lets go of the incidents `which` selects, at once and without actions (their partition
    // moved to another replica, which carries them on); returns their ids. O(incidents).
    std::vector<std::uint64_t> drop(const std::function<bool(const incident&)>& which);

    // Re-adopts incidents saved before a restart or held by the engine a reload replaces (as
    // returned by incidents()): open ones block a second open() for their rule+key again and their
    // scheduled steps fire on tick(), so step timers survive. Raises next_id() above every
    // restored id. Call it before the first open().
    //
    // Each live step (scheduled, or awaiting approval) is compared with the step at its place in
    // this engine's playbook:
    //  - the same identity: it carries on as it was;
    //  - gone from the playbook: skipped;
    //  - now a statement whose identity differs (or was never recorded): it becomes that
    //    statement, its text rendered now, and waits for a person's approval whatever its mode
    //    says ("step N changed in the playbook since the incident opened: needs approval") — a
    //    reload must never make crisisd say something nobody approved;
    //  - a changed notify or escalate step runs as recorded: an escalation is a promise to the
    //    responders made when the incident opened, it only reaches the company's own people, and
    //    editing the playbook mid-incident must not silently drop it;
    //  - a recorded statement whose place now holds a notify or escalate step: skipped (the
    //    statement is no longer planned there), as is an unrecorded step of another kind.
    // After a restart (why == restart), a veto wait that ran out while crisisd was down waits
    // again — its own length, at least a minute, from `now` — with its text rendered anew (it is
    // shown anew), a history entry, and a notify action (event "veto_restarted") to the channels
    // of the incident's first notify step (else its first escalate step), so people can still
    // veto before it goes out. Those actions are appended to `out`.
    enum class restore_reason { reload, restart };
    void restore(std::vector<incident> saved, restore_reason why, core::timestamp now, std::vector<action>& out);

    const incident* find(std::uint64_t id) const;
    // The incident not yet resolved for rule+key, if any. O(1).
    const incident* find_open(std::string_view rule, std::string_view key) const;
    // Calls f for each incident not yet resolved (order unspecified); O(open incidents).
    void for_each_open(const std::function<void(const incident&)>& f) const;
    // The incidents held in memory, in opening order: every open one, and resolved ones until
    // retire() lets them go.
    const std::vector<incident>& incidents() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::incident
