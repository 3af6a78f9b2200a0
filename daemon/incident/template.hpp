#pragma once
// Statement templates: "{topic}" filled from incident fields. The one scanner and renderer, so
// that what config/ checks and measures against a network's length limit is what the engine
// posts. Pure functions.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace crisisd::incident {

struct placeholder {
    std::string_view name;   // between the braces, as written; views the template
    std::size_t offset = 0;  // byte offset of '{'
    std::size_t size = 0;    // bytes from '{' to '}' inclusive
};

// Every "{name}" without nested braces or line breaks; a '{' with no closing '}' before the next
// '{' or line break is plain text.
std::vector<placeholder> find_placeholders(std::string_view tpl);

// A field's value, or nullopt for a name it does not know.
using field_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Replaces every placeholder (find_placeholders) whose value `field` knows and is not empty; any
// other stays as written and, with `unfilled`, has its name appended there (once per occurrence).
std::string render_template(std::string_view tpl, const field_lookup& field,
                            std::vector<std::string>* unfilled = nullptr);

// "14:30": the time of day in UTC, the form of {next_update}.
std::string hh_mm_utc(core::timestamp t);

// The longest value of a field whose form the engine alone decides: {incident_id} (a 64-bit
// counter), {started_at} (RFC 3339 in whole seconds, UTC), {next_update} (HH:MM); nullopt for
// the others ({topic}, {rule} and {severity} come from the rule, {status_url} from the playbook).
std::optional<std::string> longest_engine_field(std::string_view name);

}  // namespace crisisd::incident
