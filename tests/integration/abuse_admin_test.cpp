// Issue 11, finding 4, through the real binary: every door of the admin API is closed and every
// command is audited. Reads need a token (401 with WWW-Authenticate), a foreign Host is refused
// (421) before anything else, each role's forbidden calls answer 403, the acting name comes from
// the token (X-Crisisd-User is ignored), the tokens file is hashes with roles, a broken file
// keeps the old tokens and says so, a deleted one revokes them, and the audit log in the state
// database records commands and refusals with name and address.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "stream_fixture.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::approved_statement;
using crisisd::testing::child_process;
using crisisd::testing::crisisd_ctl;
using crisisd::testing::metric;
using crisisd::testing::test_admin_token;
using crisisd::testing::test_token;
using crisisd::testing::wait_until;

const std::string viewer_token = "viewer-token-3f9a1c77e2b84d05a6c1";
const std::string responder_token = "responder-token-8d2e4b19c0a7f356e1b4";
const std::string approver_token = "approver-token-5c7a9e13b2d04f68a9e2";
const std::string short_token = "k";  // its hash is in the file: the length alone refuses it

std::vector<test_token> people() {
    return {{"Vera Viewer", "viewer", viewer_token},
            {"Rita Responder", "responder", responder_token},
            {"Anna Berger", "approver", approver_token},
            {"Kurt Short", "admin", short_token}};
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

// The start of a raw GET (for the event stream, which never ends): status line, headers and
// what came after them, once the first event or a whole error body is in.
std::string raw_get(std::uint16_t port, const std::string& target) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket sock(io);
    sock.connect({asio::ip::address_v4::loopback(), port});
    timeval tv{10, 0};
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
    asio::write(sock, asio::buffer(req));
    std::string got;
    char buf[4096];
    for (;;) {
        boost::system::error_code ec;
        auto n = sock.read_some(asio::buffer(buf), ec);
        if (ec || n == 0) break;
        got.append(buf, n);
        auto head_end = got.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        if (got.find("event: incidents") != std::string::npos) break;
        if (!got.starts_with("HTTP/1.1 200") && got.find("}", head_end) != std::string::npos) break;
    }
    return got;
}

class abuse_admin : public crisisd::testing::stream_fixture {
protected:
    abuse_admin() : stream_fixture("crisisd-abuse-admin") {}

    void SetUp() override {
        stream_fixture::SetUp();
        crisisd::testing::write_admin_tokens(dir_, people());
    }

    void write_config(const std::string& admin_extra = "") {
        crisisd::testing::write_config(dir_, R"(
sources:
  - { name: stream, type: websocket, url: ")" + stream_url() + R"(" }
channels:
  - { name: pager, type: log }
  - { name: brand, type: log }
rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    group_by: topic
    window: 10s
    baseline: 1h
    min_baseline_rate: 1
    fire_when: { all: [negative_count >= 4, negative_ratio >= 0.6] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page-then-ask
playbooks:
  - name: page-then-ask
    steps:
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: required }
statements:
)" + approved_statement("holding", "We know about the outage and are working on it."),
                                       admin_extra);
    }

    // crisisd on the config; port_ is its admin port once it has started (0 when it did not).
    std::unique_ptr<child_process> start() {
        auto d = std::make_unique<child_process>(crisisd::testing::crisisd_run(dir_));
        port_ = started(*d);
        if (port_ == 0) ADD_FAILURE() << d->stderr_text();
        return d;
    }

    // The tokens file the config names.
    fs::path tokens() const { return crisisd::testing::admin_tokens_path(dir_); }

    // Opens incident 1 (a page, then a statement waiting for approval).
    void open_incident(child_process& d) {
        ASSERT_TRUE(wait_until([&] { return ws_.connection_count() == 1; }, 10s)) << d.stderr_text();
        for (int i = 0; i < 8; ++i)
            ws_.broadcast(crisisd::testing::mention_json(i, "@angry" + std::to_string(i),
                                                          "acme outage again, this is terrible and awful!"));
        ASSERT_TRUE(wait_until([&] { return admin_request(port_, "GET", "/api/v1/incidents/1").status == 200; }, 15s))
            << d.stderr_text();
    }

    int status(const std::string& method, const std::string& path, const std::string& token,
               const std::string& body = {}) {
        return admin_request(port_, method, path, body, token).status;
    }

    boost::json::array audit() {
        auto r = admin_request(port_, "GET", "/api/v1/audit?limit=200");
        EXPECT_EQ(r.status, 200) << r.body;
        return boost::json::parse(r.body).at("audit").as_array();
    }

    static bool has_entry(const boost::json::array& log, const std::string& who, const std::string& action,
                          const std::string& outcome_part) {
        for (const auto& e : log) {
            const auto& o = e.as_object();
            if (o.at("who").as_string() == who && o.at("action").as_string() == action &&
                std::string(o.at("outcome").as_string()).find(outcome_part) != std::string::npos &&
                o.at("address").as_string() == "127.0.0.1")
                return true;
        }
        return false;
    }

    std::uint16_t port_ = 0;
};

}  // namespace

