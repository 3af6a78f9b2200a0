// Issue 13, the console feed, through the real binary: a client of the event stream that never
// reads while hundreds of incidents open keeps crisisd's memory bounded, and a second client
// that reads still gets the current state — the live list once, then the incidents that changed
// (an acknowledgement arrives as a change, not as the list again); a stream over
// admin.max_event_streams is refused with 503 and counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "sse_client.hpp"
#include "stream_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using crisisd::testing::admin_request;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::sse_client;
using crisisd::testing::wait_until;

// kB from a line of /proc/<pid>/status ("VmRSS:", "VmHWM:"); -1 when absent.
long status_kb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with(field)) return std::stol(line.substr(field.size()));
    return -1;
}

// One rule per topic ("topic17"), each opening an incident on its first angry mention and
// staying open: `rules` incidents can be open at once.
std::string feed_config(const std::string& stream_url, int rules) {
    std::ostringstream c;
    c << "sources:\n  - { name: stream, type: websocket, url: \"" << stream_url << "\" }\n"
      << "channels:\n  - { name: pager, type: log }\n"
      << "rules:\n";
    for (int i = 0; i < rules; ++i)
        c << "  - name: outage-" << i << "\n    match: { keywords: [topic" << i << "] }\n"
          << "    window: 10s\n    baseline: 1h\n    min_baseline_rate: 1\n"
          << "    fire_when: { all: [negative_count >= 1] }\n"
          << "    clear_when: { all: [count < 1], for: 1h }\n"
          << "    severity: critical\n    playbook: page\n";
    c << "playbooks:\n  - name: page\n    steps:\n      - notify: [pager]\n";
    return c.str();
}

class console_feed : public crisisd::testing::stream_fixture {
protected:
    console_feed() : stream_fixture("crisisd-console-feed") {}

    std::unique_ptr<child_process> start(int rules, const std::string& admin_extra = "") {
        crisisd::testing::write_config(dir_, feed_config(stream_url(), rules), admin_extra);
        auto d = std::make_unique<child_process>(crisisd::testing::crisisd_run(dir_));
        port_ = started(*d);
        if (port_ == 0) ADD_FAILURE() << d->stderr_text();
        return d;
    }

    // Opens the incidents of rules [from, to): one angry mention each.
    void open_incidents(int from, int to) {
        for (int i = from; i < to; ++i)
            ws_.broadcast(crisisd::testing::mention_json(i, "@angry" + std::to_string(i),
                                                         "topic" + std::to_string(i) +
                                                             " outage again, this is terrible and awful!"));
    }

    double metric_now(const std::string& series) {
        return metric(admin_request(port_, "GET", "/metrics").body, series);
    }

    std::uint16_t port_ = 0;
};

// What a console that applies the feed believes is open: the live list, then each change.
std::set<std::uint64_t> open_ids(const std::vector<sse_client::event>& events) {
    std::set<std::uint64_t> open;
    for (const auto& e : events) {
        if (e.name != "incidents" && e.name != "changes") continue;
        auto v = boost::json::parse(e.data).as_object();
        if (e.name == "incidents") open.clear();
        for (const auto& inc : v.at("incidents").as_array()) {
            const auto id = inc.at("id").to_number<std::uint64_t>();
            if (inc.at("state").as_string() == "resolved") open.erase(id);
            else open.insert(id);
        }
        if (auto* removed = v.if_contains("removed"))
            for (const auto& id : removed->as_array()) open.erase(id.to_number<std::uint64_t>());
    }
    return open;
}

}  // namespace

