// incident_list: what GET /api/v1/incidents costs crisisd with N incidents held in memory, as a
// console or a monitoring script polling the list sees it (issue 13: with the storm's 2,000 held,
// each answer took 62 ms of the event loop and /healthz's slowest answer grew to 60-97 ms). Not a
// test: it prints numbers and never fails on a timing.
//
//   incident_list [--binary PATH] [--baseline PATH] [--incidents N] [--open K] [--requests R]
//                 [--query ?resolved=0]
//
// For each binary (the baseline first): a config with N one-topic rules, N incidents opened over
// a local websocket and all but the newest K resolved through the admin API (each resolution's
// page delivered), then R requests of the list one after another. It prints the answer's size,
// the round trip's median and slowest, and crisisd's CPU time per answer (utime+stime from /proc,
// so the load of a shared machine shifts it little); with --baseline, the ratios.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/loopback.hpp"
#include "bench/topic_rules.hpp"
#include "child_process.hpp"
#include "net/websocket_server.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::testing::child_process;
using steady = std::chrono::steady_clock;

struct options {
    std::string binary = CRISISD_BINARY;
    std::string baseline;
    int incidents = 2000;
    int open = 10;
    int requests = 40;
    std::string query;  // appended to the list's path: "?resolved=0" asks for the live list
};

struct result {
    std::size_t bytes = 0;
    double p50_ms = 0, max_ms = 0, cpu_ms = 0;
    bool ok = false;
};

result run(const std::string& binary, const options& o) {
    result r;
    const crisisd::testing::temp_dir tmp("crisisd-incident-list");  // removed on every return
    const auto& dir = tmp.path;
    crisisd::testing::io_thread io;
    crisisd::net::websocket_server ws(io.executor(), {});
    if (ws.start()) return r;
    std::ofstream(dir / "crisisd.yaml") << crisisd::bench::topic_rules_config(dir, ws.port(), o.incidents);
    child_process d({binary, "run", "--config", (dir / "crisisd.yaml").string()});
    auto port_text = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 120s);
    if (!port_text || !crisisd::testing::wait_until([&] { return ws.connection_count() == 1; }, 20s)) {
        std::fprintf(stderr, "%s did not start:\n%s\n", binary.c_str(), d.stderr_text().c_str());
        return r;
    }
    const auto port = static_cast<std::uint16_t>(std::stoi(*port_text));
    for (int i = 0; i < o.incidents; ++i)
        ws.broadcast(crisisd::testing::mention_json(i, "@angry" + std::to_string(i),
                                                    "topic" + std::to_string(i) + " outage again, terrible and awful!"));
    auto settled = [&](double open) {
        return [&, open] {
            auto m = crisisd::testing::admin_request(port, "GET", "/metrics").body;
            return crisisd::testing::metric(m, "crisisd_incidents_open") == open &&
                   crisisd::testing::metric(m, "crisisd_outbox_pending") == 0;
        };
    };
    if (!crisisd::testing::wait_until(settled(o.incidents), 300s)) {
        std::fprintf(stderr, "%s: the incidents did not open and page\n", binary.c_str());
        return r;
    }
    // Ids count from 1 in opening order: the oldest are resolved, the newest K stay open.
    for (int id = 1; id <= o.incidents - o.open; ++id)
        crisisd::testing::admin_request(port, "POST", "/api/v1/incidents/" + std::to_string(id) + "/resolve");
    if (!crisisd::testing::wait_until(settled(o.open), 300s)) {
        std::fprintf(stderr, "%s: the incidents did not resolve\n", binary.c_str());
        return r;
    }

    std::vector<double> ms;
    const double cpu0 = crisisd::bench::proc_cpu_seconds(d.pid());
    for (int i = 0; i < o.requests; ++i) {
        const auto t0 = steady::now();
        auto res = crisisd::testing::admin_request(port, "GET", "/api/v1/incidents" + o.query);
        ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
        r.bytes = res.body.size();
    }
    r.cpu_ms = (crisisd::bench::proc_cpu_seconds(d.pid()) - cpu0) * 1000 / o.requests;
    std::sort(ms.begin(), ms.end());
    r.p50_ms = ms[ms.size() / 2];
    r.max_ms = ms.back();
    d.terminate(30s);
    ws.stop();
    r.ok = true;
    return r;
}

void print(const char* name, const result& r) {
    std::printf("%-9s %zu bytes; round trip p50 %.2f ms, slowest %.2f ms; crisisd CPU %.2f ms an answer\n", name,
                r.bytes, r.p50_ms, r.max_ms, r.cpu_ms);
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--binary") o.binary = v;
        else if (a == "--baseline") o.baseline = v;
        else if (a == "--incidents") o.incidents = std::stoi(v);
        else if (a == "--open") o.open = std::stoi(v);
        else if (a == "--requests") o.requests = std::stoi(v);
        else if (a == "--query") o.query = v;
        else {
            std::fprintf(stderr, "usage: incident_list [--binary PATH] [--baseline PATH] [--incidents N] [--open K] "
                                 "[--requests R] [--query ?resolved=0]\n");
            return 2;
        }
    }
    if (o.open > o.incidents || o.requests < 1) return 2;
    std::printf("%d incidents held (%d open), %d requests of GET /api/v1/incidents%s\n", o.incidents, o.open,
                o.requests, o.query.c_str());
    result base;
    if (!o.baseline.empty()) {
        base = run(o.baseline, o);
        if (!base.ok) return 1;
        print("baseline", base);
    }
    auto now = run(o.binary, o);
    if (!now.ok) return 1;
    print("this", now);
    if (base.ok)
        std::printf("ratio (baseline / this): CPU an answer %.1fx, p50 %.1fx, slowest %.1fx\n", base.cpu_ms / now.cpu_ms,
                    base.p50_ms / now.p50_ms, base.max_ms / now.max_ms);
    return 0;
}
