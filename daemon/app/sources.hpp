#pragma once
// The running sources: each configured source's transport (websocket, X's filtered
// stream, file, HTTP ingest, feed polling, Facebook webhooks), its
// frame queue and its metrics, wired to a lane of the runtime's intake, which does the rest
// (runtime/intake.hpp). A reload keeps unchanged sources running, restarts changed ones and
// stops removed ones. Owned by the daemon; used on its io thread only.
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <vector>

#include "admin/metrics.hpp"
#include "app/daemon.hpp"
#include "core/clock.hpp"
#include "ingest/settings.hpp"
#include "runtime/intake.hpp"

namespace crisisd::app {

class sources {
public:
    // `store` and `clock` are for feed sources, which remember the items they have seen.
    sources(boost::asio::any_io_executor ex, runtime::intake& intake, admin::metrics& metrics,
            daemon_observer* observer, state::database& store, const core::clock& clock);
    ~sources();

    // Builds one source (an HTTP source binds its listener here). Error text, with nothing
    // added, when it cannot be built.
    std::string add(const ingest::source_settings& s);
    void start();
    void stop();
    // Sources whose settings did not change keep running (no reconnect, no gap); `running` is
    // what the running ones were built from; it becomes what runs now.
    void reload(std::vector<ingest::source_settings>& running, const std::vector<ingest::source_settings>& next,
                bool started, std::vector<std::string>& notes);

private:
    struct wiring;
    boost::asio::any_io_executor ex_;
    runtime::intake& intake_;
    admin::metrics& metrics_;
    daemon_observer* observer_;
    state::database& store_;
    const core::clock& clock_;
    std::vector<std::unique_ptr<wiring>> live_;
    // Stopped by a reload: kept until the daemon goes, since their transports may still have
    // handlers in flight that call back into them.
    std::vector<std::unique_ptr<wiring>> retired_;
};

}  // namespace crisisd::app