TEST_F(console_feed, a_client_that_never_reads_keeps_memory_bounded_and_another_still_gets_current_state) {
    constexpr int before = 300, burst = 300;
    auto d = start(before + burst);
    ASSERT_NE(port_, 0);
    open_incidents(0, before);
    ASSERT_TRUE(wait_until([&] { return metric_now("crisisd_incidents_open") == before; }, 120s)) << d->stderr_text();
    const long rss_before = status_kb(d->pid(), "VmRSS:");

    sse_client stalled(port_, false);
    sse_client reader(port_, true);
    ASSERT_TRUE(wait_until([&] { return reader.count("incidents") == 1; }, 20s));
    EXPECT_EQ(open_ids(reader.events()).size(), static_cast<std::size_t>(before));
    // Without the charts, whose points change every tick; the API by id has them.
    EXPECT_EQ(reader.events().front().data.find("\"series\""), std::string::npos);
    EXPECT_NE(admin_request(port_, "GET", "/api/v1/incidents/1").body.find("\"series\""), std::string::npos);
    EXPECT_EQ(metric_now("crisisd_admin_event_streams"), 2);

    // The burst, while the stalled client reads nothing: twenty at a time, each twenty seen by
    // the reading client before the next, so they span fifteen ticks (each of which the old feed
    // answered with the whole list); a tick is 250 ms, so more batches only make the test longer.
    constexpr int batch = 20;
    long rss_peak = rss_before;
    for (int i = before; i < before + burst; i += batch) {
        open_incidents(i, i + batch);
        ASSERT_TRUE(wait_until(
            [&] {
                rss_peak = std::max(rss_peak, status_kb(d->pid(), "VmRSS:"));
                return open_ids(reader.events()).size() == static_cast<std::size_t>(i + batch);
            },
            60s));
    }
    ASSERT_TRUE(wait_until(
        [&] {
            rss_peak = std::max(rss_peak, status_kb(d->pid(), "VmRSS:"));
            return open_ids(reader.events()).size() == static_cast<std::size_t>(before + burst);
        },
        120s))
        << "the reading client sees " << open_ids(reader.events()).size() << " open";
    rss_peak = std::max(rss_peak, status_kb(d->pid(), "VmHWM:"));
    std::cout << "crisisd VmRSS before the burst " << rss_before / 1024 << " MB, peak (VmHWM) " << rss_peak / 1024
              << " MB; the reading client got " << reader.count("changes") << " change events, "
              << reader.bytes() / 1024 << " KiB; resyncs " << metric_now("crisisd_admin_event_stream_resyncs_total")
              << std::endl;
    EXPECT_LT(rss_peak, 200 * 1024) << "kB";
    EXPECT_EQ(reader.count("incidents"), 1u) << "the list is sent once, then only changes";
    EXPECT_GE(reader.count("changes"), 10u) << "the burst spanned many ticks";

    // An acknowledgement reaches the reader as a change of that one incident.
    ASSERT_EQ(admin_request(port_, "POST", "/api/v1/incidents/7/ack").status, 200);
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& e : reader.events())
                if (e.name == "changes" && e.data.find("\"id\":7,") != std::string::npos &&
                    e.data.find("\"state\":\"acknowledged\"") != std::string::npos)
                    return true;
            return false;
        },
        10s));
    EXPECT_EQ(reader.count("incidents"), 1u);

    // Resolved, it leaves the live list (and stays readable by id).
    ASSERT_EQ(admin_request(port_, "POST", "/api/v1/incidents/7/resolve").status, 200);
    ASSERT_TRUE(wait_until([&] { return open_ids(reader.events()).count(7) == 0; }, 10s));
    EXPECT_EQ(admin_request(port_, "GET", "/api/v1/incidents/7").status, 200);
    reader.close();
    sse_client late(port_, true);
    ASSERT_TRUE(wait_until([&] { return late.count("incidents") == 1; }, 20s));
    auto live = open_ids(late.events());
    EXPECT_EQ(live.size(), static_cast<std::size_t>(before + burst - 1));
    EXPECT_EQ(live.count(7), 0u) << "a resolved incident is not in the live list";

    EXPECT_EQ(d->terminate(20s), 0) << d->stderr_text();
}

// GET /api/v1/incidents: every incident held, as before; ?resolved=N for a poller that wants the
// live list without the resolved incidents storage.resolved_grace keeps (issue 13). A resolved
// incident's view is kept between requests (incident_log::write_list) and still reads resolved.
TEST_F(console_feed, the_incident_list_leaves_out_resolved_incidents_when_asked) {
    auto d = start(3);
    ASSERT_NE(port_, 0);
    open_incidents(0, 3);
    ASSERT_TRUE(wait_until([&] { return metric_now("crisisd_incidents_open") == 3; }, 60s)) << d->stderr_text();
    ASSERT_EQ(admin_request(port_, "POST", "/api/v1/incidents/1/resolve").status, 200);
    ASSERT_TRUE(wait_until([&] { return metric_now("crisisd_outbox_pending") == 0; }, 30s));

    auto list = [&](const std::string& query) {
        auto r = admin_request(port_, "GET", "/api/v1/incidents" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        return boost::json::parse(r.body).as_object();
    };
    for (int twice = 0; twice < 2; ++twice) {
        auto all = list("");
        ASSERT_EQ(all.at("incidents").as_array().size(), 3u);
        EXPECT_FALSE(all.contains("resolved_omitted"));
        EXPECT_EQ(all.at("incidents").as_array().back().at("state").as_string(), "resolved");
    }
    auto live = list("?resolved=0");
    ASSERT_EQ(live.at("incidents").as_array().size(), 2u);
    for (const auto& inc : live.at("incidents").as_array()) EXPECT_NE(inc.at("state").as_string(), "resolved");
    EXPECT_EQ(live.at("resolved_omitted").as_int64(), 1);
    EXPECT_EQ(list("?resolved=5").at("incidents").as_array().size(), 3u);
    EXPECT_EQ(admin_request(port_, "GET", "/api/v1/incidents?resolved=all").status, 400);

    EXPECT_EQ(d->terminate(20s), 0) << d->stderr_text();
}

TEST_F(console_feed, a_stream_over_the_cap_is_refused_and_counted) {
    auto d = start(2, ", max_event_streams: 2");
    ASSERT_NE(port_, 0);
    auto first = std::make_unique<sse_client>(port_, true);
    sse_client second(port_, true);
    ASSERT_TRUE(wait_until([&] { return first->count("incidents") == 1 && second.count("incidents") == 1; }, 20s));

    auto third = admin_request(port_, "GET", "/api/v1/events?ticket=" + crisisd::testing::event_ticket(port_));
    EXPECT_EQ(third.status, 503) << third.body;
    EXPECT_NE(third.body.find("max_event_streams"), std::string::npos) << third.body;
    EXPECT_EQ(third.header("Retry-After"), "10");
    EXPECT_EQ(metric_now("crisisd_admin_event_streams_refused_total"), 1);
    EXPECT_TRUE(d->wait_for_stderr("event stream was refused", 10s)) << d->stderr_text();

    // One leaves: its place is free again.
    first.reset();
    ASSERT_TRUE(wait_until([&] { return metric_now("crisisd_admin_event_streams") <= 1; }, 20s));
    sse_client again(port_, true);
    ASSERT_TRUE(wait_until([&] { return again.count("incidents") == 1; }, 20s)) << again.status_line();

    EXPECT_EQ(d->terminate(20s), 0) << d->stderr_text();
}
