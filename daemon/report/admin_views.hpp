#pragma once
// The admin API's views of what the state database keeps besides incidents: the dead letters
// (actions given up on) and the audit trail, JSON for GET /api/v1/dead-letters and
// GET /api/v1/audit (the console and `crisisd ctl` read them); and what it says of an incident
// no longer in memory. Rendering only; the caller owns
// the records. Stateless functions, safe from any thread.
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "state/actions.hpp"
#include "state/audit.hpp"

namespace crisisd::report {

// {"dead_letters":[{key, incident_id, channel, kind, attempts, error, created_at, dead_at?}]}
std::string dead_letters_json(const std::vector<state::record>& dead);

// Why GET /api/v1/incidents/ID finds nothing. An incident resolved longer than
// storage.resolved_grace ago has left memory (ids below `next_id` were all opened). Its
// snapshot, actions and history stay in the state database, but reading one back per request
// would put SQLite on the admin path for a record nobody can act on any more, so the API says
// where it went instead.
std::string missing_incident(std::uint64_t id, std::uint64_t next_id, core::duration resolved_grace);

// {"audit":[{seq, at, who, address, action, target, outcome}]}
std::string audit_json(const std::vector<state::audit_record>& records);

}  // namespace crisisd::report
