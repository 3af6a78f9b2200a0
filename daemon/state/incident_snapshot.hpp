#pragma once
// Incidents as JSON snapshots for the state database, so open incidents, their history and
// their playbook step timers survive a restart (read back and handed to incident::engine::
// restore). Times are stored as integer microseconds, so a round trip is exact. Pure functions.
// It lives in state/ because it is a storage format, read and written only by the incident
// store (state/incidents.hpp) and bound to the schema's compatibility promise (snapshots a
// previous crisisd wrote must load); the incident JSON the admin API and channels see is
// another shape with other readers.
#include <optional>
#include <string>
#include <string_view>

#include "incident/engine.hpp"

namespace crisisd::state {

std::string incident_to_json(const incident::incident& inc);
// nullopt for a snapshot that is not a JSON object with a numeric id.
std::optional<incident::incident> incident_from_json(std::string_view json);

}  // namespace crisisd::state
