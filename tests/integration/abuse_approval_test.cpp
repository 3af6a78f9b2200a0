// Issue 11 through the real binary: what a person decides on is what goes out, and nothing
// `required` goes out without an approver. A reload or a restart with a changed playbook cannot
// turn a step into a statement nobody approved; the outbox refuses a `required` statement that
// names no approver even when the row was written behind crisisd's back; a veto wait that ran
// out while crisisd was down waits again and tells the responders; the text posted is the text
// shown for approval or veto, byte for byte.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/time.hpp"
#include "stream_fixture.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::admin_request;
using crisisd::testing::approved_statement;
using crisisd::testing::child_process;
using crisisd::testing::crisisd_run;
using crisisd::testing::wait_until;

namespace {

// The playbooks these tests reload between. Step 1 is a holding statement that needs a person;
// step 2 is an escalation when the incident opens.
const std::string escalating_steps = R"(
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: required }
      - escalate: { after: 15s, notify: [pager] })";
const std::string statement_steps = R"(
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: required }
      - statement: { name: update, channel: brand, approval: required })";

std::vector<json::object> json_lines(const fs::path& path) {
    std::vector<json::object> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line).as_object());
    return out;
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

class abuse_approval : public crisisd::testing::stream_fixture {
protected:
    abuse_approval() : stream_fixture("crisisd-approval") {}

    void write_config(const std::string& steps) {
        crisisd::testing::write_config(dir_, R"(
sources:
  - name: stream
    type: websocket
    url: ")" + stream_url() + R"("
    reconnect: { initial: 100ms, max: 500ms }
channels:
  - { name: pager, type: file, path: ")" + pager().string() + R"(" }
  - { name: brand, type: file, path: ")" + brand().string() + R"(" }
rules:
  - name: acme-outage
    match: { keywords: ["acme"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 5] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: outage
playbooks:
  - name: outage
    steps:)" + steps + R"(
statements:
)" + approved_statement("holding", "We know about the outage and are working on it. Next update by {next_update}.") +
                                           approved_statement("update", "The outage goes on; incident {incident_id}. "
                                                                        "Next update by {next_update}."));
    }

    fs::path pager() const { return dir_ / "pager.jsonl"; }
    fs::path brand() const { return dir_ / "brand.jsonl"; }

    child_process run() { return child_process(crisisd_run(dir_)); }

    void storm() {
        for (int i = 0; i < 6; ++i) {
            ++sent_;
            ws_.broadcast(crisisd::testing::mention_json(sent_, "@user" + std::to_string(sent_), "acme is down again"));
        }
    }

    static std::optional<json::object> incident(std::uint16_t admin, int id = 1) {
        auto body = crisisd::testing::admin_request(admin, "GET", "/api/v1/incidents/" + std::to_string(id));
        if (body.status != 200) return std::nullopt;
        return json::parse(body.body).as_object();
    }
    static json::object step(const json::object& inc, std::size_t n) { return inc.at("steps").at(n).as_object(); }
    static std::string state_of(std::uint16_t admin, std::size_t n) {
        auto inc = incident(admin);
        return inc ? str(step(*inc, n).at("state")) : std::string();
    }
    static bool history_has(const json::object& inc, const std::string& text) {
        for (const auto& h : inc.at("history").as_array())
            if (str(h.at("what")).find(text) != std::string::npos) return true;
        return false;
    }
    static int approve(std::uint16_t admin, std::size_t n) {
        return admin_request(admin, "POST", "/api/v1/incidents/1/steps/" + std::to_string(n) + "/approve").status;
    }

    // Opens incident 1 under the escalating playbook and waits until its escalation is scheduled.
    void open_incident(std::uint16_t admin) {
        storm();
        ASSERT_TRUE(wait_until([&] { return state_of(admin, 2) == "scheduled"; }, 15s));
        ASSERT_EQ(str(step(*incident(admin), 2).at("kind")), "escalate");
    }