TEST_F(abuse_admin, reads_need_a_token_and_a_foreign_host_is_refused) {
    write_config();
    auto d = start();
    ASSERT_NE(port_, 0);
    open_incident(*d);

    for (std::string path : {"/api/v1/incidents", "/api/v1/incidents/1", "/api/v1/dead-letters", "/api/v1/audit",
                             "/api/v1/session", "/metrics"}) {
        auto r = admin_request(port_, "GET", path, {}, "");
        EXPECT_EQ(r.status, 401) << path << ": " << r.body;
        EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"crisisd\"") << path;
        EXPECT_EQ(r.body.find("acme"), std::string::npos) << path << " leaks: " << r.body;
    }
    // A token whose hash is in the file but which is far too short to be a secret.
    EXPECT_EQ(status("GET", "/api/v1/incidents", short_token), 401);
    EXPECT_EQ(status("GET", "/api/v1/incidents", "not-a-token-anybody-was-given-0000"), 401);
    // What stays open carries no data.
    EXPECT_EQ(admin_request(port_, "GET", "/healthz", {}, "").status, 200);
    EXPECT_EQ(admin_request(port_, "GET", "/", {}, "").status, 200);
    EXPECT_EQ(admin_request(port_, "GET", "/app.js", {}, "").status, 200);

    // The event stream: without a ticket 401; a ticket opens it once.
    EXPECT_TRUE(raw_get(port_, "/api/v1/events").starts_with("HTTP/1.1 401")) << raw_get(port_, "/api/v1/events");
    auto t = admin_request(port_, "POST", "/api/v1/events/ticket", {}, viewer_token);
    ASSERT_EQ(t.status, 200) << t.body;
    std::string ticket(boost::json::parse(t.body).at("ticket").as_string());
    EXPECT_GE(ticket.size(), 22u);
    auto stream = raw_get(port_, "/api/v1/events?ticket=" + ticket);
    EXPECT_TRUE(stream.starts_with("HTTP/1.1 200")) << stream;
    EXPECT_NE(stream.find("event: incidents"), std::string::npos) << stream;
    EXPECT_TRUE(raw_get(port_, "/api/v1/events?ticket=" + ticket).starts_with("HTTP/1.1 401")) << "a ticket is single-use";

    // DNS rebinding: the browser sends the attacker's name as Host; even with a token, refused.
    const std::string foreign = "rebind.attacker.example:" + std::to_string(port_);
    for (std::string path : {"/api/v1/incidents", "/healthz", "/"}) {
        auto r = admin_request(port_, "GET", path, {}, test_admin_token, {{"Host", foreign}});
        EXPECT_EQ(r.status, 421) << path << ": " << r.body;
        EXPECT_EQ(r.body.find("acme"), std::string::npos);
    }
    EXPECT_EQ(admin_request(port_, "GET", "/api/v1/incidents", {}, test_admin_token,
                            {{"Host", "localhost:" + std::to_string(port_)}})
                  .status,
              200);

    auto log = audit();
    EXPECT_TRUE(has_entry(log, "-", "sign-in", "refused: no token")) << boost::json::serialize(log);
    EXPECT_TRUE(has_entry(log, "-", "request", "foreign Host")) << boost::json::serialize(log);
    auto metrics = admin_get(port_, "/metrics");
    EXPECT_GE(metric(metrics, R"(crisisd_admin_refused_total{reason="unauthenticated"})"), 6) << metrics;
    EXPECT_GE(metric(metrics, R"(crisisd_admin_refused_total{reason="host"})"), 3) << metrics;
    d->terminate(10s);
}

