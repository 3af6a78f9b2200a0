// Operations against the real crisisd binary: the systemd notification protocol (READY,
// RELOADING, WATCHDOG, STOPPING) on a local NOTIFY_SOCKET listener — systemd itself cannot run
// here — and configuration reload on SIGHUP: a bad file keeps the running configuration and
// mentions keep flowing, a good one swaps in, and only changed rules lose their detector state.
// /metrics is also handed to `promtool check metrics` when promtool is installed.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "stream_fixture.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::child_process;
using crisisd::testing::crisisd_run;
using crisisd::testing::http_get;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

int http_post(std::uint16_t port, const std::string& path, const std::string& token, const std::string& body) {
    return admin_request(port, "POST", path, body, token).status;
}

// The rules of the open incidents and of resolved ones, as the admin API lists them.
std::vector<std::string> incident_rules(std::uint16_t admin) {
    std::vector<std::string> out;
    auto doc = boost::json::parse(admin_get(admin, "/api/v1/incidents")).as_object();
    for (const auto& i : doc.at("incidents").as_array()) out.emplace_back(i.at("rule").as_string());
    return out;
}

// What systemd would receive on $NOTIFY_SOCKET: one datagram per sd_notify call.
class notify_listener {
public:
    // `name` starting with '@' is an abstract socket; otherwise a path.
    explicit notify_listener(std::string name) : name_(std::move(name)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name_.data(), name_.size());
        if (name_[0] == '@') addr.sun_path[0] = '\0';
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) throw std::runtime_error("bind notify socket");
        timeval tv{0, 100000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        reader_ = std::thread([this] {
            char buf[4096];
            while (!stop_) {
                auto n = ::recv(fd_, buf, sizeof buf, 0);
                if (n <= 0) continue;
                std::lock_guard lock(m_);
                messages_.emplace_back(buf, static_cast<std::size_t>(n));
                cv_.notify_all();
            }
        });
    }
    ~notify_listener() {
        stop_ = true;
        reader_.join();
        ::close(fd_);
        if (name_[0] != '@') ::unlink(name_.c_str());
    }

    // Index of the first message at or after `from` containing `text`, waiting for it.
    std::optional<std::size_t> wait_for(const std::string& text, std::size_t from, std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_);
        std::optional<std::size_t> found;
        cv_.wait_for(lock, timeout, [&] {
            for (std::size_t i = from; i < messages_.size(); ++i)
                if (messages_[i].find(text) != std::string::npos) {
                    found = i;
                    return true;
                }
            return false;
        });
        return found;
    }
    std::size_t count(const std::string& text) const {
        std::lock_guard lock(m_);
        std::size_t n = 0;
        for (const auto& msg : messages_) n += msg.find(text) != std::string::npos ? 1 : 0;
        return n;
    }
    std::string message(std::size_t i) const {
        std::lock_guard lock(m_);
        return messages_.at(i);
    }
    std::string all() const {
        std::lock_guard lock(m_);
        std::string s;
        for (const auto& msg : messages_) s += "[" + msg + "] ";
        return s;
    }

private:
    std::string name_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::string> messages_;
    std::thread reader_;
};

// Sets environment variables for the children started while it lives.
class scoped_env {
public:
    scoped_env(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
    ~scoped_env() { ::unsetenv(name_); }

private:
    const char* name_;
};

class ops : public crisisd::testing::stream_fixture {
protected:
    ops() : stream_fixture("crisisd-ops") {}

    // A config with a websocket source on the test server, any further sources, and the given
    // rules (YAML list items).
    void write_config(const std::string& rules, const std::string& more_sources = "") {
        crisisd::testing::write_config(dir_, R"(
sources:
  - name: stream
    type: websocket
    url: ")" + stream_url() + R"("
    reconnect: { initial: 100ms, max: 500ms }
)" + more_sources + R"(
channels:
  - { name: pager, type: file, path: ")" + (dir_ / "pages.jsonl").string() + R"(" }
rules:
)" + rules + R"(
playbooks:
  - name: page
    steps:
      - notify: [pager]
)");
    }

    // A rule that fires on the seventh mention of `word` within ten minutes.
    static std::string rule(const std::string& name, const std::string& word, const std::string& extra = "") {
        return "  - name: " + name + "\n    match: { keywords: [\"" + word + "\"]" + extra +
               " }\n    window: 10m\n    baseline: 1h\n    fire_when: { all: [count >= 7] }\n"
               "    clear_when: { all: [count < 1], for: 1h }\n    severity: warning\n    playbook: page\n";
    }

