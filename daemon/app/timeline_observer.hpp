#pragma once
// The demo watches the live daemon through its observer and prints what happens on a
// report::timeline; this connects the two. On the daemon's thread, like the observer's calls.
#include "app/daemon.hpp"
#include "report/timeline.hpp"

namespace crisisd::app {

class timeline_observer final : public daemon_observer {
public:
    explicit timeline_observer(report::timeline& t) : t_(t) {}

    void source_state(std::string_view source, bool connected, std::string_view detail) override {
        t_.source_state(source, connected, detail);
    }
    void incident_opened(const incident::incident& inc) override { t_.incident_opened(inc); }
    void incident_resolved(const incident::incident& inc) override { t_.incident_resolved(inc); }
    void action_queued(const incident::action& a) override { t_.action_queued(a); }
    void action_delivered(const state::record& r) override { t_.action_delivered(r); }
    void action_retry(const state::record& r, std::string_view detail) override { t_.action_retry(r, detail); }
    void action_dead(const state::record& r, std::string_view why) override { t_.action_dead(r, why); }
    void command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result) override {
        t_.command(verb, id, who, result);
    }

private:
    report::timeline& t_;
};

}  // namespace crisisd::app
