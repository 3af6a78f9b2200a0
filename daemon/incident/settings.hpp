#pragma once
// Playbooks and the statement library: plain data filled by config/.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "core/time_zone.hpp"

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
    // The zone its statements show {next_update} and {started_at} in: its own time_zone, else the
    // top-level one, else UTC (config/ fills it in). Statements go to the company's audience,
    // which reads times as its local time whatever the text's language, so the zone belongs with
    // the playbook (like its status page), not with a statement language.
    core::time_zone time_zone;
    // {next_update} is the time its text is shown (when the step starts; it is posted as shown)
    // plus this (its own next_update_in, else the top-level one); config/ keeps it from 5 minutes
    // to 12 hours in whole minutes and refuses {next_update} in a statement posted on_resolve,
    // when no update follows.
    core::duration next_update_in = std::chrono::minutes(30);
    // The values {topic} may take in the statements it posts: every incident key the rules that
    // run it form from configured values alone (pipeline::configured_keys; config/ fills it in).
    // An incident whose key is not one of them gets no {topic}, so its statements are not posted
    // and its history says so. Defence in depth: config/ already refuses a statement whose
    // {topic} could carry a value from the wire. nullopt (playbooks built by hand, in tests):
    // not checked.
    std::optional<std::vector<std::string>> topics;
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
