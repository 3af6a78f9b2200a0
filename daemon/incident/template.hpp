#pragma once
// Statement templates: "{topic}" filled from incident fields. The one renderer, so that what
// config/ measures against a network's length limit is what the engine posts. Pure functions.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace crisisd::incident {

// A field's value, or nullopt for a name it does not know.
using field_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces every "{name}" (from a '{' to the next '}') whose value `field` knows; any other
// stays as written.
std::string render_template(std::string_view tpl, const field_lookup& field);

// "14:30": the time of day in UTC, the form of {next_update}.
std::string hh_mm_utc(core::timestamp t);

// The longest value of a field whose form the engine alone decides: {incident_id} (a 64-bit
// counter), {started_at} (RFC 3339 in whole seconds, UTC), {next_update} (HH:MM); nullopt for
// the others ({topic}, {rule} and {severity} come from the rule, the rest from configuration).
std::optional<std::string> longest_engine_field(std::string_view name);

}  // namespace crisisd::incident
