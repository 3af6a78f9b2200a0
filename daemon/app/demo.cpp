// `crisisd demo`: the bundled outage story, streamed over a real local websocket server into
// the real daemon (the same code as `crisisd run`), on a clock that runs faster than the wall
// so a twenty-minute story takes minutes (or seconds with --headless). The terminal shows the
// timeline; the console runs on 127.0.0.1 while the demo lasts.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "admin/tokens.hpp"
#include "app/cli.hpp"
#include "app/daemon.hpp"
#include "app/demo_files.hpp"
#include "app/timeline_observer.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "net/websocket_server.hpp"
#include "parse/generic.hpp"

namespace crisisd::app {
namespace {

namespace asio = boost::asio;

struct scenario_line {
    std::string json;
    core::timestamp at;
};

std::vector<scenario_line> load_scenario(std::string_view jsonl) {
    std::vector<scenario_line> out;
    parse::generic_parser parser;
    core::mention m;
    while (!jsonl.empty()) {
        auto nl = jsonl.find('\n');
        auto line = jsonl.substr(0, nl);
        jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
        if (line.empty()) continue;
        if (parser.parse(line, m) || !m.created_at) continue;
        out.push_back({std::string(line), *m.created_at});
    }
    return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}

bool port_free(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// The demo's files go to a fresh directory (or --dir), so a person can read the config it runs.
std::optional<std::filesystem::path> demo_dir(const options& o) {
    std::filesystem::path dir;
    if (auto d = o.value("--dir")) {
        dir = *d;
        std::filesystem::create_directories(dir);
    } else {
        std::string tmpl = (std::filesystem::temp_directory_path() / "crisisd-demo-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            std::perror("crisisd demo: mkdtemp");
            return std::nullopt;
        }
        dir = tmpl;
    }
    std::filesystem::create_directories(dir / "rules");
    std::filesystem::create_directories(dir / "playbooks");
    for (auto name : {"rules/isp-outage.yaml", "playbooks/isp-outage.yaml"})
        std::ofstream(dir / name, std::ios::binary) << demo_files::embedded(name);
    return dir;
}

// The demo's config with its placeholders filled in, written to `path`.
void write_demo_config(const std::filesystem::path& path, const std::filesystem::path& dir,
                       const std::string& scenario_url, const std::string& listen) {
    std::string yaml(demo_files::embedded("demo/crisisd-demo.yaml"));
    yaml = replace_all(yaml, "@SCENARIO_URL@", scenario_url);
    yaml = replace_all(yaml, "@OUTBOX_PATH@", (dir / "outbox.jsonl").string());
    yaml = replace_all(yaml, "@ADMIN_LISTEN@", listen);
    yaml = replace_all(yaml, "@STATE_PATH@", (dir / "state.db").string());
    std::ofstream(path, std::ios::binary) << yaml;
}

// Sends each post of the story when the story's clock reaches its time, and ends a headless
// demo once every incident has cleared and every action was delivered (or gives up).
struct scenario_player {
    asio::io_context& io;
    const std::vector<scenario_line>& scenario;
    net::websocket_server& server;
    const core::clock& clock;
    report::timeline& tl;
    daemon& d;
    bool headless;
    asio::steady_timer timer{io};
    std::size_t next = 0;
    bool finished_story = false;
    bool done = false;
    int exit_code = exit_ok;

    void finish(bool ok) {
        if (done) return;
        done = true;
        if (!ok) exit_code = exit_failure;
        d.shutdown(std::chrono::seconds(5), [this] {
            server.stop();
            io.stop();
        });
    }

    void play() {
        const auto now = clock.now();
        const auto story_end = scenario.back().at;
        if (server.connection_count() > 0)
            while (next < scenario.size() && scenario[next].at <= now) server.broadcast(scenario[next++].json);
        if (next == scenario.size() && !finished_story) {
            finished_story = true;
            tl.note("the story's last post has been sent; waiting for the incident to clear");
        }
        if (finished_story && d.quiescent() && d.incidents_opened() > 0 && now > story_end) {
            tl.note("all incidents resolved and every action delivered");
            if (headless) return finish(true);
            std::printf("\nThe story is over. The console stays up at http://127.0.0.1:%u/ — press Ctrl-C to leave.\n",
                        d.admin_port());
            std::fflush(stdout);
            return;
        }
        if (now > story_end + std::chrono::minutes(30)) {
            tl.note(d.incidents_opened() == 0 ? "no incident was opened: the demo's rule did not fire"
                                              : "the incident did not clear in time");
            if (headless) return finish(false);
        }
        timer.expires_after(std::chrono::milliseconds(20));
        timer.async_wait([this](boost::system::error_code ec) {
            if (!ec && !done) play();
        });
    }
};

}  // namespace

int demo_command(const std::vector<std::string>& args) {
    options o{args};
    if (auto bad = o.unknown({"--speed", "--report", "--listen", "--dir", "--tokens-file"}, {"--headless"}); !bad.empty()) {
        std::fprintf(stderr, "crisisd demo: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    bool headless = o.flag("--headless");
    double speed = headless ? 120.0 : 10.0;
    if (auto s = o.value("--speed")) {
        try {
            speed = std::stod(*s);
        } catch (const std::exception&) {
            speed = 0;
        }
        if (speed <= 0 || speed > 10000) {
            std::fprintf(stderr, "crisisd demo: --speed must be a number between 0 and 10000\n");
            return exit_usage;
        }
    }
    const auto dir = demo_dir(o);
    if (!dir) return exit_failure;
    auto scenario = load_scenario(demo_files::embedded("demo/outage-scenario.jsonl"));
    if (scenario.empty()) {
        std::fprintf(stderr, "crisisd demo: the embedded scenario is empty\n");
        return exit_failure;
    }

    asio::io_context io(1);
    net::websocket_server scenario_server(io.get_executor(), {});
    if (auto ec = scenario_server.start()) {
        std::fprintf(stderr, "crisisd demo: cannot start the scenario server: %s\n", ec.message().c_str());
        return exit_failure;
    }
    std::string listen = o.value("--listen").value_or(headless ? "127.0.0.1:0" : "127.0.0.1:9464");
    if (!o.value("--listen") && !headless && !port_free(9464)) listen = "127.0.0.1:0";
    auto scenario_url = "ws://127.0.0.1:" + std::to_string(scenario_server.port()) + "/stream";
    const auto config_path = *dir / "crisisd.yaml";
    write_demo_config(config_path, *dir, scenario_url, listen);
    auto settings = load_config_or_report(config_path.string());
    if (!settings) return exit_config;
    // More people than the demo's own admin token (the browser test signs in as a viewer and
    // as an approver this way).
    if (auto tokens = o.value("--tokens-file")) settings->admin.tokens_file = std::filesystem::absolute(*tokens).string();

    // The story's clock starts a little before its first post, at `speed` times wall time.
    core::scaled_clock clock(scenario.front().at - std::chrono::seconds(20), speed);
    bool colour = ::isatty(STDOUT_FILENO) != 0;
    report::timeline tl(stdout, &clock, colour);
    timeline_observer watching(tl);
    core::set_log_threshold(core::log_level::warning);  // the timeline tells the story

    // A made-up admin token that lives only in this process; 256 bits like `ctl token add`'s.
    auto token = admin::new_token();
    daemon_options dopt;
    dopt.clock = &clock;
    dopt.observer = &watching;
    dopt.extra_admin_token = token;
    auto created = daemon::create(io, std::move(*settings), dopt);
    if (auto* e = std::get_if<create_error>(&created)) {
        std::fprintf(stderr, "crisisd demo: %s\n", e->message.c_str());
        return create_exit_code(*e);
    }
    auto d = std::move(std::get<std::unique_ptr<daemon>>(created));
    if (auto err = d->start(); !err.empty()) {
        std::fprintf(stderr, "crisisd demo: %s\n", err.c_str());
        return exit_failure;
    }

    std::printf("crisisd demo — an ISP outage, told in %zu posts, played at %gx speed\n", scenario.size(), speed);
    std::printf("  config    %s\n", config_path.string().c_str());
    std::printf("  stream    %s (a real websocket server in this process)\n", scenario_url.c_str());
    std::printf("  console   http://127.0.0.1:%u/   access token: %s\n", d->admin_port(), token.c_str());
    std::printf("  outbox    %s (the brand account's posts)\n\n", (*dir / "outbox.jsonl").string().c_str());
    std::fflush(stdout);

    scenario_player player{io, scenario, scenario_server, clock, tl, *d, headless};
    player.play();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) player.finish(true);
    });
    io.run();

    if (auto report = o.value("--report")) {
        std::ofstream out(*report, std::ios::binary);
        out << d->report_json() << '\n';
        if (!out) {
            std::fprintf(stderr, "crisisd demo: cannot write %s\n", report->c_str());
            return exit_failure;
        }
    }
    std::printf("\n%llu mentions processed, %zu incident(s). Files: %s\n",
                static_cast<unsigned long long>(d->mentions_processed()), d->incidents_opened(), dir->string().c_str());
    return player.exit_code;
}

}  // namespace crisisd::app
