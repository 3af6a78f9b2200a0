#pragma once
// A readable incident timeline on a terminal: what the demo shows and what replay prints.
// Times are the story's own (event time); with colour when the output is a terminal.
#include <cstdio>
#include <string>

#include "app/daemon.hpp"

namespace crisisd::app {

class timeline final : public daemon_observer {
public:
    timeline(std::FILE* out, const core::clock* clock, bool colour);

    void note(std::string_view text);  // a plain line at the current time
    void note_at(core::timestamp t, std::string_view text);

    void source_state(std::string_view source, bool connected, std::string_view detail) override;
    void incident_opened(const incident::incident& inc) override;
    void incident_resolved(const incident::incident& inc) override;
    void action_queued(const incident::action& a) override;
    void action_delivered(const state::record& r) override;
    void action_retry(const state::record& r, std::string_view detail) override;
    void action_dead(const state::record& r, std::string_view why) override;
    void command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result) override;

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
};

}  // namespace crisisd::app