    void send(const std::string& word, int count) {
        for (int i = 0; i < count; ++i) {
            ++sent_;
            ws_.broadcast(crisisd::testing::mention_json(sent_, "@user" + std::to_string(sent_), word + " is down again"));
        }
    }
    bool processed(std::uint16_t admin) {
        return wait_until([&] { return metric(admin_get(admin, "/metrics"), "crisisd_mentions_processed_total") == sent_; },
                          10s);
    }

    // Changes the first `from` in the written config into `to`.
    void edit_config(const std::string& from, const std::string& to) {
        const auto path = crisisd::testing::config_path(dir_);
        auto text = crisisd::testing::read_file(path);
        text.replace(text.find(from), from.size(), to);
        std::ofstream(path) << text;
    }

    // The tokens file the config names (rewritten and removed by the token rotation test).
    fs::path tokens() const { return crisisd::testing::admin_tokens_path(dir_); }

    int sent_ = 0;
};

}  // namespace

TEST_F(ops, tells_systemd_ready_reloading_watchdog_and_stopping) {
    write_config(rule("alpha", "alpha"));
    // An abstract socket name, as systemd uses in containers; WATCHDOG_USEC asks for a ping
    // every 150 ms.
    std::string name = "@crisisd-ops-test-" + std::to_string(::getpid());
    notify_listener listener(name);
    scoped_env socket_env("NOTIFY_SOCKET", name);
    scoped_env watchdog_env("WATCHDOG_USEC", "300000");
    child_process d(crisisd_run(dir_));

    auto ready = listener.wait_for("READY=1", 0, 20s);
    ASSERT_TRUE(ready) << listener.all() << d.stderr_text();
    // Ready means listening and connecting: the admin port answers and the source is up.
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    EXPECT_EQ(http_get(admin, "/healthz"), "ok\n");

    EXPECT_TRUE(listener.wait_for("STATUS=running: 0 mentions processed", 0, 5s)) << listener.all();

    auto dog = listener.wait_for("WATCHDOG=1", *ready, 5s);
    ASSERT_TRUE(dog) << listener.all();
    EXPECT_TRUE(listener.wait_for("WATCHDOG=1", *dog + 1, 5s)) << "the watchdog is fed repeatedly: " << listener.all();

    d.signal(SIGHUP);
    auto reloading = listener.wait_for("RELOADING=1", *ready + 1, 10s);
    ASSERT_TRUE(reloading) << listener.all() << d.stderr_text();
    EXPECT_NE(listener.message(*reloading).find("MONOTONIC_USEC="), std::string::npos) << listener.message(*reloading);
    EXPECT_TRUE(listener.wait_for("READY=1", *reloading + 1, 10s)) << listener.all();

    d.signal(SIGTERM);
    EXPECT_TRUE(listener.wait_for("STOPPING=1", *reloading + 1, 10s)) << listener.all();
    EXPECT_EQ(d.wait_exit(15s), 0) << d.stderr_text();
}

