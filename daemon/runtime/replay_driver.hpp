#pragma once
// The runtime as `crisisd replay` drives it: intake with its de-duplication and rate limits,
// the step handler with follow-ups, the step writer and the tick, on a simulated clock that
// follows each mention's created_at. The tick runs once a second of event time, or at the
// engine's next deadline. Nothing is delivered: channels are recorders that take each action
// as it is queued, so the outbox holds what a run whose channels all answered would hold.
// What happens goes to a terminal timeline (unless quiet), the incident log (for --report) and
// a chart recorder (for --chart); the command prints them (app/replay.cpp).
//
// Owns the state database it opens, the pipeline it is given and every runtime part. Not
// thread-safe: one thread drives a replay from open() to the end.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/chart.hpp"
#include "report/incident_log.hpp"
#include "report/timeline.hpp"
#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "runtime/follow_ups.hpp"
#include "runtime/housekeeping.hpp"
#include "runtime/intake.hpp"
#include "runtime/step_handler.hpp"
#include "runtime/step_writer.hpp"

namespace crisisd::runtime {

struct replay_settings {
    std::map<std::string, std::string, std::less<>> channel_types;  // channel name → type
    core::duration retention = std::chrono::hours(24 * 90);          // storage.retention
    // The configured sources: a recording names the source each line came from. `trusted` here
    // already says whether the source's format vouches for its authors.
    std::vector<lane_settings> sources;
};

// What a replay read and skipped, for its summary line.
struct replay_counts {
    std::uint64_t rejected = 0;      // lines the parser refused
    std::uint64_t no_time = 0;       // mentions without created_at, placed at the previous time
    std::uint64_t duplicates = 0;    // skipped by the de-duplication window
    std::uint64_t rate_limited = 0;  // over a source's max_rate
    std::optional<core::timestamp> now;  // the last event time
};

class replay_driver final : public step_writer_events,
                            public step_events,
                            public tick_events,
                            public intake_events {
public:
    // `timeline` null: nothing is printed as it happens (--quiet).
    replay_driver(replay_settings settings, report::timeline* timeline);

    // Opens the state database (":memory:" for one that goes with the run) and builds the
    // runtime around the pipeline. An error message, or "" when ready.
    std::string open(std::unique_ptr<pipeline::pipeline> pipe, const std::string& db_path);

    // Samples a chart of the run at every tick from now on.
    void record_chart(report::chart_options o) { chart_.emplace(std::move(o)); }

    // Feeds every line of `in` through the runtime in event time, then lets the story finish:
    // event time keeps running after the last mention until every incident has cleared and
    // every scheduled step has run, at most a day. `skipped` hears of each line the parser
    // refused (1-based line number, reason).
    using skipped_fn = std::function<void(std::uint64_t line, std::string_view reason)>;
    replay_counts feed(std::FILE* in, const skipped_fn& skipped);

    const pipeline::pipeline& pipe() const { return *det_.pipe; }
    std::uint64_t incidents_opened() const { return opened_; }
    const report::incident_log& log() const { return log_; }
    const std::optional<report::chart_recorder>& chart() const { return chart_; }
    // --report's document: every incident as it stood at `now` (the recording's last event
    // time), oldest first, each action shown sent (replay's channels take everything).
    std::string report_json(const std::vector<incident::playbook_settings>& playbooks, core::timestamp now) const;

private:
    // Nothing to count per source in a replay; the summary line counts what was skipped.
    struct quiet_probe final : source_probe {
        std::uint64_t duplicates = 0, rate_limited = 0;
        void received(clock::monotonic_time) override {}
        void dropped() override {}
        void rejected(std::string_view reason) override { rate_limited += reason == "rate_limited" ? 1 : 0; }
        void skipped(std::string_view why) override { duplicates += why == "duplicate" ? 1 : 0; }
    };

    lane& lane_for(std::string_view name);
    void advance(core::timestamp t);
    bool all_done() const;

    // --- what the runtime reports ---
    void write_failed() override {}
    void duplicate_refused(const incident::action&) override {}
    void action_queued(const incident::action& a) override;
    void outbox_changed(bool) override {}
    void incident_opened(const incident::incident& inc, double) override;
    void incident_resolved(const incident::incident& inc) override;
    void incident_suppressed(std::string_view) override {}
    void incidents_retired(const std::vector<std::uint64_t>& ids) override { log_.forget(ids); }
    void open_incidents(std::size_t) override {}
    void ticked(core::timestamp now, const pipeline::pipeline& p) override;
    void mentions_processed(std::uint64_t) override {}
    void stepped(clock::monotonic_time) override { steps_->handle(); }

    replay_settings settings_;
    report::timeline* timeline_;
    report::incident_log log_;
    std::optional<report::chart_recorder> chart_;
    std::uint64_t opened_ = 0;

    simulated_clock clock_;
    inline_executor exec_;
    std::unique_ptr<state::database> store_;
    detection det_;
    std::unique_ptr<step_writer> writer_;
    std::unique_ptr<follow_ups> follow_;
    std::unique_ptr<step_handler> steps_;
    std::unique_ptr<housekeeping> keeper_;
    std::unique_ptr<intake> in_;
    quiet_probe probe_;
    std::map<std::string, lane*, std::less<>> lanes_;  // by the source a line names
    std::optional<core::timestamp> last_tick_;
};

}  // namespace crisisd::runtime
