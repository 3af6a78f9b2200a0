#pragma once
// What the shell remembers about each incident beyond the engine's state: the actions emitted
// for it (to report their delivery status) and a short history of its key's metrics (for the
// console's chart). Shared by the live daemon, replay and the demo; serialises incidents for
// the admin API and for reports (`--report`): the incident view, built from the codec's pieces
// (incident/codec.hpp: names, evidence) and what only the view has (delivery status, samples,
// series, countdowns). One owner; not thread-safe.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json_writer.hpp"
#include "incident/engine.hpp"
#include "pipeline/pipeline.hpp"
#include "state/actions.hpp"

namespace crisisd::report {

struct series_point {
    core::timestamp at{};
    double rate = 0, baseline_rate = 0, negative_ratio = 0, count = 0;
};

// What became of an emitted action, as the incident view names it.
enum class delivery_status { pending, sent, failed };
std::string_view to_string(delivery_status s);  // "pending" | "sent" | "failed"
// From the action's outbox record: none yet is pending, a dead letter failed.
delivery_status delivery_status_of(const state::record* rec);

// The status of an emitted action (live: from the outbox; replay: sent).
using action_status_fn = std::function<delivery_status(const incident::action&)>;

class incident_log {
public:
    void emitted(const incident::action& a) { actions_[a.incident_id].push_back(a); }
    const std::vector<incident::action>& actions(std::uint64_t id) const;

    // Samples the metrics of every incident that is not resolved (call on each tick); walks
    // only those, never every incident ever opened.
    void sample(const pipeline::pipeline& p, core::timestamp now, std::size_t max_points = 240);
    // The newest max_points samples, oldest first.
    const std::deque<series_point>& series(std::uint64_t id) const;

    // Incidents that left the engine's memory (pipeline::step_result::retired): their actions,
    // chart and cached view go too, so the log stays as small as the engine.
    void forget(const std::vector<std::uint64_t>& retired);

    // What may change a settled incident's view (see write_list): the step handler's changed
    // incidents (commands, steps), a delivery outcome; new playbooks (a reload) and a set wall
    // clock (pipeline::shift moves every time shown) drop them all (forget_views()).
    void changed(std::span<const std::uint64_t> ids);
    void forget_views() { rendered_.clear(); }
    std::size_t cached_views() const { return rendered_.size(); }

    struct view_options {
        core::timestamp now{};
        // Wall-clock milliseconds until a scenario time (the demo runs on a scaled clock).
        std::function<std::int64_t(core::duration)> wall_ms;
        bool detail = true;  // steps, samples, history, series (API) or the report's lean form
        bool series = true;  // with detail: the chart's points (the console feed leaves them out)
    };

    // One incident as JSON: the admin API's and the console's view (detail) or the report's.
    void write(core::json_writer& w, const pipeline::pipeline& p, const incident::incident& inc,
               const std::vector<incident::playbook_settings>& playbooks, const action_status_fn& status,
               const view_options& o) const;

    // {"incidents":[…]} newest first (API) or in opening order (report), plus
    // "mentions_processed" for reports.
    std::string write_all(const pipeline::pipeline& p, const std::vector<incident::playbook_settings>& playbooks,
                          const action_status_fn& status, const view_options& o, bool newest_first,
                          std::optional<std::uint64_t> mentions_processed) const;

    // The admin API's list (GET /api/v1/incidents): write_all in detail, newest first, byte for
    // byte, but a settled incident - resolved, no step scheduled or awaiting approval, every
    // action sent or failed - is rendered once and its JSON kept until changed(), forget() or
    // forget_views() drops it. Its view reads nothing that moves by itself then (no countdown,
    // no chart point: sample() walks open incidents only), so what a request costs grows with
    // the incidents that are open or changed, not with the resolved ones held for
    // storage.resolved_grace (issue 13: 2,000 held made each answer 62 ms of the event loop).
    //
    // With resolved_limit, only the newest resolved_limit resolved incidents are written (every
    // open one still is), and "resolved_omitted" says how many were left out.
    std::string write_list(const pipeline::pipeline& p, const std::vector<incident::playbook_settings>& playbooks,
                           const action_status_fn& status, const view_options& o,
                           std::optional<std::size_t> resolved_limit = std::nullopt) const;

private:
    bool settled(const incident::incident& inc, const action_status_fn& status) const;
    static void write_samples(core::json_writer& w, const pipeline::pipeline& p, std::uint64_t id);
    void write_actions(core::json_writer& w, const incident::incident& inc,
                       const std::vector<incident::playbook_settings>& playbooks, const action_status_fn& status) const;
    void write_steps(core::json_writer& w, const incident::incident& inc,
                     const std::vector<incident::playbook_settings>& playbooks, const action_status_fn& status,
                     const view_options& o) const;
    void write_series(core::json_writer& w, std::uint64_t id) const;

    std::map<std::uint64_t, std::vector<incident::action>> actions_;
    // A deque: a full chart drops its oldest point at every tick, which a vector would pay for
    // by moving all the others (half the CPU of a long replay did exactly that).
    std::map<std::uint64_t, std::deque<series_point>> series_;
    // Settled incidents' views as write_list renders them: a cache, hence mutable.
    mutable std::map<std::uint64_t, std::string> rendered_;
};

}  // namespace crisisd::report
