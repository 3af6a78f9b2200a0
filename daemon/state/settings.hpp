#pragma once
// `storage:` — where the state database lives and how long it keeps what is over. Plain data;
// config/ fills it from YAML.
#include <algorithm>
#include <chrono>
#include <string>

#include "core/time.hpp"

namespace crisisd::state {

struct storage_settings {
    std::string path = "/var/lib/crisisd/state.db";
    // `retention`: a resolved incident leaves the database, with its finished actions and its
    // history, this long after it was resolved, so the file stays flat however long crisisd runs.
    core::duration retention = std::chrono::hours(24 * 90);
    // `resolved_grace`: how long a resolved incident stays live (in memory, on the console, and
    // read back at start-up) after its last change; then only the database has it. Keeps memory
    // and per-mention cost flat however long crisisd runs. At least 10 s, so people who just
    // acted on an incident still find it; config refuses under an hour while a rule has
    // max_incidents_per_hour, which counts the rule's last hour of incidents among those in memory.
    core::duration resolved_grace = std::chrono::hours(24);
    static constexpr core::duration min_resolved_grace = std::chrono::seconds(10);

    // How often the retention sweep runs: a quarter of `retention`, between 10 s and an hour, so
    // the database holds at most 1.25 × retention of resolved incidents (the hourly sweep of a
    // 90-day retention is unchanged) and a short retention does not pile up an hour's worth.
    core::duration sweep_interval() const {
        const core::duration quarter = retention / 4;
        return std::clamp<core::duration>(quarter, std::chrono::seconds(10), std::chrono::hours(1));
    }
};

}  // namespace crisisd::state
