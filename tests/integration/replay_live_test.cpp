// Issue 12, "replay is live": the same small mention stream sent live to the real binary (HTTP
// ingest, a fake PagerDuty) and replayed with `crisisd replay` gives the same incidents, the
// same actions and the same event times (within the tick). The stream holds a frame sent twice
// and the playbook no on_resolve step: the mentions processed and the PagerDuty resolve
// follow-up agree only when replay de-duplicates and follows up as the live daemon does.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "core/time.hpp"
#include "fakes/fake_apis.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::read_file;
using crisisd::testing::wait_until;

namespace {

double seconds(const json::value& rfc3339) {
    auto t = crisisd::core::parse_rfc3339(std::string(rfc3339.as_string()));
    if (!t) throw std::runtime_error("not a time");
    return std::chrono::duration<double>(t->time_since_epoch()).count();
}

class replay_live : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = crisisd::testing::make_temp_dir("crisisd-replay-live");
        pd_.start();
        std::ofstream(dir_ / "routing") << "0123456789abcdef0123456789abcdef";
        crisisd::testing::write_config(dir_, R"(
sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0", trusted: true }
channels:
  - name: oncall
    type: pagerduty
    url: ")" + pd_.url() + R"("
    routing_key: "${file:)" + (dir_ / "routing").string() + R"(}"
rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    window: 3s
    baseline: 1h
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1s }
    severity: critical
    playbook: page
playbooks:
  - { name: page, steps: [ { notify: [oncall] } ] }
)");
    }
    void TearDown() override {
        pd_.stop();
        fs::remove_all(dir_);
    }

    fs::path dir_;
    crisisd::testing::fake_pagerduty pd_;
};

// One incident as both sides write it (the live API and the replay report share the shape).
struct seen {
    std::string rule, key, state;
    double opened = 0, resolved = 0, count = 0, authors = 0;
    std::vector<std::string> sample_sources;  // the configured source of each evidence sample
    std::vector<std::tuple<std::string, std::string, std::string, std::string, double>> actions;  // channel kind phase event at
};

