#pragma once
// The whole validated configuration: every module's settings struct, nothing YAML-shaped.
#include <optional>
#include <string>
#include <vector>

#include "admin/settings.hpp"
#include "cluster/settings.hpp"
#include "core/time.hpp"
#include "core/time_zone.hpp"
#include "incident/settings.hpp"
#include "ingest/settings.hpp"
#include "notify/settings.hpp"
#include "state/settings.hpp"
#include "pipeline/settings.hpp"

namespace crisisd::config {

struct settings {
    std::vector<ingest::source_settings> sources;
    std::vector<notify::channel_settings> channels;
    std::vector<pipeline::rule_settings> rules;
    std::vector<incident::playbook_settings> playbooks;
    std::vector<incident::statement_settings> statements;
    // The top-level status_url: {status_url} for every playbook without its own (each playbook's
    // status_url already holds the one it uses). Empty: none.
    std::string status_url;
    // The top-level time_zone and next_update_in: how statements show times ({next_update},
    // {started_at}) for every playbook without its own (each playbook's fields already hold the
    // ones it uses). Unset: UTC, shown as "14:30 UTC", and 30 minutes.
    core::time_zone time_zone;
    core::duration next_update_in = std::chrono::minutes(30);
    admin::admin_settings admin;
    state::storage_settings storage;
    // Present: this process is one replica of a cluster on NATS JetStream (issue 15). Absent: the
    // single-process mode with its SQLite file, unchanged.
    std::optional<cluster::cluster_settings> cluster;
};

}  // namespace crisisd::config