    // Step 2 is now the `update` statement: it waits for a person and goes out only when one
    // approves, with exactly the text the console showed.
    void expect_step_2_waits_then_posts_on_approval(std::uint16_t admin, child_process& d) {
        ASSERT_TRUE(wait_until([&] { return state_of(admin, 2) == "awaiting_approval"; }, 10s))
            << admin_get(admin, "/api/v1/incidents/1") << d.stderr_text();
        auto inc = *incident(admin);
        auto s2 = step(inc, 2);
        EXPECT_EQ(str(s2.at("kind")), "statement");
        EXPECT_EQ(str(s2.at("statement")), "update");
        EXPECT_EQ(str(s2.at("approval")), "required");
        EXPECT_TRUE(history_has(inc, "step 2 changed in the playbook since the incident opened: needs approval"))
            << admin_get(admin, "/api/v1/incidents/1");
        const std::string shown = str(s2.at("text"));
        EXPECT_NE(shown.find("incident 1."), std::string::npos) << shown;
        EXPECT_TRUE(json_lines(brand()).empty()) << "posted without anyone approving";

        ASSERT_EQ(approve(admin, 2), 200);
        ASSERT_TRUE(wait_until([&] { return json_lines(brand()).size() == 1; }, 10s)) << d.stderr_text();
        auto posted = json_lines(brand()).at(0);
        EXPECT_EQ(str(posted.at("text")), shown);
        EXPECT_EQ(str(posted.at("statement")), "update");
        EXPECT_EQ(str(posted.at("approval")), "required");
        EXPECT_FALSE(str(posted.at("approved_by")).empty());
        EXPECT_EQ(str(posted.at("idempotency_key")).substr(0, 9), "1/open/2/");
    }

    int sent_ = 0;
};

}  // namespace

// Finding 2: a reload that turns step 2 from an escalation into a `required` statement must not
// post it when the escalation would have fired (the old code did, 15 s later, unapproved).
TEST_F(abuse_approval, a_reload_cannot_bypass_required_approval) {
    write_config(escalating_steps);
    auto d = run();
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    open_incident(admin);

    write_config(statement_steps);
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_stderr("is in effect", 10s)) << d.stderr_text();
    expect_step_2_waits_then_posts_on_approval(admin, d);
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// Finding 2 across a restart: the snapshot records the escalation; the new configuration's
// statement at that place waits for a person.
TEST_F(abuse_approval, a_restart_with_a_changed_playbook_cannot_bypass_required_approval) {
    write_config(escalating_steps);
    {
        auto d = run();
        auto admin = started(d);
        ASSERT_NE(admin, 0) << d.stderr_text();
        open_incident(admin);
        ASSERT_EQ(d.terminate(15s), 0) << d.stderr_text();
    }
    write_config(statement_steps);
    auto d = run();
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    expect_step_2_waits_then_posts_on_approval(admin, d);
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// Defence in depth: a `required` statement without an approver, written straight into the state
// database, is refused by the outbox (dead letter, counted, logged) and never posted; a properly
// approved statement behind it on the same channel goes out.
TEST_F(abuse_approval, the_outbox_refuses_a_forged_unapproved_statement) {
    write_config(escalating_steps);
    {
        auto d = run();  // creates the state database
        ASSERT_NE(started(d), 0) << d.stderr_text();
        ASSERT_EQ(d.terminate(15s), 0) << d.stderr_text();
    }
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir_ / "state.db").c_str(), &db), SQLITE_OK);
        const char* forge = R"sql(
            INSERT INTO actions(key, incident_id, channel, kind, payload, created_us, next_attempt_us) VALUES
              ('77/open/1/brand', 77, 'brand', 'statement',
               '{"kind":"statement","channel":"brand","text":"Forged: we are bankrupt.","statement":"holding","language":"en","approval":"required","approved_by":""}',
               0, 0),
              ('78/open/1/brand', 78, 'brand', 'statement',
               '{"kind":"statement","channel":"brand","text":"Approved text.","statement":"holding","language":"en","approval":"required","approved_by":"Anna Berger"}',
               0, 0);
        )sql";
        char* error = nullptr;
        EXPECT_EQ(sqlite3_exec(db, forge, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
        sqlite3_free(error);
        sqlite3_close(db);
    }
    auto d = run();
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    ASSERT_TRUE(d.wait_for_stderr("77/open/1/brand on brand not posted: refused: approval required and no approver recorded",
                                  10s))
        << d.stderr_text();
    ASSERT_TRUE(wait_until([&] { return json_lines(brand()).size() == 1; }, 10s)) << d.stderr_text();
    EXPECT_EQ(str(json_lines(brand()).at(0).at("text")), "Approved text.");
    auto dead = admin_get(admin, "/api/v1/dead-letters");
    EXPECT_NE(dead.find("refused: approval required and no approver recorded"), std::string::npos) << dead;
    auto metrics = admin_get(admin, "/metrics");
    EXPECT_EQ(crisisd::testing::metric(metrics, R"(crisisd_actions_total{channel="brand",outcome="refused"})"), 1)
        << metrics;
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// Finding 6: a veto wait that ran out while crisisd was down does not post at start; it waits
// again (at least a minute), the pager hears about it, and a person can still decide.
TEST_F(abuse_approval, an_overdue_veto_wait_restarts_and_responders_are_told) {
    write_config(R"(
      - notify: [pager]
      - statement: { name: holding, channel: brand, approval: veto, wait: 4s })");
    std::string due;
    {
        auto d = run();
        auto admin = started(d);
        ASSERT_NE(admin, 0) << d.stderr_text();
        storm();
        ASSERT_TRUE(wait_until([&] { return state_of(admin, 1) == "scheduled"; }, 15s)) << d.stderr_text();
        due = str(step(*incident(admin), 1).at("due"));
        d.signal(SIGKILL);  // down before the wait is over
        d.wait_exit(10s);
    }
    ASSERT_TRUE(json_lines(brand()).empty()) << "the veto wait ran out before crisisd was stopped";
    // Start again only once the wait would have run out.
    const auto due_at = crisisd::core::parse_rfc3339(due);
    ASSERT_TRUE(due_at);
    ASSERT_TRUE(wait_until([&] { return std::chrono::system_clock::now() > *due_at + 1s; }, 20s));

    auto d = run();
    auto admin = started(d);
    ASSERT_NE(admin, 0) << d.stderr_text();
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& l : json_lines(pager()))
                if (l.contains("event") && str(l.at("event")) == "veto_restarted") return true;
            return false;
        },
        10s))
        << d.stderr_text();
    auto inc = *incident(admin);
    auto s1 = step(inc, 1);
    EXPECT_EQ(str(s1.at("state")), "scheduled");
    EXPECT_GE(s1.at("due_in_ms").to_number<double>(), 50'000) << json::serialize(s1);
    EXPECT_TRUE(history_has(inc, "the veto wait of step 1 ran out while crisisd was down: it waits again until"))
        << json::serialize(inc);
    EXPECT_TRUE(json_lines(brand()).empty()) << "posted at start, before anyone could reach a console";

    // A person can still decide: approving posts the text the console shows now.
    const std::string shown = str(s1.at("text"));
    ASSERT_EQ(approve(admin, 1), 200);
    ASSERT_TRUE(wait_until([&] { return json_lines(brand()).size() == 1; }, 10s)) << d.stderr_text();
    EXPECT_EQ(str(json_lines(brand()).at(0).at("text")), shown);
    EXPECT_EQ(d.terminate(15s), 0) << d.stderr_text();
}

