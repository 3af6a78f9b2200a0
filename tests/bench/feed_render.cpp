// feed_render: what the console's live feed costs crisisd with N open incidents and one console
// listening (issue 13: "with one normal client and 2,000 incidents, crisisd spends 93 % of a core
// rendering 22 MB a second"). Not a test: it prints numbers and never fails on a timing.
//
//   feed_render [--binary PATH] [--baseline PATH] [--incidents N] [--seconds S] [--opens-per-second R]
//               [--stalled K]
//
// For each binary (the baseline first, e.g. /work/main/build/ci/crisisd): a config with N + S*R
// one-topic rules, N incidents opened over a local websocket, then one event-stream client that
// reads everything. Two phases of S seconds each:
//   quiet   nothing changes;
//   opening R new incidents a second (a storm going on).
// Per phase it prints crisisd's CPU time as a share of one core (utime+stime from /proc, so the
// load of a shared machine shifts it little), the bytes the client received per second and its
// events; then crisisd's peak RSS (VmHWM). With --baseline it prints the ratios. --stalled K adds
// K event-stream clients that never read (issue 13's finding: RSS grew to 1.9 GB).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/loopback.hpp"
#include "bench/topic_rules.hpp"
#include "child_process.hpp"
#include "net/websocket_server.hpp"
#include "sse_client.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::testing::child_process;
using crisisd::testing::sse_client;
using steady = std::chrono::steady_clock;

struct options {
    std::string binary = CRISISD_BINARY;
    std::string baseline;
    int incidents = 2000;
    int seconds = 10;
    int opens_per_second = 10;
    int stalled = 0;
};

struct phase {
    double cpu_share = 0, bytes_per_s = 0;
    std::size_t events = 0;
    double open_after = 0;  // crisisd_incidents_open at the end
};
struct result {
    phase quiet, opening;
    long peak_rss_kb = 0;
    bool ok = false;
};

result run(const std::string& binary, const options& o) {
    result r;
    const crisisd::testing::temp_dir tmp("crisisd-feed-render");  // removed on every return
    const auto& dir = tmp.path;
    crisisd::testing::io_thread io;
    crisisd::net::websocket_server ws(io.executor(), {});
    if (ws.start()) return r;
    const int rules = o.incidents + o.seconds * o.opens_per_second;
    std::ofstream(dir / "crisisd.yaml") << crisisd::bench::topic_rules_config(dir, ws.port(), rules);
    child_process d({binary, "run", "--config", (dir / "crisisd.yaml").string()});
    auto port_text = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 120s);
    if (!port_text || !crisisd::testing::wait_until([&] { return ws.connection_count() == 1; }, 20s)) {
        std::fprintf(stderr, "%s did not start:\n%s\n", binary.c_str(), d.stderr_text().c_str());
        return r;
    }
    const auto port = static_cast<std::uint16_t>(std::stoi(*port_text));
    auto open = [&](int i) {
        ws.broadcast(crisisd::testing::mention_json(i, "@angry" + std::to_string(i),
                                                    "topic" + std::to_string(i) + " outage again, terrible and awful!"));
    };
    for (int i = 0; i < o.incidents; ++i) open(i);
    // Open, and their pages delivered: what is measured is the feed, not the outbox draining.
    auto settled = [&] {
        auto m = crisisd::testing::admin_request(port, "GET", "/metrics").body;
        return crisisd::testing::metric(m, "crisisd_incidents_open") >= o.incidents &&
               crisisd::testing::metric(m, "crisisd_outbox_pending") == 0;
    };
    if (!crisisd::testing::wait_until(settled, 300s)) {
        std::fprintf(stderr, "%s: the incidents did not open and page\n", binary.c_str());
        return r;
    }

    std::vector<std::unique_ptr<sse_client>> stalled;
    for (int i = 0; i < o.stalled; ++i) stalled.push_back(std::make_unique<sse_client>(port, false));
    sse_client client(port, true);
    crisisd::testing::wait_until([&] { return client.count("incidents") >= 1; }, 60s);
    auto measure = [&](phase& p, auto&& during) {
        const auto bytes0 = client.bytes();
        const auto events0 = client.size();
        const double cpu0 = crisisd::bench::proc_cpu_seconds(d.pid());
        const auto t0 = steady::now();
        during();
        const double wall = std::chrono::duration<double>(steady::now() - t0).count();
        p.cpu_share = (crisisd::bench::proc_cpu_seconds(d.pid()) - cpu0) / wall;
        p.bytes_per_s = static_cast<double>(client.bytes() - bytes0) / wall;
        p.events = client.size() - events0;
        p.open_after = crisisd::testing::metric(crisisd::testing::admin_request(port, "GET", "/metrics").body,
                                                "crisisd_incidents_open");
    };
    measure(r.quiet, [&] { std::this_thread::sleep_for(std::chrono::seconds(o.seconds)); });
    int next = o.incidents;
    measure(r.opening, [&] {
        const auto start = steady::now();
        for (int k = 0; k < o.seconds * o.opens_per_second; ++k) {
            std::this_thread::sleep_until(start + k * std::chrono::milliseconds(1000) / o.opens_per_second);
            open(next++);
        }
        std::this_thread::sleep_until(start + std::chrono::seconds(o.seconds));
    });
    r.peak_rss_kb = static_cast<long>(crisisd::bench::proc_status_kb(d.pid(), "VmHWM:"));
    client.close();
    d.terminate(30s);
    ws.stop();
    r.ok = true;
    return r;
}

