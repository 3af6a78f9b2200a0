#pragma once
// Playbooks and the statement library: plain data filled by config/.
#include <map>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace crisisd::incident {

enum class approval { automatic, veto, required };

enum class step_kind { notify, statement, escalate };

struct step_settings {
    step_kind kind = step_kind::notify;
    std::vector<std::string> channels;  // notify, escalate: channel names; statement: one channel
    std::string statement;              // statement: name in the library
    approval approval_mode = approval::automatic;
    core::duration wait{0};   // statement with approval veto: time a person has to veto
    core::duration after{0};  // escalate: time after opening
    bool unless_acknowledged = true;  // escalate: skipped once the incident is acknowledged
};

struct playbook_settings {
    std::string name;
    std::vector<step_settings> steps;       // run when the incident opens
    std::vector<step_settings> on_resolve;  // run when it resolves
    // {status_url} in the statements it posts: its own status_url, else the top-level one (config/
    // fills it in); empty: none, and config/ refuses a statement it posts that uses {status_url}.
    std::string status_url;
};

struct statement_settings {
    std::string name;
    std::string approved_by;  // both required: an unapproved statement cannot be posted
    std::string approved_at;
    std::map<std::string, std::string> text;  // language -> template with {incident fields}
    std::string fallback_language = "en";
};

// The placeholders a statement template may use; all are incident fields, never mention text.
inline const std::vector<std::string>& template_fields() {
    static const std::vector<std::string> fields{"topic",       "rule",     "severity", "started_at",
                                                 "next_update", "status_url", "incident_id"};
    return fields;
}

}  // namespace crisisd::incident
