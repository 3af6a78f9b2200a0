#pragma once
// The values of statement placeholders that come from configuration. Private to config/.
#include "config/detail/context.hpp"
#include "config/settings.hpp"

namespace crisisd::config::detail {

// Gives every playbook without its own status_url, time_zone and next_update_in the top-level
// ones, then reports, for the statements each playbook posts:
// - at the placeholder, a text that uses {status_url} where the playbook still has none: the
//   engine would have nothing to fill in, and a literal "{status_url}" must never be posted;
// - at the placeholder, a text posted on_resolve that uses {next_update}: it would promise an
//   update that never comes;
// - at the label, "{next_update} UTC" (or GMT, likewise {started_at}): in UTC the time already
//   says "UTC", in any other zone it is local time and the label would be false.
//
// - at the placeholder, a text that uses {topic} where a rule that runs the playbook groups by
//   lang without listing its languages: the key's language part would be the mention's own tag.
//
// Every playbook gets the {topic} values its statements may carry (playbook_settings::topics):
// the keys its rules form from configured values (the rule's topic, configured source names,
// listed languages). Sources are configured names (a mention's source is the source it came in
// on), so grouping by source needs no listing.
//
// The other placeholders always have a value when the engine posts: {rule}, {severity} (a
// rule's name and severity, both required or defaulted), {incident_id}, {started_at} and
// {next_update} (the engine's own); unknown names are refused where the text is read.
//
// Runs once every file is read (a playbook, its statements and the top-level settings may be in
// different files); steps naming an unknown statement are skipped (reported as unknown names).
void resolve_statement_fields(context& ctx, settings& config);

}  // namespace crisisd::config::detail
