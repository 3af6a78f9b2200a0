#include "runtime/action_payload.hpp"

#include "core/json_writer.hpp"

namespace crisisd::runtime {

std::string action_payload(const incident::action& a, const incident::incident* inc, std::string_view console_url) {
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("idempotency_key", a.idempotency_key)
        .member("kind", incident::to_string(a.kind))
        .member("channel", a.channel)
        .member("text", a.text)
        .member("at", core::format_rfc3339(a.at));
    if (!a.event.empty()) w.member("event", a.event);
    // How it was approved travels with a statement: the outbox refuses `required` without an approver.
    if (a.kind == incident::action_kind::statement)
        w.member("statement", a.statement).member("language", a.language)
            .member("approval", incident::to_string(a.approval_mode)).member("approved_by", a.approved_by);
    if (inc) {
        w.key("incident").begin_object();
        w.member("id", static_cast<std::uint64_t>(inc->id))
            .member("rule", inc->rule)
            .member("key", inc->key)
            .member("severity", inc->severity)
            .member("state", incident::to_string(inc->state))
            .member("opened_at", core::format_rfc3339(inc->opened_at));
        if (inc->resolved_at) w.member("resolved_at", core::format_rfc3339(*inc->resolved_at));
        w.key("evidence").begin_object();
        w.member("count", inc->evidence.count)
            .member("negative_count", inc->evidence.negative_count)
            .member("negative_ratio", inc->evidence.negative_ratio)
            .member("unique_authors", inc->evidence.unique_authors)
            .member("volume_ratio", inc->evidence.volume_ratio)
            .member("rate", inc->evidence.rate)
            .member("baseline_rate", inc->evidence.baseline_rate);
        w.end_object();
        w.end_object();
        if (!console_url.empty()) w.member("console_url", std::string(console_url) + "#incident-" + std::to_string(inc->id));
    }
    w.end_object();
    return out;
}

}  // namespace crisisd::runtime
