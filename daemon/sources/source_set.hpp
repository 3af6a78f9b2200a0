#pragma once
// The running sources: each configured source's transport (websocket, X's filtered stream,
// file, HTTP ingest, feed polling, Facebook webhooks), its frame queue and its metrics, wired to
// a lane of the runtime's intake, which does the rest (runtime/intake.hpp). A reload keeps
// unchanged sources running, restarts changed ones and stops removed ones.
//
// This is where a source's settings become something running: to add a source type, add its
// transport to ingest/ and its case to source_set::add. Owned by the daemon; used on its io
// thread only.
#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.hpp"
#include "core/clock.hpp"
#include "ingest/settings.hpp"
#include "ingest/source.hpp"
#include "parse/frame_parser.hpp"
#include "runtime/intake.hpp"
#include "sources/source_cursor.hpp"

namespace crisisd::state {
class database;
}
namespace crisisd::runtime {
class cluster_intake;
}

namespace crisisd::sources {

// Told when a source connects, drops, or gives up (`detail` says why), for a person watching
// (the demo's timeline). Called on the daemon's thread.
class status_listener {
public:
    virtual ~status_listener() = default;
    virtual void source_state(std::string_view source, bool connected, std::string_view detail) = 0;
};

class source_set {
public:
    // `store` and `clock` are for feed sources, which remember the items they have seen.
    // `listener` may be null.
    source_set(boost::asio::any_io_executor ex, runtime::intake& intake, admin::metrics& metrics,
               status_listener* listener, state::database& store, const core::clock& clock);
    ~source_set();

    // Builds one source (an HTTP source binds its listener here). Error text, with nothing
    // added, when it cannot be built.
    std::string add(const ingest::source_settings& s);
    void start();
    void stop();
    // Before a reload touches anything: why `next` could not run (an HTTP source's address
    // cannot be bound, which would stop its ingest), or "".
    std::string check(const std::vector<ingest::source_settings>& next) const;
    // Cluster mode: pull sources (is_pull_source, source_leases.hpp) run only while this replica
    // holds their lease. Call before start(); from then on start() leaves them stopped until
    // hold(name, true), and hold(name, false) stops one (its transport is retired and built
    // afresh when held again, as a reload would).
    void lease_pull_sources() { leased_ = true; }
    void hold(const std::string& name, bool held);
    // Cluster mode, for source_leases' cursor_hooks: a running pull source's resume point, when
    // it names only what the intake has taken (a feed's items handed on are still queued: not
    // yet), else nullopt; and, before a moved source starts here, its transport and lane built
    // again from where its last holder stopped (its SQLite cursor and feed items set first).
    std::optional<source_cursor> cursor_of(const std::string& name) const;
    void resume_from(const std::string& name, const source_cursor& c);
    // Both as source_leases' hooks, with the front's publish counts (`front` may be null: the
    // lease diagnostic publishes nothing) and the writes counted in the metrics.
    cursor_hooks shared_cursors(const runtime::cluster_intake* front);

    // Sources whose settings did not change keep running (no reconnect, no gap); `running` is
    // what the running ones were built from; it becomes what runs now.
    void reload(std::vector<ingest::source_settings>& running, const std::vector<ingest::source_settings>& next,
                bool started, std::vector<std::string>& notes);

private:
    struct wiring;
    // By kind of transport: streams read into a frame queue (websocket, X, file), listeners
    // bind a port and hand frames over directly (HTTP ingest, Facebook), feeds poll.
    void build_stream(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                      std::unique_ptr<parse::frame_parser> parser);
    std::string build_listener(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                               std::unique_ptr<parse::frame_parser> parser);
    void build_feed(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                    std::unique_ptr<parse::frame_parser> parser);

    boost::asio::any_io_executor ex_;
    runtime::intake& intake_;
    admin::metrics& metrics_;
    status_listener* listener_;
    state::database& store_;
    const core::clock& clock_;
    // Whether a pull source may run now (always, outside cluster mode).
    bool may_run(const ingest::source_settings& s) const;
    void retire(std::vector<std::unique_ptr<wiring>>::iterator it);

    std::vector<std::unique_ptr<wiring>> live_;
    // HTTP ingest's back-pressure: intake's room (a cluster front's publish queue), shared by
    // every HTTP source; made with the first.
    std::unique_ptr<ingest::flow_control> intake_room_;
    bool leased_ = false;
    bool started_ = false;
    std::vector<std::string> held_;                     // leased pull sources this replica holds
    // A moved source's shared point, for its next build: a feed's validators; an X stream's
    // first connection asks for backfill.
    std::map<std::string, source_cursor> resumed_;
    // Stopped by a reload: kept until the daemon goes, since their transports may still have
    // handlers in flight that call back into them.
    std::vector<std::unique_ptr<wiring>> retired_;
};

}  // namespace crisisd::sources
