#pragma once
#include <string>

#include "core/time.hpp"

namespace crisisd::outbox {

struct storage_settings {
    std::string path = "/var/lib/crisisd/state.db";

    // How long a resolved incident stays in memory (console, API, charts) after its last
    // change; then only the state database has it. Keeps memory and per-mention cost flat
    // however long crisisd runs. At least an hour: max_incidents_per_hour counts the rule's
    // incidents of the last hour among those in memory.
    core::duration resolved_grace = std::chrono::hours(24);
};

}  // namespace crisisd::outbox
