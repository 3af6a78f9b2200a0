#pragma once
// One crash trial, shared by the delivery_crash_test and the crash_loop tool: the real crisisd
// binary pages a webhook and posts a statement to a fake network (Mastodon, or a Facebook Page
// through the Graph API) that holds its answer; crisisd is SIGKILLed while the statement
// request is in flight, then restarted on the same state database. The trial passes when the
// network ends with exactly one post and the page arrived at least once. Mastodon's
// Idempotency-Key makes the repeat safe; the Graph API has none, so the restarted crisisd must
// find the post among the Page's posts instead of posting again.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "child_process.hpp"
#include "support.hpp"
#include "fakes/fake_apis.hpp"
#include "fakes/http_receiver.hpp"
#include "fakes/io_thread.hpp"
#include "net/websocket_server.hpp"

namespace crisisd::testing {

struct crash_trial_result {
    bool ok = false;
    std::string why;             // on failure: what went wrong (with crisisd's stderr)
    std::size_t statuses = 0;    // posts on the fake Mastodon
    std::size_t statement_requests = 0;
    std::size_t pages = 0;
};

inline crash_trial_result run_crash_trial(const std::string& binary, const std::string& network = "mastodon") {
    using namespace std::chrono_literals;
    namespace fs = std::filesystem;
    crash_trial_result out;
    const temp_dir tmp("crisisd-crash");
    const fs::path& dir = tmp.path;

    io_thread io;
    net::websocket_server ws(io.executor(), {});
    if (ws.start()) {
        out.why = "websocket server did not start";
        return out;
    }
    http_receiver pager;
    pager.start();
    const bool facebook = network == "facebook";
    fake_mastodon mastodon("brand-token");
    fake_graph graph("104820508212345", "brand-token");
    std::string brand_channel;
    if (facebook) {
        graph.start();
        graph.hold_next(1);
        brand_channel = "    type: facebook\n    base_url: \"" + graph.base_url() + "\"\n    page_id: \"104820508212345\"\n";
    } else {
        mastodon.start();
        mastodon.hold_next(1);
        brand_channel = "    type: mastodon\n    base_url: \"" + mastodon.base_url() + "\"\n";
    }
    auto in_flight = [&](std::chrono::milliseconds t) {
        return facebook ? graph.wait_for_feed_requests(1, t) : mastodon.wait_for_requests(1, t);
    };
    auto release = [&] { facebook ? graph.release() : mastodon.release(); };
    // The restarted daemon asked again: Mastodon with the same key, the Page by reading its posts.
    auto asked_again = [&] { return facebook ? graph.lookups() >= 1 : mastodon.requests() >= 2; };
    auto posts = [&] { return facebook ? graph.posts().size() : mastodon.statuses().size(); };
    auto requests = [&] { return facebook ? graph.feed_requests() : mastodon.requests(); };
    std::ofstream(dir / "token") << "brand-token";
    write_config(dir, R"(
sources:
  - name: stream
    type: websocket
    url: "ws://127.0.0.1:)" + std::to_string(ws.port()) + R"(/stream"
    trusted: true
    reconnect: { initial: 50ms, max: 200ms }
channels:
  - { name: pager, type: webhook, url: ")" + pager.url("/hook") + R"(", retry: { initial: 50ms, max: 200ms } }
  - name: brand
)" + brand_channel + R"(    token: "${file:)" + (dir / "token").string() + R"(}"
    timeout: 30s
    retry: { initial: 50ms, max: 200ms }
rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    group_by: topic
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [negative_count >= 6, unique_authors >= 3, negative_ratio >= 0.6] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page-and-post
playbooks:
  - name: page-and-post
    steps:
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: auto }
statements:
)" + approved_statement("holding", "We know about the {topic} outage and are working on it."));
    std::vector<std::string> argv{binary, "run", "--config", config_path(dir).string()};
    std::string first_log;
    {
        child_process d(argv);
        if (d.wait_for_port(console_line, 20s) == 0 ||
            !wait_until([&] { return ws.connection_count() == 1; }, 10s)) {
            out.why = "crisisd did not start: " + d.stderr_text();
            return out;
        }
        const char* complaints[] = {"acme outage again, this is terrible and awful!",
                                    "acme down for hours. Horrible service, so angry.",
                                    "acme is broken again, worst provider ever. Disgusting."};
        for (int i = 0; i < 10; ++i)
            ws.broadcast(mention_json(i, "@angry" + std::to_string(i % 5), complaints[i % 3]));
        if (!in_flight(15s)) {
            out.why = "the statement never reached " + network + ": " + d.stderr_text();
            return out;
        }
        // The statement request is held by the network (which already posted it): kill now.
        d.signal(SIGKILL);
        d.wait_exit(10s);
        first_log = d.stderr_text();
    }
    release();
    ws.stop();  // the restarted daemon must work from its state database, not from new mentions
    {
        child_process d(argv);
        bool done = wait_until([&] { return asked_again() && pager.count() >= 1; }, 20s);
        // Give a duplicate the chance to show up.
        std::this_thread::sleep_for(100ms);
        out.statuses = posts();
        out.statement_requests = requests();
        out.pages = pager.count();
        if (!done) {
            out.why = "after restart: " + std::to_string(out.statement_requests) + " statement request(s), " +
                      std::to_string(out.pages) + " page(s)\nfirst run:\n" + first_log + "\nsecond run:\n" +
                      d.stderr_text();
            return out;
        }
        if (out.statuses != 1) {
            out.why = std::to_string(out.statuses) + " statuses posted\n" + d.stderr_text();
            return out;
        }
        if (d.stderr_text().find("restored 1 open incident") == std::string::npos) {
            out.why = "the incident was not restored from the state database\n" + d.stderr_text();
            return out;
        }
        bool page_ok = false;
        // "<instance id: 32 hex digits>/1/open/0/pager": the key carries the state database's instance.
        for (const auto& r : pager.requests()) {
            const auto key = r.header("Idempotency-Key");
            page_ok = page_ok || (key.size() == 32 + 15 && key.ends_with("/1/open/0/pager"));
        }
        if (!page_ok) {
            out.why = "the page for incident 1 never arrived";
            return out;
        }
        d.terminate(10s);
    }
    out.ok = true;
    return out;
}

}  // namespace crisisd::testing
