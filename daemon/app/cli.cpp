#include "app/cli.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string_view>
#include <system_error>

#include "app/daemon.hpp"
#include "service/systemd.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "pipeline/pipeline.hpp"

namespace crisisd::app {

std::optional<std::string> options::value(std::string_view name) const {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == name && i + 1 < args.size()) return args[i + 1];
        if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=')
            return std::string(a.substr(name.size() + 1));
    }
    return std::nullopt;
}

bool options::flag(std::string_view name) const {
    for (const auto& a : args)
        if (a == name) return true;
    return false;
}

std::vector<std::string> options::unknown(const std::vector<std::string_view>& valued,
                                          const std::vector<std::string_view>& flags) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        auto name = a.substr(0, a.find('='));
        bool is_valued = std::find(valued.begin(), valued.end(), name) != valued.end();
        bool is_flag = std::find(flags.begin(), flags.end(), a) != flags.end();
        if (is_valued) {
            if (a.find('=') == std::string_view::npos) ++i;
            continue;
        }
        if (!is_flag) out.emplace_back(a);
    }
    return out;
}

pipeline::pipeline_settings pipeline_settings_of(const config::settings& s) {
    pipeline::pipeline_settings ps;
    ps.rules = s.rules;
    ps.incidents.playbooks = s.playbooks;
    ps.incidents.statements = s.statements;
    ps.incidents.resolved_grace = s.storage.resolved_grace;
    return ps;
}

std::string cluster_mode() {
    const char* v = std::getenv("CRISISD_CLUSTER_PREVIEW");
    return v && std::string_view(v) == "leases" ? "leases" : "partitions";
}

