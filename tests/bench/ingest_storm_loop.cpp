// ingest_storm_loop: how long the event loop is away while one HTTP ingest request opens many
// incidents (issue 13, "the event loop blocks"). Through the real binary: one POST of N lines,
// each opening an incident of its own (one rule each), while a second
// thread asks /healthz back to back. Prints the request's wall time, how many /healthz answers
// came while it ran, and their p50/p99/max round trip: with the body in slices and group commits
// the max stays near a slice (~10 ms) plus one commit; before, it was the whole request.
// Wall-clock figures on a shared machine are noisy: compare runs made back to back.
//
//   ingest_storm_loop [--binary PATH] [--lines N]
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/io_thread.hpp"
#include "integration/child_process.hpp"
#include "net/http_client.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

crisisd::net::http_response request(const std::string& method, const std::string& url, std::string body = {}) {
    boost::asio::io_context io;
    crisisd::net::http_client client(io.get_executor());
    crisisd::net::http_request req;
    req.method = method;
    req.url = url;
    req.body = std::move(body);
    req.timeout = 120s;
    return crisisd::testing::run_sync(io, client.send(req));
}

// Counts the lines of the file channel's output until `want` or 30 s.
bool wait_until_pages(const fs::path& file, std::size_t want, std::size_t& seen) {
    const auto end = clock_type::now() + 30s;
    do {
        std::ifstream in(file);
        seen = 0;
        for (std::string line; std::getline(in, line);) ++seen;
        if (seen >= want) return true;
        std::this_thread::sleep_for(50ms);
    } while (clock_type::now() < end);
    return false;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    std::string binary = CRISISD_BINARY;
    int lines = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--binary") binary = argv[i + 1];
        else if (a == "--lines") lines = std::stoi(argv[i + 1]);
    }
    auto dir = fs::temp_directory_path() / ("crisisd-storm-loop-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    {
        std::ofstream cfg(dir / "crisisd.yaml");
        cfg << "sources:\n  - { name: ingest, type: http, listen: \"127.0.0.1:0\", trusted: true }\n"
            << "channels:\n  - { name: pager, type: file, path: \"" << (dir / "pages.jsonl").string() << "\" }\n"
            << "rules:\n";
        // One rule per line's keyword: a rule's key is its topic, so each rule opens one incident.
        for (int i = 0; i < lines; ++i)
            cfg << "  - { name: storm" << i << ", match: { keywords: [\"brand" << i
                << "x\"] }, group_by: topic, window: 10m, baseline: 1h, fire_when: { all: [count >= 1] }, "
                   "clear_when: { all: [count < 1], for: 1h }, severity: critical, playbook: page }\n";
        cfg <<
               "playbooks:\n  - { name: page, steps: [ { notify: [pager] } ] }\n"
               "admin: { listen: \"127.0.0.1:0\" }\n"
            << "storage: { path: \"" << (dir / "state.db").string() << "\" }\n";
    }
    crisisd::testing::child_process d({binary, "run", "--config", (dir / "crisisd.yaml").string()});
    auto ingest = d.wait_for_stderr(R"(source ingest: HTTP ingest on .* \(port (\d+)\))", 30s);
    auto admin = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 30s);
    if (!ingest || !admin) {
        std::fprintf(stderr, "crisisd did not start:\n%s\n", d.stderr_text().c_str());
        return 1;
    }
    std::string body;
    for (int i = 0; i < lines; ++i)
        body += R"({"id":"s-)" + std::to_string(i) + R"(","author":"@a)" + std::to_string(i) +
                R"(","lang":"en","text":"brand)" + std::to_string(i) + "x is down, terrible\"}\n";

    std::atomic<bool> done{false}, posting{false};
    std::vector<double> rtt_ms;  // round trips that began while the request was under way
    std::thread health([&] {
        const std::string url = "http://127.0.0.1:" + *admin + "/healthz";
        while (!done) {
            const bool during = posting;
            const auto t = clock_type::now();
            request("GET", url);
            if (during) rtt_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t).count());
        }
    });
    std::this_thread::sleep_for(200ms);  // the health thread is in its stride
    posting = true;
    const auto started = clock_type::now();
    auto r = request("POST", "http://127.0.0.1:" + *ingest + "/api/v1/mentions", body);
    const double took = std::chrono::duration<double>(clock_type::now() - started).count();
    done = true;
    health.join();
    std::size_t pages = 0;
    const bool opened = wait_until_pages(dir / "pages.jsonl", static_cast<std::size_t>(lines), pages);
    std::printf("lines %d  status %d  request %.3f s  pages written %zu%s\n", lines, r.status, took, pages,
                opened ? "" : " (not all: check the rule)");
    std::printf("reply %.200s\n", r.body.c_str());
    std::printf("healthz answers during it %zu  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", rtt_ms.size(),
                percentile(rtt_ms, 0.5), percentile(rtt_ms, 0.99), percentile(rtt_ms, 1.0));
    d.signal(SIGTERM);
    d.wait_exit(30s);
    fs::remove_all(dir);
    return r.status == 202 ? 0 : 1;
}
