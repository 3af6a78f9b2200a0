#pragma once
// The live daemon's incident views (admin API, console feed, `demo --report`): the incident log
// rendered at the live clock's time, each action with its delivery status from the outbox, and
// countdowns in wall-clock milliseconds (the demo's clock runs faster than the wall).
//
// Holds references only; the clock, state database and incident log outlive it. Not
// thread-safe: the daemon's one thread calls it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "report/incident_log.hpp"
#include "state/database.hpp"

namespace crisisd::report {

class live_views {
public:
    live_views(const core::clock& clock, state::database& store, const incident_log& log)
        : clock_(clock), store_(store), log_(log) {}

    // Every incident in memory, newest first, in detail (GET /api/v1/incidents); settled
    // incidents' views come from the log's cache (incident_log::write_list).
    // With resolved_limit: every open incident and the newest resolved_limit resolved ones.
    std::string all_json(const pipeline::pipeline& p, const std::vector<incident::playbook_settings>& playbooks,
                         std::optional<std::size_t> resolved_limit = std::nullopt) const;
    // One incident in detail, with its chart's points or without (the console feed); nullopt
    // when it is not in memory.
    std::optional<std::string> one_json(const pipeline::pipeline& p,
                                        const std::vector<incident::playbook_settings>& playbooks, std::uint64_t id,
                                        bool series) const;
    // The report's lean form, in opening order, with the mentions processed (`--report`).
    std::string report_json(const pipeline::pipeline& p, const std::vector<incident::playbook_settings>& playbooks) const;

private:
    delivery_status status(const incident::action& a) const;
    incident_log::view_options view(bool detail) const;

    const core::clock& clock_;
    state::database& store_;
    const incident_log& log_;
};

}  // namespace crisisd::report
