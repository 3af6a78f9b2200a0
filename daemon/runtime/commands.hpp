#pragma once
// What a person asks of the daemon through the admin API, as behaviour: acknowledge, resolve,
// approve or veto an incident's step, silence a rule, and the audit record of who asked. The
// app's admin adapter (admin::daemon_access) calls it and turns the result into HTTP; the step
// a command produces (actions, a resolution) is left in the caller's step for the step writer.
//
// Silences set here are kept in the state database, so a restart does not unmute a rule someone
// muted, and in memory, because the engine cannot list them and a reload builds a new engine.
//
// Owns the list of running silences; the database, the clock, the events and the follow-ups
// outlive it. Not
// thread-safe: called on the daemon's thread, between two mentions.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "incident/engine.hpp"
#include "pipeline/pipeline.hpp"
#include "runtime/follow_ups.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

// How a command ended, in the words the API and the journal use ("no such incident or step").
std::string_view describe(incident::command_result r);

// What the caller's shell does around a command. Calls come from the commands' thread.
class command_events {
public:
    virtual ~command_events() = default;
    // Every command on an incident, whatever its result (the demo's timeline shows them).
    virtual void command_applied(std::string_view verb, std::uint64_t id, std::string_view who,
                                 std::string_view result) = 0;
};

class commands {
public:
    commands(state::database& store, const core::clock& clock, command_events& events, const follow_ups& follow);

    // Applies ack, resolve, approve or veto to `incidents`; nullopt for any other verb. The
    // actions it planned (a statement approved, a resolution's notices, an acknowledgement's
    // follow-ups) and the
    // resolved id go into `step` (cleared first); an incident it changed into `touched`.
    std::optional<incident::command_result> apply(std::string_view verb, std::uint64_t id,
                                                  std::optional<std::size_t> step_index, std::string_view who,
                                                  incident::engine& incidents, pipeline::step_result& step,
                                                  std::vector<std::uint64_t>& touched);

    // Mutes `rule` (every key when `key` is empty) for `length`; nullopt when `rules` has no
    // rule of that name.
    std::optional<incident::command_result> silence(const std::vector<pipeline::rule_settings>& rules,
                                                    std::string_view rule, std::string_view key,
                                                    std::chrono::seconds length, std::string_view who,
                                                    incident::engine& incidents);

    // Silences still running when the daemon last stopped, into a fresh engine at start.
    void restore_silences(incident::engine& incidents);
    // Into the engine a reload built: those still running whose rule `rules` still has.
    void carry_silences(incident::engine& incidents, const std::vector<pipeline::rule_settings>& rules,
                        core::timestamp now);

    // One audit record, at the clock's time. A write the database refuses is logged, never fatal.
    void audit(std::string_view who, std::string_view address, std::string_view action, std::string_view target,
               std::string_view outcome);

private:
    struct silence_record {
        std::string rule, key, who;
        core::timestamp until{};
    };

    state::database& store_;
    const core::clock& clock_;
    command_events& events_;
    const follow_ups& follow_;
    std::vector<silence_record> silences_;
};

}  // namespace crisisd::runtime
