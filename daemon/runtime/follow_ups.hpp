#pragma once
// Follow-ups: PagerDuty learns of an incident's acknowledgement and resolution, Alertmanager of
// its resolution, on every pager channel the incident was paged on, even when the playbook's
// on_resolve does not name them — otherwise the page would stay open there. Which channel types
// follow which event is notify/traits.hpp's table; which channels the incident reached is the
// outbox's record.
//
// Holds the name → type of each running channel (channels are built once; a reload never
// changes them); the database outlives it. Not thread-safe: the daemon's thread calls it.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "incident/engine.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

class follow_ups {
public:
    // `channel_types`: each running channel's name and its type (notify::channel::type()).
    follow_ups(state::database& store, std::map<std::string, std::string, std::less<>> channel_types);

    // Appends to `out` one notify action per channel that paged incident `id` and follows
    // `event` (acknowledged, resolved), unless `out` already plans that event there. Keys
    // are per incident, event and channel, so a repeated command adds nothing to the outbox.
    void add(const incident::engine& incidents, std::uint64_t id, incident::action_event event, core::timestamp now,
             std::vector<incident::action>& out) const;

private:
    state::database& store_;
    std::map<std::string, std::string, std::less<>> channel_types_;
};

}  // namespace crisisd::runtime
