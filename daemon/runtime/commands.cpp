#include "runtime/commands.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace crisisd::runtime {

std::string_view describe(incident::command_result r) {
    switch (r) {
        case incident::command_result::done: return "done";
        case incident::command_result::already_done: return "already done";
        case incident::command_result::not_found: return "no such incident or step";
        case incident::command_result::not_allowed: return "not allowed in this state";
    }
    return "done";
}

commands::commands(state::database& store, const core::clock& clock, command_events& events,
                   const follow_ups& follow)
    : store_(store), clock_(clock), events_(events), follow_(follow) {}

std::optional<incident::command_result> commands::apply(std::string_view verb, std::uint64_t id,
                                                        std::optional<std::size_t> step_index, std::string_view who,
                                                        incident::engine& incidents, pipeline::step_result& step,
                                                        std::vector<std::uint64_t>& touched) {
    const auto now = clock_.now();
    step.clear();
    incident::command_result r;
    if (verb == "ack") r = incidents.acknowledge(id, who, now);
    else if (verb == "resolve") {
        const auto* before = incidents.find(id);
        const bool was_open = before && before->state != incident::incident_state::resolved;
        r = incidents.resolve(id, who, now, step.actions);
        if (was_open && r == incident::command_result::done) step.resolved.push_back(id);
    } else if (verb == "approve") r = incidents.approve(id, step_index.value_or(0), who, now, step.actions);
    else if (verb == "veto") r = incidents.veto(id, step_index.value_or(0), who, now);
    else return std::nullopt;
    events_.command_applied(verb, id, who, describe(r));
    const auto* target = incidents.find(id);
    core::log(core::log_level::notice,
              "incident " + std::to_string(id) + " " + std::string(verb) + " by " + std::string(who) + ": " +
                  std::string(describe(r)) + (target ? " rule=" + target->rule + " key=" + target->key : std::string()) +
                  (step_index ? " step=" + std::to_string(*step_index) : std::string()));
    if (r == incident::command_result::done) {
        if (verb == "ack") follow_.add(incidents, id, incident::action_event::acknowledged, now, step.actions);
        touched.push_back(id);
    }
    return r;
}

std::optional<incident::command_result> commands::silence(const std::vector<pipeline::rule_settings>& rules,
                                                          std::string_view rule, std::string_view key,
                                                          std::chrono::seconds length, std::string_view who,
                                                          incident::engine& incidents) {
    if (std::none_of(rules.begin(), rules.end(), [&](const auto& r) { return r.name == rule; })) return std::nullopt;
    const auto now = clock_.now();
    const auto r = incidents.silence(rule, key, now + length, who, now);
    if (r == incident::command_result::done) {
        store_.silences().save({std::string(rule), std::string(key), std::string(who), now + length});
        silences_.push_back({std::string(rule), std::string(key), std::string(who), now + length});
    }
    core::log_info("silence " + std::string(rule) + (key.empty() ? "" : "/" + std::string(key)) + " for " +
                   core::format_duration(length) + " by " + std::string(who) + ": " + std::string(describe(r)));
    return r;
}

void commands::restore_silences(incident::engine& incidents) {
    std::size_t unreadable = 0;
    const auto now = clock_.now();
    for (auto& s : store_.silences().running(now, unreadable)) {
        incidents.silence(s.rule, s.key, s.until, s.who, now);
        core::log_info("restored silence of " + s.rule + (s.key.empty() ? "" : "/" + s.key) + " until " +
                       core::format_rfc3339(s.until));
        silences_.push_back({std::move(s.rule), std::move(s.key), std::move(s.who), s.until});
    }
    if (unreadable > 0) core::log_warning("state database: ignoring " + std::to_string(unreadable) + " unreadable silence(s)");
}

void commands::carry_silences(incident::engine& incidents, const std::vector<pipeline::rule_settings>& rules,
                              core::timestamp now) {
    std::erase_if(silences_, [&](const silence_record& s) {
        return s.until <= now ||
               std::none_of(rules.begin(), rules.end(), [&](const auto& r) { return r.name == s.rule; });
    });
    for (const auto& s : silences_) incidents.silence(s.rule, s.key, s.until, s.who, now);
}

// The audit log lives in the state database; its time is the daemon's clock, like the incident
// history it sits beside.
void commands::audit(std::string_view who, std::string_view address, std::string_view action,
                     std::string_view target, std::string_view outcome) {
    if (!store_.audit().append(clock_.now(), who, address, action, target, outcome))
        core::log_error("audit: the state database refused an entry (" + store_.last_error() + "): " +
                        std::string(who) + " " + std::string(action) + " " + std::string(target) + ": " +
                        std::string(outcome));
}

}  // namespace crisisd::runtime
