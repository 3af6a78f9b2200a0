#pragma once
// One crash trial for the x channel, for the crash_loop tool (`--network x`) and x_channel_test:
// the real crisisd binary posts a statement to a stand-in X that posts it and holds the answer;
// crisisd is SIGKILLed while the request is in flight, then restarted on the same state database.
// X has no idempotency key, so only the look at the account's posts before the re-send keeps it
// to one post. The restart must also present the refresh token X rotated in the first run (kept
// in the state database): the configured one is spent at the stand-in. The trial passes when X
// ends with exactly one post and the step is sent.
#include <signal.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "child_process.hpp"
#include "fakes/fake_x.hpp"
#include "support.hpp"

namespace crisisd::testing {

struct x_crash_result {
    bool ok = false;
    std::string why;
    std::size_t posts = 0;
    int post_calls = 0;
    int timeline_calls = 0;
};

inline x_crash_result run_x_crash_trial(const std::string& binary) {
    using namespace std::chrono_literals;
    namespace fs = std::filesystem;
    x_crash_result out;
    auto tmpl = (fs::temp_directory_path() / "crisisd-x-crash-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        out.why = "mkdtemp failed";
        return out;
    }
    const fs::path dir = tmpl;
    struct cleanup {
        fs::path d;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(d, ec);
        }
    } cleaner{dir};

    fake_x x;
    x.start();
    x.hold_next_answer();
    std::ofstream(dir / "x-refresh-token") << x.first_refresh_token();
    std::ofstream(dir / "x-client-secret") << x.client_secret();
    std::ofstream(dir / "crisisd.yaml") << R"(
sources:
  - { name: ingest, type: http, listen: "127.0.0.1:0", trusted: true }
channels:
  - name: brand-x
    type: x
    base_url: ")" << x.base_url() << R"("
    client_id: ")" << x.client_id() << R"("
    client_secret: "${file:)" << (dir / "x-client-secret").string() << R"(}"
    refresh_token: "${file:)" << (dir / "x-refresh-token").string() << R"(}"
    timeout: 30s
    retry: { initial: 50ms, max: 200ms }
rules:
  - name: outage
    match: { keywords: ["liwest"] }
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [count >= 5, unique_authors >= 3] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: holding
playbooks:
  - { name: holding, steps: [ { statement: { name: holding, channel: brand-x, approval: auto } } ] }
statements:
  - name: holding
    approved_by: "Head of Communications"
    approved_at: "2026-11-01"
    text: { en: "We know about the {topic} outage and are working on it. https://status.liwest.at" }
admin: { listen: "127.0.0.1:0", tokens_file: ")" << write_admin_tokens(dir).string() << R"(" }
storage: { path: ")" << (dir / "state.db").string() << R"(" }
)";
    const std::vector<std::string> argv{binary, "run", "--config", (dir / "crisisd.yaml").string()};
    std::string first_log;
    {
        child_process d(argv);
        auto ingest = d.wait_for_stderr(R"(HTTP ingest on \S+ \(port (\d+))", 20s);
        if (!ingest) {
            out.why = "crisisd did not start: " + d.stderr_text();
            return out;
        }
        std::string body;
        for (int i = 0; i < 6; ++i) {
            boost::json::object o{{"id", "m-" + std::to_string(i)}, {"author", "@angry" + std::to_string(i)}, {"lang", "en"},
                                  {"text", "liwest is down again, terrible"}};
            body += boost::json::serialize(o) + "\n";
        }
        boost::asio::io_context io;
        net::http_client client(io.get_executor());
        net::http_request req;
        req.url = "http://127.0.0.1:" + *ingest + "/api/v1/mentions";
        req.headers.emplace_back("Content-Type", "application/x-ndjson");
        req.body = body;
        if (run_sync(io, client.send(req)).status != 202) {
            out.why = "ingest refused the mentions: " + d.stderr_text();
            return out;
        }
        if (!x.wait_for_post_calls(1, 15s)) {
            out.why = "the statement never reached X: " + d.stderr_text();
            return out;
        }
        // X has posted it and holds the answer: kill now.
        d.signal(SIGKILL);
        d.wait_exit(10s);
        first_log = d.stderr_text();
    }
    x.release();
    {
        child_process d(argv);
        auto admin = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        if (!admin) {
            out.why = "crisisd did not restart: " + d.stderr_text();
            return out;
        }
        const auto port = static_cast<std::uint16_t>(std::stoi(*admin));
        // A restored incident lists no actions: the delivery's outcome is read from /metrics.
        auto sent = [&] {
            return metric(admin_get(port, "/metrics"), R"(crisisd_actions_total{channel="brand-x",outcome="sent"})") == 1;
        };
        const bool done = wait_until(sent, 20s);
        out.posts = x.posts().size();
        out.post_calls = x.post_calls();
        out.timeline_calls = x.timeline_calls();
        if (!done) {
            out.why = "after restart the statement was not sent (posts " + std::to_string(out.posts) + ", post requests " +
                      std::to_string(out.post_calls) + ", timeline reads " + std::to_string(out.timeline_calls) +
                      ")\nincidents: " + admin_get(port, "/api/v1/incidents") + "\nfirst run:\n" + first_log +
                      "\nsecond run:\n" + d.stderr_text();
            return out;
        }
        if (out.posts != 1) {
            out.why = std::to_string(out.posts) + " posts on X\n" + d.stderr_text();
            return out;
        }
        d.signal(SIGTERM);
        d.wait_exit(10s);
    }
    out.ok = true;
    return out;
}

}  // namespace crisisd::testing
