#pragma once
// The one mapping between incident enums and their names, both ways. The names are what the
// state database, the outbox payloads, the admin API, reports and the config (approval modes)
// spell; nothing else maps them. Pure functions, safe from any thread.
#include <optional>
#include <string_view>

#include "incident/settings.hpp"

namespace crisisd::incident {

enum class incident_state { open, acknowledged, resolved };
enum class action_kind { notify, statement };
enum class step_state {
    scheduled,         // waiting for its time (escalate `after`, veto `wait`)
    awaiting_approval, // approval: required, nobody approved yet
    emitted,           // handed to the outbox as an action
    vetoed,
    skipped,           // escalation not needed (acknowledged) or incident resolved first
};
// What a notify action tells its channel happened to the incident. A statement's action has no
// event (none, whose name is empty and which the payload leaves out). veto_restarted marks the
// record of a veto wait begun again after a restart, never sent.
enum class action_event { none, opened, escalated, acknowledged, resolved, veto_restarted };
// A rule's severity (config `severity`), carried by its incidents and their payloads.
enum class severity_level { info, warning, critical };

std::string_view to_string(incident_state s);
std::string_view to_string(step_state s);
std::string_view to_string(action_kind k);
std::string_view to_string(step_kind k);
std::string_view to_string(approval a);  // "auto" | "veto" | "required", as in the config
std::string_view to_string(action_event e);  // "" for none
std::string_view to_string(severity_level s);

// The reverse: nullopt for a name that is none of the enum's.
std::optional<incident_state> incident_state_from_string(std::string_view s);
std::optional<step_state> step_state_from_string(std::string_view s);
std::optional<action_kind> action_kind_from_string(std::string_view s);
std::optional<step_kind> step_kind_from_string(std::string_view s);
std::optional<approval> approval_from_string(std::string_view s);
std::optional<action_event> action_event_from_string(std::string_view s);  // "" is none
std::optional<severity_level> severity_level_from_string(std::string_view s);

// The kind of action a step of this kind emits: a statement posts, the others notify.
constexpr action_kind action_kind_of(step_kind k) {
    return k == step_kind::statement ? action_kind::statement : action_kind::notify;
}

}  // namespace crisisd::incident
