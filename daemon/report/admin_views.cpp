#include "report/admin_views.hpp"

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace crisisd::report {

std::string dead_letters_json(const std::vector<state::record>& dead) {
    std::string out;
    core::json_writer w(out);
    w.begin_object().key("dead_letters").begin_array();
    for (const auto& rec : dead) {
        w.begin_object()
            .member("key", rec.key)
            .member("incident_id", rec.incident_id)
            .member("channel", rec.channel)
            .member("kind", rec.kind)
            .member("attempts", rec.attempts)
            .member("error", rec.last_error)
            .member("created_at", core::format_rfc3339(rec.created_at));
        if (rec.done_at) w.member("dead_at", core::format_rfc3339(*rec.done_at));
        w.end_object();
    }
    w.end_array().end_object();
    return out;
}

std::string missing_incident(std::uint64_t id, std::uint64_t next_id, core::duration resolved_grace) {
    if (id == 0 || id >= next_id) return "no such incident";
    return "incident " + std::to_string(id) + " was resolved more than " +
           core::format_duration(std::chrono::floor<std::chrono::seconds>(resolved_grace)) +
           " ago and is no longer held in memory (storage.resolved_grace); its record stays in the state database";
}

std::string audit_json(const std::vector<state::audit_record>& records) {
    std::string out;
    core::json_writer w(out);
    w.begin_object().key("audit").begin_array();
    for (const auto& rec : records) {
        w.begin_object()
            .member("seq", static_cast<std::int64_t>(rec.seq))
            .member("at", core::format_rfc3339(rec.at))
            .member("who", rec.who)
            .member("address", rec.address)
            .member("action", rec.action)
            .member("target", rec.target)
            .member("outcome", rec.outcome)
            .end_object();
    }
    w.end_array().end_object();
    return out;
}

}  // namespace crisisd::report