std::vector<seen> incidents_of(const json::value& doc) {
    std::vector<seen> out;
    for (const auto& v : doc.at("incidents").as_array()) {
        const auto& o = v.as_object();
        seen s;
        s.rule = o.at("rule").as_string();
        s.key = o.at("key").as_string();
        s.state = o.at("state").as_string();
        s.opened = seconds(o.at("opened_at"));
        if (!o.at("resolved_at").is_null()) s.resolved = seconds(o.at("resolved_at"));
        s.count = o.at("evidence").at("count").to_number<double>();
        s.authors = o.at("evidence").at("unique_authors").to_number<double>();
        for (const auto& x : o.at("evidence").at("samples").as_array())
            s.sample_sources.emplace_back(x.at("source").as_string());
        for (const auto& a : o.at("actions").as_array()) {
            const auto& ao = a.as_object();
            const auto* ev = ao.if_contains("event");
            s.actions.emplace_back(std::string(ao.at("channel").as_string()), std::string(ao.at("kind").as_string()),
                                   std::string(ao.at("phase").as_string()), ev ? std::string(ev->as_string()) : "",
                                   seconds(ao.at("at")));
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

TEST_F(replay_live, the_same_stream_gives_the_same_incidents_actions_and_times) {
    child_process d(crisisd::testing::crisisd_run(dir_));
    const auto ingest = d.wait_for_port(crisisd::testing::ingest_line("ingest"), 20s);
    ASSERT_NE(ingest, 0) << d.stderr_text();
    const auto admin = d.wait_for_port(crisisd::testing::console_line, 20s);
    ASSERT_NE(admin, 0) << d.stderr_text();

    // The stream, stamped with the time it is sent (live, event time is the daemon's clock), and
    // kept as the recording replay reads. Frame s-0 comes twice, as after a reconnect.
    std::string body;
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const auto stamp = crisisd::core::format_rfc3339(crisisd::core::timestamp(now.time_since_epoch()));
    for (int i : {0, 1, 2, 0, 3, 4, 5}) {
        json::object o;
        o["id"] = "s-" + std::to_string(i);
        o["author"] = "@user" + std::to_string(i);
        o["lang"] = "en";
        o["source"] = "ingest";
        o["created_at"] = stamp;
        o["text"] = "acme is down again, this is terrible";
        body += json::serialize(o) + "\n";
    }
    std::ofstream(dir_ / "stream.jsonl") << body;
    auto r = crisisd::testing::post_mentions(ingest, body);
    ASSERT_EQ(r.status, 202) << r.body;

    // Live: opened, paged, cleared by silence, and PagerDuty told of the resolution.
    json::value live;
    ASSERT_TRUE(wait_until(
        [&] {
            live = json::parse(admin_get(admin, "/api/v1/incidents"));
            const auto& list = live.at("incidents").as_array();
            return list.size() == 1 && list[0].at("state").as_string() == "resolved" &&
                   list[0].at("actions").as_array().size() == 2;
        },
        20s))
        << json::serialize(live) << "\n" << d.stderr_text();
    ASSERT_TRUE(wait_until([&] { return pd_.events().size() == 2; }, 10s)) << d.stderr_text();
    const double live_processed =
        crisisd::testing::metric(admin_get(admin, "/metrics"), "crisisd_mentions_processed_total");
    EXPECT_EQ(d.terminate(15s), 0);

    child_process rp({CRISISD_BINARY, "replay", "--config", crisisd::testing::config_path(dir_).string(), "--input",
                      (dir_ / "stream.jsonl").string(), "--report", (dir_ / "report.json").string(), "--quiet"});
    ASSERT_EQ(rp.wait_exit(30s), 0) << rp.stderr_text();
    const auto replayed = json::parse(read_file(dir_ / "report.json"));

    const auto a = incidents_of(live), b = incidents_of(replayed);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u) << json::serialize(replayed);
    EXPECT_EQ(a[0].rule, b[0].rule);
    EXPECT_EQ(a[0].key, b[0].key);
    EXPECT_EQ(a[0].state, b[0].state);
    EXPECT_EQ(live_processed, 6) << "the frame sent twice is processed once live";
    EXPECT_EQ(replayed.at("mentions_processed").to_number<double>(), live_processed) << "and once in replay";
    EXPECT_EQ(b[0].count, a[0].count);
    // Live ticks every 250 ms of wall time, replay once a second of event time.
    EXPECT_LE(std::abs(a[0].opened - b[0].opened), 1.0);
    EXPECT_LE(std::abs(a[0].resolved - b[0].resolved), 1.5);
    ASSERT_EQ(a[0].actions.size(), b[0].actions.size()) << json::serialize(replayed);
    for (std::size_t i = 0; i < a[0].actions.size(); ++i) {
        const auto& [ch, kind, phase, event, at] = a[0].actions[i];
        const auto& [ch2, kind2, phase2, event2, at2] = b[0].actions[i];
        EXPECT_EQ(ch, ch2) << i;
        EXPECT_EQ(kind, kind2) << i;
        EXPECT_EQ(phase, phase2) << i;
        EXPECT_EQ(event, event2) << i;
        EXPECT_LE(std::abs(at - at2), 1.5) << i;
    }
    // The follow-up is there on both sides: PagerDuty hears of the resolution from replay too.
    EXPECT_EQ(std::get<3>(b[0].actions.back()), "resolved");
}

// The bundled demo scenario replayed with the demo's own config reproduces what
// `demo --headless --report` recorded: the same incidents and actions, at the same event times.
// The demo tells the story on four networks (Mastodon, the Facebook Page's webhook, X's stream,
// a forum's feed); the scenario names each line's source, so replay counts every mention on the
// lane of the source it came on live, with the same authors. Times agree within two of the demo's
// ticks (250 ms of wall time at 120x is 30 s of story time): one for the tick itself, one for the
// networks' delivery on a loaded machine (a webhook POST or a stream write late by 100 ms of wall
// time is 12 s of story time). Forum posts arrive up to a poll interval (1 s of wall time, two
// minutes of story) late; the scenario puts none where that could change what the rule sees.
TEST(replay_demo, the_demo_scenario_replayed_gives_the_demo_report) {
    const crisisd::testing::temp_dir tmp("crisisd-replay-demo");
    const auto& dir = tmp.path;
    child_process demo({CRISISD_BINARY, "demo", "--headless", "--report", (dir / "demo.json").string(), "--dir",
                        (dir / "demo").string()});
    ASSERT_EQ(demo.wait_exit(120s), 0) << demo.stderr_text();
    // Replay reads the same posts from the file the demo was built with.
    const auto scenario = fs::path(CRISISD_TEST_DATA).parent_path().parent_path() / "demo" / "outage-scenario.jsonl";
    child_process rp({CRISISD_BINARY, "replay", "--config", (dir / "demo" / "crisisd.yaml").string(), "--input",
                      scenario.string(), "--report", (dir / "replay.json").string(), "--quiet"});
    ASSERT_EQ(rp.wait_exit(30s), 0) << rp.stderr_text();
    const auto live = json::parse(read_file(dir / "demo.json"));
    const auto replayed = json::parse(read_file(dir / "replay.json"));
    // Every post of the story, from all four networks, reached detection once; the forum's older
    // posts were history and counted nowhere.
    EXPECT_EQ(live.at("mentions_processed").to_number<double>(), 97);
    EXPECT_EQ(replayed.at("mentions_processed").to_number<double>(), 97);
    const auto a = incidents_of(live);
    const auto b = incidents_of(replayed);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_FALSE(a.empty());
    const std::vector<std::string> sources{"mastodon", "page", "x", "forum"};
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].rule, b[i].rule);
        EXPECT_EQ(a[i].key, b[i].key);
        EXPECT_EQ(a[i].state, b[i].state);
        EXPECT_EQ(a[i].count, b[i].count);
        EXPECT_EQ(a[i].authors, b[i].authors) << "the same people, whichever network they wrote on";
        EXPECT_LE(std::abs(a[i].opened - b[i].opened), 60.0);
        EXPECT_LE(std::abs(a[i].resolved - b[i].resolved), 60.0);
        // Evidence names the configured source each sample came on, live and replayed alike.
        for (const auto* side : {&a[i], &b[i]}) {
            ASSERT_FALSE(side->sample_sources.empty());
            for (const auto& src : side->sample_sources)
                EXPECT_NE(std::find(sources.begin(), sources.end(), src), sources.end()) << src;
        }
        ASSERT_EQ(a[i].actions.size(), b[i].actions.size());
        for (std::size_t k = 0; k < a[i].actions.size(); ++k) {
            EXPECT_EQ(std::get<0>(a[i].actions[k]), std::get<0>(b[i].actions[k])) << k;
            EXPECT_EQ(std::get<1>(a[i].actions[k]), std::get<1>(b[i].actions[k])) << k;
            EXPECT_EQ(std::get<3>(a[i].actions[k]), std::get<3>(b[i].actions[k])) << k;
            EXPECT_LE(std::abs(std::get<4>(a[i].actions[k]) - std::get<4>(b[i].actions[k])), 60.0) << k;
        }
    }
}
