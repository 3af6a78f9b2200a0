#pragma once
// `storage:` — where the state database lives and how long it keeps what is over. Plain data;
// config/ fills it from YAML.
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
    // and per-mention cost flat however long crisisd runs. At least an hour:
    // max_incidents_per_hour counts the rule's incidents of the last hour among those in memory.
    core::duration resolved_grace = std::chrono::hours(24);
};

}  // namespace crisisd::state
