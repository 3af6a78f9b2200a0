#pragma once
// Statement texts against the length limits of the channels playbooks post them to. Private to
// config/.
#include "config/detail/context.hpp"
#include "config/settings.hpp"

namespace crisisd::config::detail {

// For every statement step whose channel's type limits a post's length (mastodon: 500
// characters, bluesky: 300 graphemes and 3000 bytes; text/post_length.hpp counts as they do),
// renders each language's text as the engine would, with every placeholder at the longest value
// it can take, and reports a text the network would refuse at the text itself.
//
// The longest values: {rule}, {severity} and {topic} (the incident key: the rule's topic, plus a
// wire-supplied source and language of up to 48 characters each when group_by names them) of each
// rule that runs the playbook, the worst of them counting; {incident_id} 20 digits; the times in
// the playbook's zone, with the date and, in UTC, the zone: {started_at} "2026-11-26 14:05" (16
// characters, "… UTC" 20), {next_update} "14:30" (5, "14:30 UTC" 9) (incident/template.hpp);
// {status_url} the playbook's own (resolve_statement_fields has filled it and the zone in; a
// missing URL is reported there and counted as written here). A playbook no rule runs is measured
// with every rule's fields.
//
// Runs once every file is read; steps naming an unknown statement or channel are skipped (they
// are reported as unknown names).
void check_statement_lengths(context& ctx, const settings& config);

}  // namespace crisisd::config::detail