void print(const char* name, const result& r) {
    std::printf("%-9s quiet:   crisisd %5.1f %% of a core, client %8.1f KiB/s, %zu events\n", name,
                r.quiet.cpu_share * 100, r.quiet.bytes_per_s / 1024, r.quiet.events);
    std::printf("%-9s opening: crisisd %5.1f %% of a core, client %8.1f KiB/s, %zu events, %.0f open at the end\n",
                name, r.opening.cpu_share * 100, r.opening.bytes_per_s / 1024, r.opening.events, r.opening.open_after);
    std::printf("%-9s peak RSS %ld MB\n", name, r.peak_rss_kb / 1024);
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--binary") o.binary = v;
        else if (a == "--baseline") o.baseline = v;
        else if (a == "--incidents") o.incidents = std::stoi(v);
        else if (a == "--seconds") o.seconds = std::stoi(v);
        else if (a == "--opens-per-second") o.opens_per_second = std::stoi(v);
        else if (a == "--stalled") o.stalled = std::stoi(v);
        else {
            std::fprintf(stderr, "usage: feed_render [--binary PATH] [--baseline PATH] [--incidents N] [--seconds S] "
                                 "[--opens-per-second R] [--stalled K]\n");
            return 2;
        }
    }
    std::printf("%d open incidents, one console reading the feed and %d that never read, %d s per phase, "
                "%d new incidents/s while opening\n",
                o.incidents, o.stalled, o.seconds, o.opens_per_second);
    result base;
    if (!o.baseline.empty()) {
        base = run(o.baseline, o);
        if (!base.ok) return 1;
        print("baseline", base);
    }
    auto now = run(o.binary, o);
    if (!now.ok) return 1;
    print("this", now);
    if (base.ok) {
        // A ratio against (almost) nothing says nothing: a quiet feed sends a few bytes a minute.
        auto ratio = [](double a, double b) {
            if (a <= 0) return std::string("n/a");
            return b > a / 1000 ? std::to_string(a / b).substr(0, 6) + "x" : std::string("over 1000x");
        };
        std::printf("ratio (baseline / this): CPU quiet %s, opening %s; bytes quiet %s, opening %s\n",
                    ratio(base.quiet.cpu_share, now.quiet.cpu_share).c_str(),
                    ratio(base.opening.cpu_share, now.opening.cpu_share).c_str(),
                    ratio(base.quiet.bytes_per_s, now.quiet.bytes_per_s).c_str(),
                    ratio(base.opening.bytes_per_s, now.opening.bytes_per_s).c_str());
    }
    return 0;
}
