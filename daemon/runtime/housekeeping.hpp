#pragma once
// The tick: what happens when no mention arrives. Detection clears by silence and veto waits end
// with nothing arriving, so the runtime is stepped by time too: the step writer's backlog is
// retried, the pipeline ticked, and the step handled. Detector windows and baselines go to the
// state database every minute (monotonic) and at shutdown, so a restart — or a crash, losing at
// most a minute — neither blinds nor startles the detector; storage.retention sweeps what was
// resolved long ago, hourly and at start, so the database stays flat however long crisisd runs.
//
// The caller owns the timer: next_wait() says how long, in wall time, until the next tick.
// Holds references only; all outlive it. Not thread-safe: the runtime's one thread calls it.
#include <chrono>
#include <optional>

#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "runtime/step_handler.hpp"
#include "runtime/step_writer.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

class tick_events {
public:
    virtual ~tick_events() = default;
    // The pipeline was ticked at `now` (charts and sparklines sample it here).
    virtual void ticked(core::timestamp now, const pipeline::pipeline& p) = 0;
    // The timeline stepped by `delta` (the wall clock was set) and everything moved with it.
    virtual void clock_stepped(core::duration) {}
};

// How often, in monotonic time, the database is written; nullopt: never. Replay, whose database
// lives only as long as the run, neither snapshots detectors nor sweeps.
struct housekeeping_settings {
    core::duration retention = std::chrono::hours(24 * 90);  // storage.retention
    std::optional<core::duration> save_detector_every = std::chrono::minutes(1);
    std::optional<core::duration> sweep_every = std::chrono::hours(1);
};

class housekeeping {
public:
    housekeeping(state::database& store, detection& det, step_writer& writer, step_handler& steps,
                 const clock& clock, tick_events& events, housekeeping_settings settings);

    // One tick at the clock's now. True when the step changed something (consoles refresh).
    bool tick();
    // Wall time until the next tick: `every`, or sooner when the engine has a deadline.
    std::chrono::nanoseconds next_wait(std::chrono::nanoseconds every) const;

    void save_detector();
    void sweep();
    // The clock's timeline stepped by `delta` (core::clock::take_step; `before` is the last time
    // read before the step): the pipeline's windows, incidents, waits and silences, and the
    // database's retries, recent deliveries and silences move by the same amount, so a wait
    // keeps the length it had left and a key keeps its window. Logged; incidents with a live
    // step are saved again with their new times.
    void rebase(core::duration delta, core::timestamp before);


private:
    state::database& store_;
    detection& det_;
    step_writer& writer_;
    step_handler& steps_;
    const clock& clock_;
    tick_events& events_;
    housekeeping_settings settings_;
    clock::monotonic_time detector_saved_at_;
    clock::monotonic_time swept_at_;
};

}  // namespace crisisd::runtime
