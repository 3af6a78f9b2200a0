// webhook_throughput: how many Facebook comments per second the real crisisd binary takes in
// through a `type: facebook` source — each POST signed (X-Hub-Signature-256, checked before
// parsing), split into changes, and every comment run through parse, score, match and detect.
// Sends batches of --batch comment changes per POST (Meta batches deliveries) over one
// keep-alive connection, then scrapes crisisd_mentions_processed_total until all are through.
// Reports the wall-clock rate and the rate per second of crisisd's own CPU (the steadier number
// on a shared machine); the client's signing and sending are not in crisisd's CPU time.
//
//   webhook_throughput [--binary PATH] [--count N] [--batch N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "child_process.hpp"
#include "ingest/facebook_source.hpp"
#include "net/http_client.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto stat = ss.str();
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

const char* texts[] = {
    "Seit heute früh kein Internet in Linz, die Hotline ist dauerbesetzt. Was ist da los?",
    "Danke für die schnelle Hilfe gestern, der Techniker war super freundlich!",
    "Router blinkt rot, schon wieder. Das ist jetzt das dritte Mal diese Woche, unglaublich.",
    "Is anyone else's connection down? Streaming keeps buffering since this morning.",
    "Wann kommt endlich Glasfaser in unsere Straße? Wir warten seit zwei Jahren.",
};

// One delivery of `n` comment changes with ids from `first`.
std::string batch(std::size_t first, std::size_t n) {
    std::string out = R"({"object":"page","entry":[{"id":"104820508212345","time":1796370000,"changes":[)";
    for (std::size_t i = 0; i < n; ++i) {
        const auto id = std::to_string(first + i);
        if (i) out += ',';
        out += R"({"field":"feed","value":{"from":{"id":")" + std::to_string(7000000 + (first + i) % 5000) +
               R"(","name":"Kundin )" + std::to_string((first + i) % 5000) + R"("},"message":")" +
               texts[(first + i) % 5] + R"(","post_id":"104820508212345_901234567890123","comment_id":"901234567890123_)" +
               id + R"(","created_time":1796370000,"item":"comment","parent_id":"104820508212345_901234567890123","verb":"add"}})";
    }
    out += "]}]}";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string binary = CRISISD_BINARY;
    std::size_t count = 200000, per_batch = 1000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else if (a == "--count" && i + 1 < argc) count = std::stoul(argv[++i]);
        else if (a == "--batch" && i + 1 < argc) per_batch = std::stoul(argv[++i]);
        else {
            std::fprintf(stderr, "usage: webhook_throughput [--binary PATH] [--count N] [--batch N]\n");
            return 64;
        }
    }
    const std::string secret = "bench-app-secret";
    auto dir = crisisd::testing::make_temp_dir("crisisd-webhook-bench");
    std::ofstream(dir / "secret") << secret;
    std::ofstream(dir / "crisisd.yaml") << R"(sources:
  - name: page
    type: facebook
    listen: "127.0.0.1:0"
    max_body_bytes: 67108864
    verify_token: ${file:)" << (dir / "secret").string() << R"(}
    app_secret: ${file:)" << (dir / "secret").string() << R"(}
channels:
  - { name: pager, type: log }
rules:
  - name: outage
    match: { keywords: ["internet", "router", "hotline", "connection"] }
    window: 5m
    baseline: 1h
    fire_when: { all: [negative_count >= 1000000] }
    clear_when: { all: [count < 1], for: 1h }
    playbook: page
playbooks:
  - { name: page, steps: [ { notify: [pager] } ] }
admin: { listen: "127.0.0.1:0", metrics_open: true }
storage: { path: ")" << (dir / "state.db").string() << R"(" }
)";
    crisisd::testing::child_process d({binary, "run", "--config", (dir / "crisisd.yaml").string()});
    auto port = d.wait_for_stderr(R"(Facebook webhook on .* \(port (\d+)\))", 30s);
    auto admin = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 30s);
    if (!port || !admin) {
        std::fprintf(stderr, "crisisd did not start:\n%s\n", d.stderr_text().c_str());
        return 1;
    }
    std::vector<std::pair<std::string, std::string>> bodies;  // body, signature
    for (std::size_t sent = 0; sent < count; sent += per_batch) {
        auto b = batch(sent, std::min(per_batch, count - sent));
        auto sig = crisisd::ingest::hub_signature_256(secret, b);
        bodies.emplace_back(std::move(b), std::move(sig));
    }
    boost::asio::io_context io;
    crisisd::net::http_client client(io.get_executor());
    const double cpu0 = cpu_seconds(d.pid());
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& [body, sig] : bodies) {
        crisisd::net::http_request req;
        req.url = "http://127.0.0.1:" + *port + "/";
        req.headers = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", sig}};
        req.body = body;
        req.timeout = 60s;
        auto r = crisisd::testing::run_sync(io, client.send(std::move(req)));
        if (r.status != 200) {
            std::fprintf(stderr, "POST answered %d: %s\n", r.status, r.body.c_str());
            return 1;
        }
    }
    const auto admin_port = static_cast<std::uint16_t>(std::stoi(*admin));
    double processed = 0;
    crisisd::testing::wait_until(
        [&] {
            processed = crisisd::testing::metric(crisisd::testing::http_get(admin_port, "/metrics"),
                                                 "crisisd_mentions_processed_total");
            return processed >= static_cast<double>(count);
        },
        120s);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds(d.pid()) - cpu0;
    std::printf("webhook_throughput: %.0f comments in %zu signed POSTs of %zu\n", processed, bodies.size(), per_batch);
    std::printf("  wall:  %.3f s -> %.0f comments/s\n", wall, processed / wall);
    std::printf("  cpu:   %.3f s of crisisd (user+sys) -> %.0f comments per CPU-second (target 300000)\n", cpu,
                cpu > 0 ? processed / cpu : 0.0);
    d.signal(SIGTERM);
    d.wait_exit(20s);
    fs::remove_all(dir);
    return processed >= static_cast<double>(count) ? 0 : 1;
}