TEST_F(ops, bad_config_on_reload_keeps_the_running_one_and_mentions_flow) {
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    send("alpha", 3);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();

    // A typo'd key and a bad duration: both reported with file:line:col, nothing changes.
    std::ofstream(crisisd::testing::config_path(dir_), std::ios::app) << "rulez: []\n";
    edit_config("window: 10m", "window: ten");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("running configuration stays", 10s)) << d.stderr_text();
    EXPECT_TRUE(d.wait_for_stderr(R"(crisisd\.yaml:\d+:\d+: error: .*window)", 1s)) << d.stderr_text();
    EXPECT_TRUE(d.wait_for_stderr(R"(crisisd\.yaml:\d+:\d+: error: .*rulez)", 1s)) << d.stderr_text();

    // The old rule is still there, with its count: four more mentions make seven.
    send("alpha", 4);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin) == std::vector<std::string>{"alpha"}; }, 10s))
        << admin_get(admin, "/api/v1/incidents");
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// A reload and a restart agree on "the same rule" (state::rule_fingerprint): a rule whose
// threshold alone changed keeps its window across a reload, as it would across a restart.
TEST_F(ops, a_reload_that_only_changes_a_threshold_keeps_the_rule_state) {
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    send("alpha", 4);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();

    auto tuned = rule("alpha", "alpha");
    tuned.replace(tuned.find("count >= 7"), 10, "count >= 8");
    write_config(tuned);
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("is in effect", 10s)) << d.stderr_text();
    EXPECT_TRUE(d.wait_for_stderr(R"(rules changed: alpha; detector state kept by 0 unchanged rule\(s\) and 1 whose conditions alone changed)", 1s))
        << d.stderr_text();

    // Four before and four after make eight: the new threshold counts the old window.
    send("alpha", 4);
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin) == std::vector<std::string>{"alpha"}; }, 10s))
        << admin_get(admin, "/api/v1/incidents");
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(ops, good_config_swaps_and_only_changed_rules_lose_their_state) {
    write_config(rule("alpha", "alpha") + rule("beta", "beta"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    send("alpha", 4);
    send("beta", 4);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();

    // alpha unchanged, beta gains an exclusion (a changed definition), gamma is new.
    write_config(rule("alpha", "alpha") + rule("beta", "beta", ", exclude: [\"fixed\"]") + rule("gamma", "gamma"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("is in effect", 10s)) << d.stderr_text();
    EXPECT_TRUE(d.wait_for_stderr(R"(rules changed: beta, gamma \(new\).*1 unchanged rule)", 1s)) << d.stderr_text();

    // Three more each: alpha reaches seven (kept its four), beta has only three (started afresh).
    send("alpha", 3);
    send("beta", 3);
    send("gamma", 7);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();
    std::vector<std::string> rules;
    EXPECT_TRUE(wait_until(
        [&] {
            rules = incident_rules(admin);
            std::sort(rules.begin(), rules.end());
            return rules == std::vector<std::string>{"alpha", "gamma"};
        },
        10s))
        << admin_get(admin, "/api/v1/incidents");
    // beta fires once it has seven of its own.
    send("beta", 4);
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin).size() == 3; }, 10s)) << admin_get(admin, "/api/v1/incidents");

    // Incidents opened before a reload stay open across another one, with their numbers.
    auto before = admin_get(admin, "/api/v1/incidents/1");
    d.signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return d.stderr_text().find("is in effect") != d.stderr_text().rfind("is in effect"); }, 10s));
    auto after = boost::json::parse(admin_get(admin, "/api/v1/incidents/1")).as_object();
    EXPECT_EQ(after.at("rule").as_string(), boost::json::parse(before).as_object().at("rule").as_string());
    EXPECT_NE(after.at("state").as_string(), "resolved");
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(ops, metrics_pass_promtool_check_metrics) {
    if (!fs::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    send("alpha", 8);  // an incident, a page: every family has samples
    ASSERT_TRUE(processed(admin));
    ASSERT_TRUE(wait_until([&] { return !incident_rules(admin).empty(); }, 10s));
    ws_.broadcast("{not json");
    auto exposition = admin_get(admin, "/metrics");
    ASSERT_NE(exposition.find("crisisd_mentions_processed_total"), std::string::npos);
    std::ofstream(dir_ / "metrics.txt") << exposition;
    auto cmd = "/usr/bin/promtool check metrics < '" + (dir_ / "metrics.txt").string() + "' 2>&1";
    std::string out;
    if (auto* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        EXPECT_EQ(::pclose(p), 0) << out << "\n--- exposition ---\n" << exposition;
    }
    EXPECT_EQ(out, "") << out;
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(ops, silences_survive_a_restart_and_then_a_reload) {
    write_config(rule("alpha", "alpha") + rule("beta", "beta"));
    {
        child_process first(crisisd_run(dir_));
        auto admin = started(first);
        ASSERT_NE(admin, 0) << first.stderr_text();
        ASSERT_EQ(http_post(admin, "/api/v1/silences", crisisd::testing::test_admin_token, R"({"rule":"alpha","duration":"2h"})"), 200)
            << first.stderr_text();
        ASSERT_EQ(first.terminate(15s), 0) << first.stderr_text();
    }
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();

    // beta changes, so the reload builds a new pipeline and incident engine.
    write_config(rule("alpha", "alpha") + rule("beta", "beta", ", exclude: [\"fixed\"]"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("is in effect", 10s)) << d.stderr_text();
    send("alpha", 8);
    send("beta", 8);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin) == std::vector<std::string>{"beta"}; }, 10s))
        << "alpha is still silenced: " << admin_get(admin, "/api/v1/incidents");
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(ops, a_reload_rotates_the_admin_tokens) {
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    const std::string silence = R"({"rule":"alpha","duration":"1h"})";
    ASSERT_EQ(http_post(admin, "/api/v1/silences", crisisd::testing::test_admin_token, silence), 200) << d.stderr_text();

    const std::string rotated = "rotated-token-for-the-night-shift-0001";
    std::ofstream(tokens()) << crisisd::testing::tokens_yaml({{"Night Shift", "responder", rotated}});
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("is in effect", 10s)) << d.stderr_text();
    EXPECT_EQ(http_post(admin, "/api/v1/silences", crisisd::testing::test_admin_token, silence), 401)
        << "the old token still works";
    EXPECT_EQ(http_post(admin, "/api/v1/silences", rotated, silence), 200) << d.stderr_text();
    // The console's sign-in check agrees, and names the token's holder and role.
    EXPECT_EQ(admin_request(admin, "GET", "/api/v1/session", {}, crisisd::testing::test_admin_token).status, 401);
    auto session = admin_request(admin, "GET", "/api/v1/session", {}, rotated);
    EXPECT_EQ(session.status, 200);
    EXPECT_EQ(session.body, R"({"name":"Night Shift","role":"responder"})");

    // A file that cannot be parsed on reload keeps the tokens that work, and says so; a file
    // that is gone revokes them (a deliberate change with issue 11: deleting the file is how
    // an operator shuts the door).
    std::ofstream(tokens()) << "tokens: [ {name: broken\n";
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("admin tokens: tokens file .* was not loaded", 10s)) << d.stderr_text();
    EXPECT_EQ(http_post(admin, "/api/v1/silences", rotated, silence), 200) << d.stderr_text();
    std::filesystem::remove(tokens());
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("admin tokens: tokens file .* is gone", 10s)) << d.stderr_text();
    EXPECT_EQ(http_post(admin, "/api/v1/silences", rotated, silence), 401) << d.stderr_text();
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

