#pragma once
// The step handler: what a step (a mention, a tick, a command, a reload) decided becomes
// durable and visible. Opened and resolved incidents are logged and reported, resolutions get
// their follow-ups (runtime/follow_ups.hpp), every action gets its channel payload, and the
// step writer records actions and changed incidents in one transaction. It also keeps the
// per-rule note of incidents max_incidents_per_hour held back: one warning when a rule starts
// refusing, one line with the count when it opens an incident again.
//
// Empties detection::step and detection::touched. Holds references only; all outlive it. Not
// thread-safe: the runtime's one thread calls it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "runtime/follow_ups.hpp"
#include "runtime/step_writer.hpp"

namespace crisisd::runtime {

class step_events {
public:
    virtual ~step_events() = default;
    // `latency`: seconds from the frame's arrival, 0 when no mention opened it (a tick).
    virtual void incident_opened(const incident::incident& inc, double latency) = 0;
    virtual void incident_resolved(const incident::incident& inc) = 0;
    // A rule's max_incidents_per_hour kept a firing key from opening an incident.
    virtual void incident_suppressed(std::string_view rule) = 0;
    // Incidents whose resolved grace ran out left the engine; what is kept per incident can go.
    virtual void incidents_retired(const std::vector<std::uint64_t>& ids) = 0;
    virtual void open_incidents(std::size_t n) = 0;
    // The incidents this step changed (opened, resolved, acted on, or touched by a command),
    // before they are written: the console feed renders them on the next tick.
    virtual void incidents_changed(const std::vector<std::uint64_t>&) {}
};

class step_handler {
public:
    step_handler(detection& det, step_writer& writer, const follow_ups& follow, const clock& clock,
                 step_events& events);

    // Handles the step, if there is one. `arrival`: when the mention behind it came in.
    void handle(std::optional<clock::monotonic_time> arrival = std::nullopt);

    // The console's address, which payloads link to (set once the admin listener is bound).
    void set_console_url(std::string url) { console_url_ = std::move(url); }

    // Marks incidents with a step that waits (for approval, or for its time) as changed, so the
    // next handle() saves them: after a restart or a reload, a restart later agrees.
    void touch_live_steps();

private:
    std::vector<std::uint64_t> changed_incidents();
    void note_suppressed();

    struct suppression_burst {
        std::uint64_t refused = 0;
        core::timestamp last{};
    };

    detection& det_;
    step_writer& writer_;
    const follow_ups& follow_;
    const clock& clock_;
    step_events& events_;
    std::string console_url_;
    std::map<std::string, suppression_burst> suppressing_;  // by rule name
};

}  // namespace crisisd::runtime