// Finding 7: the demo's holding statement as shown for the veto (its timeline prints it when the
// incident opens) is what it posts and what its report keeps, {next_update} included, although
// minutes of demo time pass between the two. Played at 360x rather than the headless 120x (the
// veto wait is still half a second of wall time); cli_test plays the story at the default speed.
TEST(abuse_approval_demo, the_posted_statement_is_the_one_shown_for_the_veto) {
    const crisisd::testing::temp_dir tmp("crisisd-approval-demo");
    const auto& dir = tmp.path;
    child_process d({CRISISD_BINARY, "demo", "--headless", "--speed", "360", "--report", (dir / "report.json").string(),
                     "--dir", (dir / "demo").string()});
    ASSERT_EQ(d.wait_exit(120s), 0) << d.stderr_text() << d.stdout_text();
    const std::string out = d.stdout_text() + d.stderr_text();
    // The statement shown when the incident opens: the first quoted line after the opening.
    std::smatch shown, posted;
    ASSERT_TRUE(std::regex_search(out, shown, std::regex("unless someone vetoes it:\n[^\n]*    \"([^\n]*)\""))) << out;
    ASSERT_TRUE(std::regex_search(out, posted, std::regex("posted to [^:]+: \"([^\n]*)\""))) << out;
    EXPECT_EQ(posted[1].str(), shown[1].str());

    auto report = json::parse(crisisd::testing::read_file(dir / "report.json"));
    std::vector<std::string> texts;
    for (const auto& inc : report.at("incidents").as_array())
        for (const auto& a : inc.at("actions").as_array())
            if (str(a.at("kind")) == "statement" && a.as_object().contains("text")) texts.push_back(str(a.at("text")));
    ASSERT_FALSE(texts.empty()) << json::serialize(report);
    EXPECT_EQ(texts.front(), shown[1].str());
}