TEST_F(ops, reload_starts_and_stops_sources_and_leaves_unchanged_ones_connected) {
    crisisd::net::websocket_server second{io_.executor(), {}};
    ASSERT_FALSE(second.start());
    auto second_source = "  - name: second\n    type: websocket\n    url: \"ws://127.0.0.1:" + std::to_string(second.port()) +
                         "/stream\"\n    reconnect: { initial: 100ms, max: 500ms }\n";
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    auto accepted = ws_.connections_accepted();

    write_config(rule("alpha", "alpha"), second_source);
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("sources started: second", 10s)) << d.stderr_text();
    ASSERT_TRUE(wait_until([&] { return second.connection_count() == 1; }, 10s)) << d.stderr_text();
    // Mentions from the new source reach the rules.
    for (int i = 0; i < 7; ++i) {
        ++sent_;
        second.broadcast(crisisd::testing::mention_json(sent_, "@new" + std::to_string(i), "alpha is down again"));
    }
    ASSERT_TRUE(processed(admin)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin) == std::vector<std::string>{"alpha"}; }, 10s))
        << admin_get(admin, "/api/v1/incidents");

    write_config(rule("alpha", "alpha"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("sources stopped: second", 10s)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return second.connection_count() == 0; }, 10s));
    // Its gauges went with it: the shipped "source disconnected" alert must not fire for it.
    const auto metrics_text = admin_get(admin, "/metrics");
    EXPECT_EQ(metrics_text.find(R"(crisisd_source_connected{source="second"})"), std::string::npos) << metrics_text;
    EXPECT_EQ(metrics_text.find(R"(crisisd_source_last_message_age_seconds{source="second"})"), std::string::npos);
    EXPECT_NE(metrics_text.find(R"(crisisd_source_connected{source="stream"} 1)"), std::string::npos) << metrics_text;
    // The unchanged source was never reconnected, and still delivers.
    EXPECT_EQ(ws_.connections_accepted(), accepted);
    EXPECT_EQ(ws_.connection_count(), 1u);
    send("alpha", 1);
    EXPECT_TRUE(processed(admin)) << d.stderr_text();
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
    second.stop();
}

TEST_F(ops, a_channel_change_on_reload_applies_nothing_and_says_restart) {
    write_config(rule("alpha", "alpha"));
    child_process d(crisisd_run(dir_));
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();

    // A new rule and a pager writing somewhere else: the rule must not arrive without its channel.
    write_config(rule("alpha", "alpha") + rule("gamma", "gamma"));
    edit_config("pages.jsonl", "other.jsonl");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("running configuration stays", 10s)) << d.stderr_text();
    EXPECT_TRUE(d.wait_for_stderr("channels changed: .*restart", 1s)) << d.stderr_text();
    send("gamma", 8);
    send("alpha", 7);
    ASSERT_TRUE(processed(admin)) << d.stderr_text();
    EXPECT_TRUE(wait_until([&] { return incident_rules(admin) == std::vector<std::string>{"alpha"}; }, 10s))
        << admin_get(admin, "/api/v1/incidents");
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}