std::optional<config::settings> load_config_or_report(const std::string& path) {
    auto result = config::load_file(path);
    if (!result.ok()) {
        for (const auto& d : result.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        return std::nullopt;
    }
    // Keywords are compiled here too, so a rule Vectorscan cannot compile is a config error
    // at check time, not a surprise at start-up.
    auto p = pipeline::pipeline::create(pipeline_settings_of(result.config));
    if (auto* e = std::get_if<std::string>(&p)) {
        std::fprintf(stderr, "%s: error: %s\n", path.c_str(), e->c_str());
        return std::nullopt;
    }
    return std::move(result.config);
}

namespace {

constexpr const char* usage_text =
    "usage: crisisd <command> [options]\n"
    "\n"
    "commands:\n"
    "  run --config FILE            run the daemon (default config /etc/crisisd/crisisd.yaml)\n"
    "      [--discard-local-state]  cluster mode: give up a single node's open incidents and actions\n"
    "  check-config --config FILE   validate a configuration; exit 0 and OK, or 78 with every problem\n"
    "  score [--text] [--lang de|en]  score JSONL mentions (or plain text lines) from stdin\n"
    "  replay --config FILE --input FILE.jsonl [--report OUT.json] [--chart OUT.svg] [--quiet]\n"
    "                               run the rules over a recorded stream in event time\n"
    "  demo [--headless] [--speed N] [--report OUT.json] [--listen HOST:PORT] [--tokens-file FILE]\n"
    "                               play the bundled outage scenario through the real daemon\n"
    "  ctl <command> [--url URL] [--token-file FILE]   list, show, ack, approve, veto, resolve, silence,\n"
    "                               dead-letters, audit, token add NAME ROLE\n"
    "  version                      print the version\n";

int usage(int code) {
    std::fputs(usage_text, code == exit_ok ? stdout : stderr);
    return code;
}

}  // namespace

int check_config_command(const std::vector<std::string>& args) {
    options o{args};
    if (auto bad = o.unknown({"--config"}, {}); !bad.empty()) {
        std::fprintf(stderr, "crisisd check-config: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    auto path = o.value("--config").value_or("/etc/crisisd/crisisd.yaml");
    if (!load_config_or_report(path)) return exit_config;
    std::puts("OK");
    return exit_ok;
}

bool is_temporary_shortage(std::string_view message) {
    // The messages come from strerror (through std::error_code, boost::system, SQLite's own
    // text aside), so strerror's own words are what to look for, in whatever locale is set.
    for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM})
        if (message.find(std::generic_category().message(e)) != std::string_view::npos) return true;
    return false;
}

int create_exit_code(const create_error& e) {
    // A listener that cannot get a socket (out of descriptors) is no config error, nor is NATS
    // out of reach or not ready: a restart with back-off may well succeed, and exit_config would
    // keep systemd from trying (RestartPreventExitStatus).
    if (e.single_node_state) return exit_state_not_drained;
    if (e.temporary) return exit_temporary;
    if (!e.state) return is_temporary_shortage(e.message) ? exit_temporary : exit_config;
    return *e.state == state::open_failure::refused ? exit_state_refused : exit_state_unavailable;
}

namespace {

// SIGHUP (systemctl reload): the new file is loaded and validated in full before anything
// changes; a bad one is reported problem by problem and the running configuration stays.
void reload_from(const std::string& path, daemon& d) {
    auto loaded = config::load_file(path);
    if (!loaded.ok()) {
        for (const auto& diag : loaded.errors) core::log_error(diag.to_string());
        core::log_error("reload: " + std::to_string(loaded.errors.size()) +
                        " problem(s) in the configuration; the running configuration stays");
        d.audit_reload(path, "refused: " + std::to_string(loaded.errors.size()) + " problem(s) in the configuration");
        return;
    }
    std::vector<std::string> notes;
    if (auto err = d.reload(std::move(loaded.config), notes); !err.empty()) {
        core::log_error(path + ": error: " + err);
        core::log_error("reload: the running configuration stays");
        d.audit_reload(path, "refused: " + err);
        return;
    }
    std::string outcome = "done";
    for (const auto& n : notes) {
        core::log(core::log_level::notice, "reload: " + n);
        outcome += "; " + n;
    }
    core::log_info("reload: configuration from " + path + " is in effect");
    d.audit_reload(path, outcome);
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
    options o{args};
    if (auto bad = o.unknown({"--config"}, {"--discard-local-state"}); !bad.empty()) {
        std::fprintf(stderr, "crisisd run: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    auto path = o.value("--config").value_or("/etc/crisisd/crisisd.yaml");
    auto settings = load_config_or_report(path);
    if (!settings) return exit_config;

    boost::asio::io_context io(1);
    // A file size limit (ulimit -f, LimitFSIZE=) reached by the state database must be a write
    // error the outbox reports and retries, not SIGXFSZ's default: killing the daemon.
    std::signal(SIGXFSZ, SIG_IGN);
    core::system_clock clock;
    daemon_options dopt;
    dopt.clock = &clock;
    dopt.discard_local_state = o.flag("--discard-local-state");
    auto created = daemon::create(io, std::move(*settings), dopt);
    if (auto* e = std::get_if<create_error>(&created)) {
        const int code = create_exit_code(*e);
        core::log_error(e->message + (!e->state && code == exit_temporary
                                          ? "; crisisd exits with 75 so that systemd tries again"
                                          : ""));
        return code;
    }
    auto d = std::move(std::get<std::unique_ptr<daemon>>(created));
    if (auto err = d->start(); !err.empty()) {
        core::log_error(err);
        return is_temporary_shortage(err) ? exit_temporary : exit_failure;
    }

    service::notifier notifier;
    service::supervision supervised(io.get_executor(), notifier, [&] {
        return "running: " + std::to_string(d->mentions_processed()) + " mentions processed, " +
               std::to_string(d->incidents_opened()) + " incident(s) since start";
    });

    auto reload = [&] {
        notifier.reloading();
        core::log_info("received SIGHUP, reloading " + path);
        reload_from(path, *d);
        notifier.ready("running");
    };

    boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void()> wait_for_signal = [&] {
        signals.async_wait([&](boost::system::error_code ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                reload();
                wait_for_signal();
                return;
            }
            notifier.stopping();
            core::log_info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
            // A second SIGTERM/SIGINT while draining is ignored; systemd's TimeoutStopSec backs the deadline.
            signals.async_wait([](boost::system::error_code, int) {});
            d->shutdown(std::chrono::seconds(10), [&io, &supervised] {
                supervised.stop();
                io.stop();
            });
        });
    };
    wait_for_signal();

    core::log_info("crisisd running with " + path);
    notifier.ready("running");
    supervised.start();
    io.run();
    core::log_info("crisisd stopped");
    return exit_ok;
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage(exit_usage);
    auto cmd = args.front();
    args.erase(args.begin());
    try {
        if (cmd == "run") return run_command(args);
        if (cmd == "check-config") return check_config_command(args);
        if (cmd == "score") return score_command(args);
        if (cmd == "replay") return replay_command(args);
        if (cmd == "demo") return demo_command(args);
        if (cmd == "ctl") return ctl_command(args);
        if (cmd == "version" || cmd == "--version") {
            std::puts("crisisd 0.1.0");
            return exit_ok;
        }
        if (cmd == "help" || cmd == "--help" || cmd == "-h") return usage(exit_ok);
    } catch (const std::exception& e) {
        // Asio throws when it cannot get descriptors for its own machinery (epoll, the signal
        // pipe) at start: out of descriptors, which passes, rather than a crisisd failure.
        const bool temporary = is_temporary_shortage(e.what());
        std::fprintf(stderr, "crisisd %s: %s%s\n", cmd.c_str(), e.what(),
                     temporary && cmd == "run" ? "; crisisd exits with 75 so that systemd tries again" : "");
        return temporary ? exit_temporary : exit_failure;
    }
    std::fprintf(stderr, "crisisd: unknown command '%s'\n\n", cmd.c_str());
    return usage(exit_usage);
}

}  // namespace crisisd::app
