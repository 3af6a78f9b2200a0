#include "incident/names.hpp"

#include <array>
#include <utility>

namespace crisisd::incident {
namespace {

// Each enum's names in one table, read both ways, so a name added for writing is read back too.
template <class E, std::size_t N>
using names = std::array<std::pair<E, std::string_view>, N>;

constexpr names<incident_state, 3> incident_states{{
    {incident_state::open, "open"},
    {incident_state::acknowledged, "acknowledged"},
    {incident_state::resolved, "resolved"},
}};
constexpr names<step_state, 5> step_states{{
    {step_state::scheduled, "scheduled"},
    {step_state::awaiting_approval, "awaiting_approval"},
    {step_state::emitted, "emitted"},
    {step_state::vetoed, "vetoed"},
    {step_state::skipped, "skipped"},
}};
constexpr names<action_kind, 2> action_kinds{{{action_kind::notify, "notify"}, {action_kind::statement, "statement"}}};
constexpr names<step_kind, 3> step_kinds{{
    {step_kind::notify, "notify"},
    {step_kind::statement, "statement"},
    {step_kind::escalate, "escalate"},
}};
constexpr names<approval, 3> approvals{{
    {approval::automatic, "auto"},
    {approval::veto, "veto"},
    {approval::required, "required"},
}};
constexpr names<action_event, 6> action_events{{
    {action_event::none, ""},
    {action_event::opened, "opened"},
    {action_event::escalated, "escalated"},
    {action_event::acknowledged, "acknowledged"},
    {action_event::resolved, "resolved"},
    {action_event::veto_restarted, "veto_restarted"},
}};
constexpr names<severity_level, 3> severity_levels{{
    {severity_level::info, "info"},
    {severity_level::warning, "warning"},
    {severity_level::critical, "critical"},
}};

template <class E, std::size_t N>
std::string_view name_of(const names<E, N>& table, E e, std::string_view otherwise) {
    for (const auto& [value, name] : table)
        if (value == e) return name;
    return otherwise;
}

template <class E, std::size_t N>
std::optional<E> value_of(const names<E, N>& table, std::string_view s) {
    for (const auto& [value, name] : table)
        if (name == s) return value;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(incident_state s) { return name_of(incident_states, s, "unknown"); }
std::string_view to_string(step_state s) { return name_of(step_states, s, "unknown"); }
std::string_view to_string(action_kind k) { return name_of(action_kinds, k, "unknown"); }
std::string_view to_string(step_kind k) { return name_of(step_kinds, k, "unknown"); }
// An approval mode out of range reads as the strictest one.
std::string_view to_string(approval a) { return name_of(approvals, a, "required"); }
std::string_view to_string(action_event e) { return name_of(action_events, e, "unknown"); }
std::string_view to_string(severity_level s) { return name_of(severity_levels, s, "unknown"); }

std::optional<incident_state> incident_state_from_string(std::string_view s) { return value_of(incident_states, s); }
std::optional<step_state> step_state_from_string(std::string_view s) { return value_of(step_states, s); }
std::optional<action_kind> action_kind_from_string(std::string_view s) { return value_of(action_kinds, s); }
std::optional<step_kind> step_kind_from_string(std::string_view s) { return value_of(step_kinds, s); }
std::optional<approval> approval_from_string(std::string_view s) { return value_of(approvals, s); }
std::optional<action_event> action_event_from_string(std::string_view s) { return value_of(action_events, s); }
std::optional<severity_level> severity_level_from_string(std::string_view s) { return value_of(severity_levels, s); }

}  // namespace crisisd::incident
