// crash_loop: runs the crash trial (tests/integration/delivery_crash_scenario.hpp) N times —
// SIGKILL the real crisisd while a statement is in flight (to Mastodon, or to a Facebook Page
// through the Graph API), restart, check for exactly one post and a delivered page — and reports
// trials and failures. `--network x` runs the X channel's trial instead
// (tests/integration/x_crash_scenario.hpp: exactly one post on X).
//
//   crash_loop [--trials N] [--binary PATH] [--network mastodon|facebook|x]   exit 0 when no trial failed
#include <cstdio>
#include <cstdlib>
#include <string>

#include "delivery_crash_scenario.hpp"
#include "x_crash_scenario.hpp"

int main(int argc, char** argv) {
    int trials = 20;
    std::string binary = CRISISD_BINARY;
    std::string network = "mastodon";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--trials" && i + 1 < argc) trials = std::atoi(argv[++i]);
        else if (a == "--binary" && i + 1 < argc) binary = argv[++i];
        else if (a == "--network" && i + 1 < argc) network = argv[++i];
        else {
            std::fprintf(stderr, "usage: crash_loop [--trials N] [--binary PATH] [--network mastodon|facebook|x]\n");
            return 64;
        }
    }
    int failures = 0;
    auto started = std::chrono::steady_clock::now();
    for (int t = 1; t <= trials; ++t) {
        if (network == "x") {
            auto r = crisisd::testing::run_x_crash_trial(binary);
            if (!r.ok) {
                ++failures;
                std::fprintf(stderr, "trial %d FAILED: %s\n", t, r.why.c_str());
            }
            std::printf("trial %d: %s (posts=%zu post_requests=%d timeline_reads=%d)\n", t, r.ok ? "ok" : "FAILED",
                        r.posts, r.post_calls, r.timeline_calls);
            std::fflush(stdout);
            continue;
        }
        auto r = crisisd::testing::run_crash_trial(binary, network);
        if (!r.ok) {
            ++failures;
            std::fprintf(stderr, "trial %d FAILED: %s\n", t, r.why.c_str());
        }
        std::printf("trial %d: %s (statuses=%zu statement_requests=%zu pages=%zu)\n", t, r.ok ? "ok" : "FAILED",
                    r.statuses, r.statement_requests, r.pages);
        std::fflush(stdout);
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("crash_loop: network=%s trials=%d failures=%d (%.1f s)\n", network.c_str(), trials, failures, secs);
    return failures == 0 ? 0 : 1;
}
