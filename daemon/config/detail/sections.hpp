#pragma once
// Readers for each top-level section of a config file. Each validates its section, reports
// problems through the context, registers the names it defines and records the names it uses
// for the cross-reference pass. Private to config/.
#include <functional>
#include <optional>
#include <vector>

#include "config/detail/reader.hpp"
#include "config/settings.hpp"

namespace crisisd::config::detail {

// Calls `each` for every entry of a list-valued section; an empty value is an empty list.
void for_each_entry(context& ctx, const field& list,
                    const std::function<void(const YAML::Node& item, const location& at)>& each);

void read_sources(context& ctx, const field& f, std::vector<ingest::source_settings>& out);
void read_channels(context& ctx, const field& f, std::vector<notify::channel_settings>& out);
void read_rules(context& ctx, const field& f, std::vector<pipeline::rule_settings>& out);
void read_playbooks(context& ctx, const field& f, std::vector<incident::playbook_settings>& out);
void read_statements(context& ctx, const field& f, std::vector<incident::statement_settings>& out);
// Reports a status_url (top level or a playbook's: the page {status_url} links to) that is not an
// http(s) URL with a host.
void check_status_url(context& ctx, const field& f, const std::string& url);
// A time_zone (top level or a playbook's): an IANA name from the system's zoneinfo, read now.
std::optional<core::time_zone> read_time_zone(context& ctx, const field& f);
// A next_update_in (top level or a playbook's): whole minutes from 5m to 12h.
std::optional<core::duration> read_next_update_in(context& ctx, const field& f);
void read_admin(context& ctx, const field& f, admin::admin_settings& out);
// `grace_at` receives where resolved_grace was set, for the check against the rules' caps
// (check_short_grace), which needs every rule read first.
void read_storage(context& ctx, const field& f, state::storage_settings& out, std::optional<location>& grace_at);
// A resolved_grace under an hour is refused while a rule counts incidents per hour
// (max_incidents_per_hour counts the last hour's incidents among those in memory).
void check_short_grace(context& ctx, const settings& config, const std::optional<location>& grace_at);
void read_cluster(context& ctx, const field& f, std::optional<cluster::cluster_settings>& out);

}  // namespace crisisd::config::detail
