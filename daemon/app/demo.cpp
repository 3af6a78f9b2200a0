// `crisisd demo`: the bundled outage story, told on four networks at once — Mastodon, comments
// on the company's Facebook Page, X and a local forum — each by an in-process stand-in speaking
// that network's wire format to crisisd's own source of that type (demo/), into the real daemon
// (the same code as `crisisd run`), on a clock that runs faster than the wall so a twenty-minute
// story takes minutes (or seconds with --headless). The terminal shows the timeline; the console
// runs on 127.0.0.1 while the demo lasts. This file is the command's wiring.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <fstream>
#include <optional>

#include "admin/tokens.hpp"
#include "app/cli.hpp"
#include "app/daemon.hpp"
#include "app/timeline_observer.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "demo/files.hpp"
#include "demo/networks.hpp"
#include "demo/player.hpp"
#include "demo/ports.hpp"

namespace crisisd::app {
namespace {

// How many times faster than the wall the story plays: 120 headless (seconds), 10 on a terminal
// (minutes, to watch the console), or --speed; 0 for a value that is not one.
double speed_of(const options& o, bool headless) {
    auto s = o.value("--speed");
    if (!s) return headless ? 120.0 : 10.0;
    try {
        const double v = std::stod(*s);
        return v > 0 && v <= 10000 ? v : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

// The --report file and the closing line: how many posts each network delivered, what came of them.
bool write_outcome(daemon& d, const demo::player& player, const std::filesystem::path& dir,
                   const std::optional<std::string>& report) {
    if (report) {
        std::ofstream out(*report, std::ios::binary);
        out << d.report_json() << '\n';
        if (!out) {
            std::fprintf(stderr, "crisisd demo: cannot write %s\n", report->c_str());
            return false;
        }
    }
    std::string heard;
    for (const auto& [source, n] : player.delivered()) heard += (heard.empty() ? "" : ", ") + source + " " + std::to_string(n);
    std::printf("\n%llu mentions processed (posts per source: %s), %zu incident(s). Files: %s\n",
                static_cast<unsigned long long>(d.mentions_processed()), heard.c_str(), d.incidents_opened(),
                dir.string().c_str());
    return true;
}

// The demo's configuration, its networks' addresses and the console's listener filled in.
std::filesystem::path write_demo_config(const options& o, bool headless, const std::filesystem::path& dir,
                                        demo::networks& networks) {
    std::string listen = o.value("--listen").value_or(headless ? "127.0.0.1:0" : "127.0.0.1:9464");
    if (!o.value("--listen") && !headless && !demo::loopback_port_free(9464)) listen = "127.0.0.1:0";
    auto values = networks.config_values();
    values.emplace_back("@ADMIN_LISTEN@", listen);
    return demo::write_config(dir, values);
}

}  // namespace

int demo_command(const std::vector<std::string>& args) {
    namespace asio = boost::asio;
    options o{args};
    if (auto bad = o.unknown({"--speed", "--report", "--listen", "--dir", "--tokens-file"}, {"--headless"}); !bad.empty()) {
        std::fprintf(stderr, "crisisd demo: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    bool headless = o.flag("--headless");
    const double speed = speed_of(o, headless);
    if (speed <= 0) {
        std::fprintf(stderr, "crisisd demo: --speed must be a number between 0 and 10000\n");
        return exit_usage;
    }
    const auto story = demo::load_scenario(demo::files::embedded("demo/outage-scenario.jsonl"));
    if (story.empty()) {
        std::fprintf(stderr, "crisisd demo: the embedded scenario is empty\n");
        return exit_failure;
    }
    const auto secrets = demo::secrets::made_up();
    std::string error;
    const auto dir = demo::make_dir(o.value("--dir"), secrets, error);
    asio::io_context io(1);
    auto networks = dir ? demo::networks::start(io.get_executor(), secrets, error) : nullptr;
    if (!networks) {
        std::fprintf(stderr, "crisisd demo: %s\n", error.c_str());
        return exit_failure;
    }
    const auto config_path = write_demo_config(o, headless, *dir, *networks);
    auto settings = load_config_or_report(config_path.string());
    if (!settings) return exit_config;
    // More people than the demo's own admin token (the browser test signs in as a viewer and
    // as an approver this way).
    if (auto tokens = o.value("--tokens-file")) settings->admin.tokens_file = std::filesystem::absolute(*tokens).string();

    // The story's clock starts a little before its first post, at `speed` times wall time.
    core::scaled_clock clock(story.front().at - std::chrono::seconds(20), speed);
    report::timeline tl(stdout, &clock, ::isatty(STDOUT_FILENO) != 0);
    tl.hold();  // until the header is out: a webhook listener reports as soon as it is up
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
    networks->connect();

    std::printf("crisisd demo — an ISP outage, told in %zu posts on four networks, played at %gx speed\n",
                story.size(), speed);
    std::printf("  config    %s\n", config_path.string().c_str());
    networks->describe(stdout);
    std::printf("  console   http://127.0.0.1:%u/   access token: %s\n", d->admin_port(), token.c_str());
    std::printf("  outbox    %s (the brand account's posts)\n\n", (*dir / "outbox.jsonl").string().c_str());
    std::fflush(stdout);
    tl.release();

    int exit_code = exit_ok;
    bool finishing = false;
    std::optional<demo::player> player;
    auto finish = [&](bool ok) {
        if (finishing) return;
        finishing = true;
        if (!ok) exit_code = exit_failure;
        player->stop();
        d->shutdown(std::chrono::seconds(5), [&] {
            networks->stop();
            io.stop();
        });
    };
    auto story_over = [&] {
        std::printf("\nThe story is over. The console stays up at http://127.0.0.1:%u/ — press Ctrl-C to leave.\n",
                    d->admin_port());
        std::fflush(stdout);
    };
    player.emplace(io.get_executor(), story, networks->all(), clock, tl,
                   demo::daemon_view{[&] { return d->quiescent(); }, [&] { return d->incidents_opened(); }, finish, story_over},
                   headless);
    player->play();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) finish(true);
    });
    io.run();

    if (!write_outcome(*d, *player, *dir, o.value("--report"))) return exit_failure;
    return exit_code;
}

}  // namespace crisisd::app
