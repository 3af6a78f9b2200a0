// latency_bench: time from the mention that makes a rule fire to the notification request
// arriving at a local keep-alive HTTP receiver, through the real crisisd binary (websocket in,
// detection, incident, SQLite outbox with fsync, delivery loop, webhook out). Each trial fires a
// different key (source) of one rule, so every sample is a fresh incident. Reports p50, p90, p99 and max.
//
//   latency_bench [--trials N] [--binary PATH] [--state-dir DIR]
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "fakes/http_receiver.hpp"
#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "net/websocket_server.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The rule groups by source, so each trial's own source name opens a fresh incident.
std::string mention(int n, const std::string& author, const std::string& text, int trial) {
    boost::json::object o;
    o["source"] = "feed" + std::to_string(trial);
    o["id"] = "m-" + std::to_string(n);
    o["author"] = author;
    o["lang"] = "en";
    o["text"] = text;
    return boost::json::serialize(o);
}


}  // namespace

int main(int argc, char** argv) {
    int trials = 100;
    std::string binary = CRISISD_BINARY;
    fs::path state_dir = fs::temp_directory_path();
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--trials" && i + 1 < argc) trials = std::atoi(argv[++i]);
        else if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else if (a == "--state-dir" && i + 1 < argc) state_dir = argv[++i];
        else {
            std::fprintf(stderr, "usage: latency_bench [--trials N] [--binary PATH] [--state-dir DIR]\n");
            return 64;
        }
    }
    auto tmpl = (state_dir / "crisisd-latency-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    fs::path dir = tmpl;

    crisisd::testing::io_thread io;
    crisisd::net::websocket_server ws(io.executor(), {});
    if (ws.start()) return 1;
    crisisd::testing::http_receiver pager;
    pager.start();
    {
        std::ofstream cfg(dir / "crisisd.yaml");
        cfg << "sources:\n  - { name: stream, type: websocket, url: \"ws://127.0.0.1:" << ws.port() << "/s\" }\n"
            << "channels:\n  - { name: pager, type: webhook, url: \"" << pager.url("/hook") << "\" }\n"
            << "playbooks:\n  - { name: page, steps: [ { notify: [pager] } ] }\n"
            << "admin: { listen: \"127.0.0.1:0\" }\n"
            << "storage: { path: \"" << (dir / "state.db").string() << "\" }\n"
            << "rules:\n  - { name: spike, match: { keywords: [\"zorg\"] }, group_by: source, window: 10m, "
               "baseline: 1h, fire_when: { all: [negative_count >= 3] }, clear_when: { all: [count < 1], for: 1h }, "
               "severity: critical, playbook: page }\n";
    }
    crisisd::testing::child_process d({binary, "run", "--config", (dir / "crisisd.yaml").string()});
    auto admin_port = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 300s);
    if (!admin_port) {
        std::fprintf(stderr, "crisisd did not start:\n%s\n", d.stderr_text().c_str());
        return 1;
    }
    for (int i = 0; i < 1000 && ws.connection_count() == 0; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(200ms);  // the channel's warm-up connection

    std::vector<double> ms;
    int n = 0;
    for (int i = 0; i < trials; ++i) {
        std::string kw = "zorg";
        ws.broadcast(mention(++n, "@a" + std::to_string(i), kw + " is down, terrible awful service", i));
        ws.broadcast(mention(++n, "@b" + std::to_string(i), kw + " outage again, horrible, so angry", i));
        std::this_thread::sleep_for(5ms);
        auto t0 = std::chrono::steady_clock::now();
        ws.broadcast(mention(++n, "@c" + std::to_string(i), kw + " broken, worst disaster ever", i));
        if (!pager.wait_for(static_cast<std::size_t>(i + 1), 5s)) {
            std::fprintf(stderr, "trial %d: no page within 5 s\n%s\n", i, d.stderr_text().c_str());
            return 1;
        }
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        std::this_thread::sleep_for(2ms);
    }
    // crisisd's own view of the two halves: arrival -> incident opened, opened -> channel accepted.
    {
        boost::asio::io_context mio;
        crisisd::net::http_client client(mio.get_executor());
        crisisd::net::http_request req;
        req.method = "GET";
        req.url = "http://127.0.0.1:" + *admin_port + "/metrics";
        auto resp = crisisd::testing::run_sync(mio, client.send(req));
        std::istringstream lines(resp.body);
        for (std::string line; std::getline(lines, line);)
            if (line.rfind("crisisd_detection_latency_seconds_", 0) == 0 ||
                line.rfind("crisisd_delivery_latency_seconds_", 0) == 0)
                if (line.find("_bucket") == std::string::npos) std::printf("  %s\n", line.c_str());
    }
    d.signal(SIGTERM);
    d.wait_exit(10s);
    std::error_code ec;
    fs::remove_all(dir, ec);

    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * ms.size()))]; };
    std::printf("latency_bench: mention -> page request at receiver, %zu incidents, keep-alive connection %s\n",
                ms.size(), pager.connections_accepted() <= 2 ? "reused" : "NOT reused");
    std::printf("  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  (target p99 <= 5 ms)\n", pct(0.50), pct(0.90),
                pct(0.99), ms.back());
    return 0;
}
