#pragma once
// A readable incident timeline on a terminal: what the demo shows and what replay prints.
// Times are the story's own (event time); with colour when the output is a terminal. It has one
// method per thing a person watching wants to see; the demo connects them to the daemon's
// observer (app/timeline_observer.hpp), replay calls them itself. One owner, one thread.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "incident/engine.hpp"
#include "state/actions.hpp"

namespace crisisd::report {

class timeline {
public:
    timeline(std::FILE* out, const core::clock* clock, bool colour);

    void note(std::string_view text);  // a plain line at the current time
    void note_at(core::timestamp t, std::string_view text);

    void source_state(std::string_view source, bool connected, std::string_view detail);
    // A post as it reached crisisd, with the configured source it came on (the demo's story).
    void mention(std::string_view source, std::string_view author, std::string_view text);
    void incident_opened(const incident::incident& inc);
    void incident_resolved(const incident::incident& inc);
    void action_queued(const incident::action& a);
    void action_delivered(const state::record& r);
    void action_retry(const state::record& r, std::string_view detail);
    void action_dead(const state::record& r, std::string_view why);
    void command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result);

    // While held, lines are kept and written by release(), in order (the demo prints its header
    // while the daemon starts and its sources already report).
    void hold() { held_ = true; }
    void release();

    // Replay has no clock: it sets the time of each event before reporting it.
    void set_time(core::timestamp t) { fixed_ = t; }

private:
    core::timestamp now() const;
    void line(core::timestamp t, std::string_view marker, std::string_view colour, std::string_view text);
    std::FILE* out_;
    const core::clock* clock_;
    bool colour_;
    core::timestamp fixed_{};
    std::string last_date_;
    bool held_ = false;
    std::string kept_;
};

}  // namespace crisisd::report
