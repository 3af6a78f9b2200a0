#pragma once
// What `crisisd ctl` shows at a terminal for the admin API's lists: the incidents
// (GET /api/v1/incidents) and the audit trail (GET /api/v1/audit) as fixed-width tables, one
// row a line under a header. A body that is not the expected JSON comes back as it is, with a
// newline, so nothing the daemon said is lost. Pure functions; thread-safe.
#include <string>
#include <string_view>

namespace crisisd::report {

// ID, STATE, SEVERITY, RULE, KEY, OPENED.
std::string incident_table(std::string_view api_json);
// AT, WHO, ADDRESS, ACTION, TARGET, OUTCOME.
std::string audit_table(std::string_view api_json);

}  // namespace crisisd::report
