#pragma once
// The live daemon: sources → runtime (runtime/: intake, pipeline, step handler, tick) → outbox →
// channels, with the admin API beside them, all on one io_context thread (so pipeline, incident
// engine and outbox need no locks). `crisisd run` and `crisisd demo` both run this; the demo
// only adds its networks' stand-ins (demo/), a scaled clock and a terminal timeline. `crisisd
// replay` drives the same runtime without it (runtime/replay_driver.hpp).
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "config/settings.hpp"
#include "core/clock.hpp"
#include "incident/engine.hpp"
#include "sources/source_set.hpp"
#include "state/database.hpp"

namespace crisisd::app {

// What happened, for a human watching (the demo's timeline, the journal): sources coming and
// going (sources::status_listener::source_state), incidents, actions, commands. All calls come
// from the daemon's thread.
class daemon_observer : public sources::status_listener {
public:
    virtual void incident_opened(const incident::incident& inc) = 0;
    virtual void incident_resolved(const incident::incident& inc) = 0;
    virtual void action_queued(const incident::action& a) = 0;
    virtual void action_delivered(const state::record& r) = 0;
    virtual void action_retry(const state::record& r, std::string_view detail) = 0;
    virtual void action_dead(const state::record& r, std::string_view why) = 0;
    virtual void command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result) = 0;
};

struct daemon_options {
    core::clock* clock = nullptr;   // required; outlives the daemon
    daemon_observer* observer = nullptr;  // optional
    std::string extra_admin_token;        // the demo's console token
    // `run --discard-local-state`: a replica starting on a database that holds single-node state
    // gives it up instead of refusing to start (state/handover.hpp).
    bool discard_local_state = false;
};

// Why daemon::create failed. `state` is set when the state database was the reason: refused
// (newer, corrupt: a person must look) or out of reach (worth a retry); the command line turns
// them into distinct exit codes (app/cli.hpp). `temporary`: NATS out of reach or not ready (a
// cluster that has just formed cannot place its buckets yet), which passes by itself.
struct create_error {
    std::string message;
    std::optional<state::open_failure> state;
    // Cluster mode on a database holding open incidents or undelivered actions of a single node.
    bool single_node_state = false;
    bool temporary = false;
};

class daemon {
public:
    // Opens storage, compiles rules and builds channels.
    static std::variant<std::unique_ptr<daemon>, create_error> create(boost::asio::io_context& io,
                                                                     config::settings settings, daemon_options options);
    ~daemon();

    // Binds the admin listener, starts delivery, sources and timers. Error text on failure.
    std::string start();
    // Stops reading sources, lets in-flight deliveries finish until `deadline` (wall time from
    // now), then stops the rest. Calls done() on the daemon's thread when finished.
    void shutdown(std::chrono::milliseconds deadline, std::function<void()> done);
    // Swaps in a configuration that was already loaded and validated (config::load_file). On
    // the daemon's thread, between two mentions, so none is lost. Rules, playbooks and
    // statements take effect at once; open incidents, their step timers, silences and incident
    // numbering carry over, and so does all detector state when no rule's definition changed.
    // Only sources whose settings changed are restarted (sources::source_set::reload); changed
    // channels refuse the whole reload; admin and storage keep their running values, and
    // `notes` says which would need a restart. Returns "" when swapped, else why
    // nothing changed (a keyword Vectorscan cannot compile).
    std::string reload(config::settings next, std::vector<std::string>& notes);

    // Writes a reload to the audit log: what was loaded and how it ended ("done", or why not).
    void audit_reload(std::string_view what, std::string_view outcome);

    std::uint16_t admin_port() const;
    // Nothing open, nothing waiting in the outbox, nothing in flight.
    bool quiescent() const;
    std::uint64_t mentions_processed() const;
    std::size_t incidents_opened() const;
    // The report of `--report` (spine issue format).
    std::string report_json() const;

private:
    struct impl;
    explicit daemon(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::app
