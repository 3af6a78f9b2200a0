// `crisisd demo`: the bundled outage story, told on four networks at once — Mastodon, comments
// on the company's Facebook Page, X and a local forum — each by an in-process stand-in speaking
// that network's wire format to crisisd's own source of that type (demo/), into the real daemon
// (the same code as `crisisd run`), on a clock that runs faster than the wall so a twenty-minute
// story takes minutes (or seconds with --headless). The terminal shows the timeline; the console
// runs on 127.0.0.1 while the demo lasts. This file is the command's wiring.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>

#include "admin/tokens.hpp"
#include "app/cli.hpp"
#include "app/daemon.hpp"
#include "app/demo_files.hpp"
#include "app/timeline_observer.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "demo/player.hpp"
#include "demo/ports.hpp"

namespace crisisd::app {
namespace {

namespace asio = boost::asio;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    return s;
}

// The credentials the demo's networks and crisisd share, made up for this run.
struct demo_secrets {
    std::string verify_token = admin::new_token(), app_secret = admin::new_token(), x_bearer = admin::new_token();
};

// The demo's files go to a fresh directory (or --dir), so a person can read the config it runs:
// rules, playbooks and the secrets its config names by ${file:…}, readable by the owner only.
std::optional<std::filesystem::path> demo_dir(const options& o, const demo_secrets& secrets) {
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
    for (auto sub : {"rules", "playbooks", "secrets"}) std::filesystem::create_directories(dir / sub);
    for (auto name : {"rules/isp-outage.yaml", "playbooks/isp-outage.yaml"})
        std::ofstream(dir / name, std::ios::binary) << demo_files::embedded(name);
    const std::pair<const char*, const std::string*> files[] = {{"secrets/facebook-verify-token", &secrets.verify_token},
                                                                {"secrets/facebook-app-secret", &secrets.app_secret},
                                                                {"secrets/x-bearer-token", &secrets.x_bearer}};
    for (const auto& [name, value] : files) {
        const int fd = ::open((dir / name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ::write(fd, value->data(), value->size()) != static_cast<ssize_t>(value->size())) {
            std::fprintf(stderr, "crisisd demo: cannot write %s\n", (dir / name).c_str());
            if (fd >= 0) ::close(fd);
            return std::nullopt;
        }
        ::close(fd);
    }
    return dir;
}

// The demo's config with its placeholders filled in, written to `path`.
void write_demo_config(const std::filesystem::path& path, const std::filesystem::path& dir,
                       const std::vector<std::pair<std::string_view, std::string>>& values) {
    std::string yaml(demo_files::embedded("demo/crisisd-demo.yaml"));
    for (const auto& [key, value] : values) yaml = replace_all(yaml, key, value);
    yaml = replace_all(yaml, "@OUTBOX_PATH@", (dir / "outbox.jsonl").string());
    yaml = replace_all(yaml, "@STATE_PATH@", (dir / "state.db").string());
    std::ofstream(path, std::ios::binary) << yaml;
}

// The timeline's observer, holding back what sources say while the daemon starts (a webhook
// listener is up at once), so the demo's header comes first; release() shows it in order.
class held_observer final : public daemon_observer {
public:
    explicit held_observer(report::timeline& t) : to_(t) {}
    void release() {
        held_ = false;
        for (const auto& [source, connected, detail] : pending_) to_.source_state(source, connected, detail);
        pending_.clear();
    }
    void source_state(std::string_view source, bool connected, std::string_view detail) override {
        if (held_) pending_.emplace_back(std::string(source), connected, std::string(detail));
        else to_.source_state(source, connected, detail);
    }
    void incident_opened(const incident::incident& inc) override { to_.incident_opened(inc); }
    void incident_resolved(const incident::incident& inc) override { to_.incident_resolved(inc); }
    void action_queued(const incident::action& a) override { to_.action_queued(a); }
    void action_delivered(const state::record& r) override { to_.action_delivered(r); }
    void action_retry(const state::record& r, std::string_view detail) override { to_.action_retry(r, detail); }
    void action_dead(const state::record& r, std::string_view why) override { to_.action_dead(r, why); }
    void command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result) override {
        to_.command(verb, id, who, result);
    }

private:
    timeline_observer to_;
    bool held_ = true;
    std::vector<std::tuple<std::string, bool, std::string>> pending_;
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
    const demo_secrets secrets;
    const auto dir = demo_dir(o, secrets);
    if (!dir) return exit_failure;
    const auto story = demo::load_scenario(demo_files::embedded("demo/outage-scenario.jsonl"));
    if (story.empty()) {
        std::fprintf(stderr, "crisisd demo: the embedded scenario is empty\n");
        return exit_failure;
    }

    asio::io_context io(1);
    std::string error;
    auto mastodon = demo::make_mastodon(io.get_executor(), error);
    auto x = mastodon ? demo::make_x(io.get_executor(), secrets.x_bearer, error) : nullptr;
    auto forum = x ? demo::make_forum(io.get_executor(), error) : nullptr;
    auto facebook = demo::make_facebook(io.get_executor(), secrets.verify_token, secrets.app_secret);
    const auto webhook_port = demo::free_loopback_port();
    if (!forum || webhook_port == 0) {
        std::fprintf(stderr, "crisisd demo: %s\n", error.empty() ? "no free port for the Facebook webhook" : error.c_str());
        return exit_failure;
    }
    std::string listen = o.value("--listen").value_or(headless ? "127.0.0.1:0" : "127.0.0.1:9464");
    if (!o.value("--listen") && !headless && !demo::loopback_port_free(9464)) listen = "127.0.0.1:0";
    const auto webhook = "127.0.0.1:" + std::to_string(webhook_port);
    const auto config_path = *dir / "crisisd.yaml";
    write_demo_config(config_path, *dir,
                      {{"@MASTODON_URL@", mastodon->url()},
                       {"@FACEBOOK_LISTEN@", webhook},
                       {"@X_URL@", x->url()},
                       {"@FORUM_URL@", forum->url()},
                       {"@ADMIN_LISTEN@", listen}});
    auto settings = load_config_or_report(config_path.string());
    if (!settings) return exit_config;
    // More people than the demo's own admin token (the browser test signs in as a viewer and
    // as an approver this way).
    if (auto tokens = o.value("--tokens-file")) settings->admin.tokens_file = std::filesystem::absolute(*tokens).string();

    // The story's clock starts a little before its first post, at `speed` times wall time.
    core::scaled_clock clock(story.front().at - std::chrono::seconds(20), speed);
    bool colour = ::isatty(STDOUT_FILENO) != 0;
    report::timeline tl(stdout, &clock, colour);
    held_observer watching(tl);
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
    facebook->start("http://" + webhook + "/");

    std::printf("crisisd demo — an ISP outage, told in %zu posts on four networks, played at %gx speed\n",
                story.size(), speed);
    std::printf("  config    %s\n", config_path.string().c_str());
    std::printf("  mastodon  %s (Mastodon's streaming API)\n", mastodon->url().c_str());
    std::printf("  page      http://%s/ (crisisd's webhook; this process delivers as Meta does)\n", webhook.c_str());
    std::printf("  x         %s (X's filtered stream and its rules)\n", x->url().c_str());
    std::printf("  forum     %s (a forum's Atom feed)\n", forum->url().c_str());
    std::printf("  console   http://127.0.0.1:%u/   access token: %s\n", d->admin_port(), token.c_str());
    std::printf("  outbox    %s (the brand account's posts)\n\n", (*dir / "outbox.jsonl").string().c_str());
    std::fflush(stdout);
    watching.release();

    std::vector<demo::stand_in*> networks{mastodon.get(), facebook.get(), x.get(), forum.get()};
    int exit_code = exit_ok;
    bool finishing = false;
    std::optional<demo::player> player;
    auto finish = [&](bool ok) {
        if (finishing) return;
        finishing = true;
        if (!ok) exit_code = exit_failure;
        player->stop();
        d->shutdown(std::chrono::seconds(5), [&] {
            for (auto* n : networks) n->stop();
            io.stop();
        });
    };
    demo::daemon_view view{[&] { return d->quiescent(); }, [&] { return d->incidents_opened(); }, finish, [&] {
                               std::printf("\nThe story is over. The console stays up at http://127.0.0.1:%u/ — press "
                                           "Ctrl-C to leave.\n",
                                           d->admin_port());
                               std::fflush(stdout);
                           }};
    player.emplace(io.get_executor(), story, networks, clock, tl, view, headless);
    player->play();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) finish(true);
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
    std::string heard;
    for (const auto& [source, n] : player->delivered()) heard += (heard.empty() ? "" : ", ") + source + " " + std::to_string(n);
    std::printf("\n%llu mentions processed (posts per source: %s), %zu incident(s). Files: %s\n",
                static_cast<unsigned long long>(d->mentions_processed()), heard.c_str(), d->incidents_opened(),
                dir->string().c_str());
    return exit_code;
}

}  // namespace crisisd::app
