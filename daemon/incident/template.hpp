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
#include "core/time_zone.hpp"
#include "incident/settings.hpp"

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

// How statements show times. Readers of a company's public statements read times as their local
// time, so times are shown in the playbook's time zone (incident/settings.hpp), as a wall clock
// there shows them, 24-hour, without the zone's name: "14:30", which reads right in "bis 14:30 Uhr"
// and "by 14:30". UTC is no one's wall clock, so in UTC (the default when no zone is configured)
// every time says so: "14:30 UTC".

// {next_update}: the time of day `interval` after `posted` (when the text is shown, which is what is posted), rounded up to the whole minute (the
// promise is never shorter than the interval): "14:30", "14:30 UTC".
std::string next_update_text(core::timestamp posted, core::duration interval, const core::time_zone& zone);

// {started_at}: when the incident opened, to the minute: "14:05" when that was the same local day
// as `posted`, else with the date (ISO 8601, read alike in every language): "2026-11-26 14:05";
// in UTC with " UTC" after either.
std::string started_at_text(core::timestamp started, core::timestamp posted, const core::time_zone& zone);

// The longest value of a field whose form the engine alone decides, in `zone`: {incident_id} (a
// 64-bit counter, 20 digits), {started_at} (16 characters, 20 in UTC), {next_update} (5, 9 in
// UTC); nullopt for the others ({topic}, {rule} and {severity} come from the rule, {status_url}
// from the playbook).
std::optional<std::string> longest_engine_field(std::string_view name, const core::time_zone& zone);

// {topic} for an incident with `key` run by `playbook`: the key when the configuration could
// have formed it (playbook_settings::topics), else nullopt, so that no statement carries it.
std::optional<std::string> configured_topic(const playbook_settings* playbook, std::string_view key);

}  // namespace crisisd::incident
