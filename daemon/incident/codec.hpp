#pragma once
// The one JSON codec for incidents, actions and their evidence, both ways. Every module that
// writes or reads these shapes goes through it: the incident store (state/), the action payload
// the outbox stores and every channel reads (notify/, outbox/), the admin API's and the reports'
// incident view (report/). Enum names come from incident/names.hpp.
//
// Two incident shapes exist on purpose, each bound to its readers:
//  - the snapshot (incident_to_json): every field, times as integer microseconds so a round trip
//    is exact; stored in the state database and restored after a restart, so snapshots an older
//    crisisd wrote must keep loading (missing fields read as their defaults);
//  - the action payload (action_to_json): what a channel receives, RFC 3339 times and a summary
//    of the incident and its evidence; never mention text beyond the engine's one-line summary.
// Writers use core::json_writer, whose shortest round-trip numbers are the format receivers
// have always seen. Readers take any bytes (a damaged row, an old payload) and never throw.
// Pure functions, safe from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json_writer.hpp"
#include "detect/detector.hpp"
#include "incident/engine.hpp"

namespace crisisd::incident {

// Which evidence fields are written. `full`: all of them (snapshots, the incident view);
// `summary`: the seven a channel's payload has always carried, in their order.
enum class evidence_form { full, summary };
// Writes the members of an evidence object (the caller opens and closes it).
void write_evidence(core::json_writer& w, const detect::metrics_snapshot& m, evidence_form form);

// The snapshot shape (see above).
std::string incident_to_json(const incident& inc);
// nullopt for a snapshot that is not a JSON object with a numeric id; unknown enum names read as
// the first value (open, scheduled, notify), an unknown or missing severity as warning (a
// rule's default), an unreadable step identity as none (changed).
std::optional<incident> incident_from_json(std::string_view json);

// The body every channel receives for an action (and the outbox stores). `inc` adds the
// incident's summary; `console_url` (with `inc`) a link to it in the console.
std::string action_to_json(const action& a, const incident* inc, std::string_view console_url);

// The incident part of an action payload.
struct incident_summary {
    std::uint64_t id = 0;
    std::string rule;
    std::string key;
    std::optional<severity_level> severity;  // nullopt: missing or unknown
    std::optional<incident_state> state;  // nullopt: missing or unknown
    core::timestamp opened_at{};
    std::optional<core::timestamp> resolved_at;
    detect::metrics_snapshot evidence;  // the summary form's fields; the others stay 0
};

// An action payload as read back. Missing strings stay empty, missing times the epoch.
struct action_payload {
    std::string idempotency_key;
    std::optional<action_kind> kind;  // nullopt: missing or unknown
    std::string channel;
    std::string text;
    core::timestamp at{};
    // notify: opened, escalated, acknowledged, resolved, veto_restarted; none when the payload
    // has no event (a statement); nullopt for a name this crisisd does not know.
    std::optional<action_event> event = action_event::none;
    std::string statement;
    std::string language;
    // Statements carry how they were approved; payloads written before that carry nothing.
    bool has_approval = false;
    std::optional<approval> approval_mode;  // nullopt with has_approval: not a known mode
    std::string approved_by;
    std::optional<incident_summary> incident;
    std::string console_url;
};

// nullopt when the payload is not a JSON object.
std::optional<action_payload> action_from_json(std::string_view json);

}  // namespace crisisd::incident