TEST_F(abuse_admin, each_role_may_do_only_its_part_and_every_command_is_audited) {
    write_config();
    auto d = start();
    ASSERT_NE(port_, 0);
    open_incident(*d);

    auto session = boost::json::parse(admin_request(port_, "GET", "/api/v1/session", {}, approver_token).body);
    EXPECT_EQ(session.at("name").as_string(), "Anna Berger");
    EXPECT_EQ(session.at("role").as_string(), "approver");

    // viewer: reads, nothing else.
    EXPECT_EQ(status("GET", "/api/v1/incidents", viewer_token), 200);
    EXPECT_EQ(status("GET", "/metrics", viewer_token), 200);
    EXPECT_EQ(status("POST", "/api/v1/incidents/1/ack", viewer_token), 403);
    EXPECT_EQ(status("POST", "/api/v1/silences", viewer_token, R"({"rule":"acme-outage","duration":"1h"})"), 403);
    // A silence key no detector could ever make is refused, not stored and shown for 30 days.
    const std::string huge_key(100000, 'k');
    EXPECT_EQ(status("POST", "/api/v1/silences", responder_token,
                     R"({"rule":"acme-outage","key":")" + huge_key + R"(","duration":"1h"})"),
              400);
    // responder: ack, resolve, silence; never approve or veto.
    EXPECT_EQ(status("POST", "/api/v1/incidents/1/steps/1/approve", responder_token), 403);
    EXPECT_EQ(status("POST", "/api/v1/incidents/1/steps/1/veto", responder_token), 403);
    // approver: decides statements; no dead letters, no audit.
    EXPECT_EQ(status("GET", "/api/v1/dead-letters", approver_token), 403);
    EXPECT_EQ(status("GET", "/api/v1/audit", approver_token), 403);
    EXPECT_EQ(status("GET", "/api/v1/dead-letters", test_admin_token), 200);

    // The acting name is the token's: X-Crisisd-User is ignored.
    auto ack = admin_request(port_, "POST", "/api/v1/incidents/1/ack", {}, responder_token,
                             {{"X-Crisisd-User", "Mallory Forger"}});
    ASSERT_EQ(ack.status, 200) << ack.body;
    auto approve = admin_request(port_, "POST", "/api/v1/incidents/1/steps/1/approve", {}, approver_token,
                                 {{"X-Crisisd-User", "Mallory Forger"}});
    ASSERT_EQ(approve.status, 200) << approve.body;
    auto incident = admin_get(port_, "/api/v1/incidents/1");
    EXPECT_EQ(incident.find("Mallory"), std::string::npos) << incident;
    EXPECT_NE(incident.find("Rita Responder"), std::string::npos) << incident;
    EXPECT_NE(incident.find("Anna Berger"), std::string::npos) << incident;

    auto log = audit();
    EXPECT_TRUE(has_entry(log, "Rita Responder", "ack", "done")) << boost::json::serialize(log);
    EXPECT_TRUE(has_entry(log, "Anna Berger", "approve", "done")) << boost::json::serialize(log);
    EXPECT_TRUE(has_entry(log, "Vera Viewer", "ack", "refused: role viewer")) << boost::json::serialize(log);
    EXPECT_TRUE(has_entry(log, "Anna Berger", "read audit", "refused: role approver")) << boost::json::serialize(log);
    for (const auto& e : log) EXPECT_EQ(std::string(e.at("who").as_string()).find("Mallory"), std::string::npos);

    // A flood of bad tokens from one address is one audit entry a minute, not one per request.
    const auto before = audit().size();
    for (int i = 0; i < 50; ++i) EXPECT_EQ(status("GET", "/api/v1/incidents", "flood-" + std::to_string(i) + "-0000000000000000"), 401);
    EXPECT_LE(audit().size(), before + 1);

    // crisisd ctl audit prints the entries.
    std::ofstream(dir_ / "admin-token") << test_admin_token << "\n";
    const auto url = "http://127.0.0.1:" + std::to_string(port_);
    auto printed = crisisd_ctl({"audit", "--limit", "100"}, url, dir_ / "admin-token");
    EXPECT_EQ(printed.code, 0) << printed.err;
    EXPECT_NE(printed.out.find("Rita Responder"), std::string::npos) << printed.out;
    EXPECT_NE(printed.out.find("incident 1 step 1"), std::string::npos) << printed.out;
    auto denied = crisisd_ctl({"audit"}, url);
    EXPECT_NE(denied.code, 0);
    d->terminate(10s);
}

TEST_F(abuse_admin, tokens_file_broken_keeps_old_set_deleted_revokes_and_ctl_token_add_works) {
    write_config(", metrics_open: true");
    auto d = start();
    ASSERT_NE(port_, 0);
    // metrics_open: a scraper on loopback reads /metrics without a token; nothing else opens.
    EXPECT_EQ(admin_request(port_, "GET", "/metrics", {}, "").status, 200);
    EXPECT_EQ(admin_request(port_, "GET", "/api/v1/incidents", {}, "").status, 401);
    EXPECT_EQ(status("GET", "/api/v1/incidents", responder_token), 200);

    // A hash that is not 64 hex digits: the file is refused as a whole, the old tokens stay.
    std::ofstream(tokens()) << "tokens:\n  - {name: \"Rita Responder\", role: responder, sha256: \"abc123\"}\n";
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_stderr("'sha256' must be 64 hex digits", 10s)) << d->stderr_text();
    ASSERT_TRUE(d->wait_for_stderr("was not loaded .* stay valid", 10s)) << d->stderr_text();
    EXPECT_EQ(status("GET", "/api/v1/incidents", responder_token), 200);
    EXPECT_EQ(metric(crisisd::testing::http_get(port_, "/metrics"), "crisisd_admin_tokens_file_errors_total"), 1);

    // Deleted: every token from it is revoked.
    fs::remove(tokens());
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_stderr("is gone: every token from it is revoked", 10s)) << d->stderr_text();
    EXPECT_EQ(status("GET", "/api/v1/incidents", responder_token), 401);
    EXPECT_EQ(status("GET", "/api/v1/incidents", test_admin_token), 401);

    // ctl token add: a fresh token and the line that grants it.
    auto added = crisisd_ctl({"token", "add", "Nina Night", "responder"});
    ASSERT_EQ(added.code, 0) << added.err;
    std::istringstream lines(added.out);
    std::string line, token, yaml;
    while (std::getline(lines, line)) {
        if (line.starts_with("  - ")) yaml = line;
        else if (!line.empty() && line.front() != '#') token = line;
    }
    EXPECT_GE(token.size(), 43u) << added.out;
    ASSERT_FALSE(yaml.empty()) << added.out;
    EXPECT_EQ(yaml.find(token), std::string::npos) << "only the hash goes into the file";
    const auto loads = count_of(d->stderr_text(), "token(s) from");
    std::ofstream(tokens()) << "tokens:\n" << yaml << "\n";
    d->signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return count_of(d->stderr_text(), "token(s) from") > loads; }, 10s))
        << d->stderr_text();
    auto session = admin_request(port_, "GET", "/api/v1/session", {}, token);
    ASSERT_EQ(session.status, 200) << session.body;
    EXPECT_EQ(boost::json::parse(session.body).at("name").as_string(), "Nina Night");
    EXPECT_EQ(boost::json::parse(session.body).at("role").as_string(), "responder");
    EXPECT_EQ(admin_request(port_, "GET", "/api/v1/audit", {}, token).status, 403);

    // Reloads are in the audit log (read with a new admin token).
    auto admin = crisisd_ctl({"token", "add", "Otto Admin", "admin"});
    std::istringstream more(admin.out);
    std::string admin_token, admin_yaml;
    while (std::getline(more, line)) {
        if (line.starts_with("  - ")) admin_yaml = line;
        else if (!line.empty() && line.front() != '#') admin_token = line;
    }
    std::ofstream(tokens()) << "tokens:\n" << yaml << "\n" << admin_yaml << "\n";
    d->signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return admin_request(port_, "GET", "/api/v1/audit", {}, admin_token).status == 200; }, 10s));
    auto log = boost::json::parse(admin_request(port_, "GET", "/api/v1/audit?limit=50", {}, admin_token).body);
    std::size_t reloads = 0;
    for (const auto& e : log.at("audit").as_array())
        if (e.at("action").as_string() == "reload") ++reloads;
    EXPECT_GE(reloads, 3u) << boost::json::serialize(log);
    d->terminate(10s);
}
