// Issue 11, findings 3 and 5, through the real binary: nothing a mention says reaches a posted
// statement; statement caps hold on every channel (a webhook included) without being configured;
// a rule opens a bounded number of incidents per hour; and old posts never answer for new ones —
// a state database created anew is a new instance whose keys no destination has seen, and lost
// meta rows do not number a new incident like an old one.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "fakes/fake_apis.hpp"
#include "fakes/http_receiver.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::temp_dir;
using crisisd::testing::wait_until;

// One mention in the generic wire format, with the fields a sender chooses.
std::string wire_mention(const std::string& id, const std::string& author, const std::string& lang,
                         const std::string& source, const std::string& text) {
    json::object o;
    o["id"] = id;
    o["author"] = author;
    o["lang"] = lang;
    if (!source.empty()) o["source"] = source;
    o["text"] = text;
    return json::serialize(o);
}

// The status of one POST of `lines` (NDJSON) to the ingest source.
int post_mentions(std::uint16_t port, const std::vector<std::string>& lines) {
    std::string body;
    for (const auto& l : lines) body += l + "\n";
    return crisisd::testing::post_mentions(port, body).status;
}

// `n` mentions of acme from distinct authors, each `lang` and claiming `source`.
std::vector<std::string> storm(const std::string& prefix, int n, const std::string& lang, const std::string& source = "") {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i)
        out.push_back(wire_mention(prefix + std::to_string(i), "@user" + prefix + std::to_string(i), lang, source,
                                   "acme is down again, terrible outage"));
    return out;
}

// Writes the test's config: `sections` after an HTTP ingest source (crisisd::testing::write_config
// adds the admin listener and the state database).
void write_config(const temp_dir& d, const std::string& sections) {
    crisisd::testing::write_config(d.path,
                                   "sources:\n  - { name: ingest, type: http, listen: \"127.0.0.1:0\" }\n" + sections);
}

// A rule that fires on five mentions in ten seconds.
std::string rule(const std::string& name, const std::string& extra) {
    return "  - name: " + name +
           "\n"
           "    window: 10s\n"
           "    baseline: 1h\n"
           "    min_baseline_rate: 1\n"
           "    fire_when: { all: [count >= 5] }\n"
           "    clear_when: { all: [count < 1], for: 1h }\n" +
           extra;
}

const std::string statement_library =
    "statements:\n" + crisisd::testing::approved_statement("outage", "We know about the {topic} outage.");

// `rules`, whose playbook "holding" posts the outage statement to the webhook "site" at `url`.
std::string holding_on_site(const std::string& url, const std::string& rules) {
    return "channels:\n"
           "  - { name: site, type: webhook, url: \"" +
           url + "\", retry: { initial: 20ms, max: 100ms } }\n"
                 "rules:\n" +
           rules +
           "playbooks:\n"
           "  - { name: holding, steps: [ { statement: { name: outage, channel: site, approval: auto } } ] }\n" +
           statement_library;
}

struct running {
    child_process d;
    std::uint16_t admin = 0;
    std::uint16_t ingest = 0;
    explicit running(const temp_dir& dir) : d(crisisd::testing::crisisd_run(dir.path)) {}
    bool started() {
        admin = d.wait_for_port(crisisd::testing::console_line, 60s);
        ingest = d.wait_for_port(crisisd::testing::ingest_line("ingest"), 10s);
        return admin != 0 && ingest != 0;
    }
    json::array incidents() { return json::parse(admin_get(admin, "/api/v1/incidents")).at("incidents").as_array(); }
    void stop() {
        d.terminate(15s);
    }
};

// Every step of every incident has been decided (posted and delivered, or skipped).
bool settled(const json::array& incidents, std::size_t expected) {
    if (incidents.size() != expected) return false;
    for (const auto& inc : incidents) {
        for (const auto& st : inc.at("steps").as_array()) {
            const auto state = st.at("state").as_string();
            if (state == "skipped") continue;
            if (state != "emitted") return false;
            const auto* status = st.as_object().if_contains("status");
            if (status == nullptr || status->as_string() != "sent") return false;
        }
    }
    return true;
}

// The attack's config: {topic} with group_by lang and no listed languages, so one POST with
// "lang": "CEO-arrested" would be posted in the company's name. check-config refuses it at the
// placeholder (the golden bad/topic_from_wire.yaml has the whole text).
TEST(abuse_statements, check_config_refuses_a_topic_that_a_mention_could_write) {
    temp_dir d;
    write_config(d, holding_on_site("http://127.0.0.1:9/hook", rule("acme-outage", "    match: { keywords: [acme] }\n"
                                                                                  "    group_by: [topic, lang]\n"
                                                                                  "    playbook: holding\n")));
    child_process check({CRISISD_BINARY, "check-config", "--config", crisisd::testing::config_path(d.path).string()});
    EXPECT_EQ(check.wait_exit(30s).value_or(-1), 78);
    EXPECT_NE(check.stderr_text().find("uses {topic}, but rule 'acme-outage', whose playbook 'holding' posts it, groups "
                                       "by lang without listing its languages"),
              std::string::npos)
        << check.stderr_text();
}

// A config that passes: one rule keys by source, one by its listed languages. The sender claims
// a source "acme/CEO-arrested" and the language "en-CEO-arrested" (which "en" takes); no posted
// statement carries either. The listed-language rule posts its configured key; the source rule
// posts the configured source name, or, where the wire's source reached the key, nothing (its
// history says why).
TEST(abuse_statements, a_wire_value_never_reaches_a_posted_statement) {
    temp_dir d;
    crisisd::testing::http_receiver site;
    site.start();
    write_config(d, holding_on_site(site.url("/hook"),
                                    rule("by-source", "    match: { keywords: [acme] }\n"
                                                      "    group_by: source\n"
                                                      "    playbook: holding\n") +
                                        rule("by-language", "    match: { keywords: [acme], languages: [en] }\n"
                                                            "    group_by: [topic, lang]\n"
                                                            "    playbook: holding\n")));
    child_process check({CRISISD_BINARY, "check-config", "--config", crisisd::testing::config_path(d.path).string()});
    ASSERT_EQ(check.wait_exit(30s).value_or(-1), 0) << check.stderr_text();

    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    ASSERT_EQ(post_mentions(r.ingest, storm("w", 10, "en-CEO-arrested", "acme/CEO-arrested")), 202);
    json::array incidents;
    ASSERT_TRUE(wait_until(
        [&] {
            incidents = r.incidents();
            return settled(incidents, 2);
        },
        20s))
        << json::serialize(incidents) << r.d.stderr_text();
    for (const auto& req : site.requests()) {
        EXPECT_EQ(req.body.find("CEO"), std::string::npos) << req.body;
        EXPECT_EQ(req.body.find("arrested"), std::string::npos) << req.body;
    }
    bool language_posted = false;
    for (const auto& inc : incidents) {
        const auto& step = inc.at("steps").as_array().at(0);
        if (inc.at("rule").as_string() == "by-language") {
            EXPECT_EQ(inc.at("key").as_string(), "acme/en") << "keyed by the listed language, not the wire's tag";
            EXPECT_EQ(step.at("text").as_string(), "We know about the acme/en outage.");
            language_posted = step.at("state").as_string() == "emitted";
        } else if (step.at("state").as_string() == "skipped") {
            const auto history = json::serialize(inc.at("history"));
            EXPECT_NE(history.find("has no value for {topic}"), std::string::npos) << history;
        } else {
            EXPECT_EQ(step.at("text").as_string(), "We know about the ingest outage.");
        }
    }
    EXPECT_TRUE(language_posted);
    r.stop();
}

// A webhook that a statement step posts to, with no statements_per_hour in its config: the
// seventh statement within the hour is a dead letter that says why.
TEST(abuse_statements, a_webhook_takes_six_statements_an_hour_unless_configured_otherwise) {
    temp_dir d;
    crisisd::testing::http_receiver site;
    site.start();
    write_config(d, holding_on_site(site.url("/hook"),
                                    rule("acme-outage",
                                         "    match: { keywords: [acme], languages: [de, en, fr, it, es, nl, pt] }\n"
                                         "    group_by: [topic, lang]\n"
                                         "    playbook: holding\n")));
    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    std::vector<std::string> lines;
    for (std::string lang : {"de", "en", "fr", "it", "es", "nl", "pt"})
        for (auto& l : storm(lang, 5, lang)) lines.push_back(std::move(l));
    ASSERT_EQ(post_mentions(r.ingest, lines), 202);
    std::string dead;
    EXPECT_TRUE(wait_until(
        [&] {
            dead = admin_get(r.admin, "/api/v1/dead-letters");
            return dead.find("statement cap of 6 per hour reached on channel site") != std::string::npos;
        },
        20s))
        << dead << r.d.stderr_text();
    EXPECT_EQ(site.count(), 6u);
    EXPECT_EQ(r.incidents().size(), 7u);
    r.stop();
}

// max_incidents_per_hour: three keys fire, two open incidents, the third is refused and said so.
TEST(abuse_statements, a_rule_opens_at_most_its_max_incidents_per_hour) {
    temp_dir d;
    write_config(d, "channels:\n"
                    "  - { name: log, type: log }\n"
                    "rules:\n" +
                        rule("acme-outage", "    match: { keywords: [acme], languages: [de, en, fr] }\n"
                                            "    group_by: [topic, lang]\n"
                                            "    max_incidents_per_hour: 2\n"
                                            "    playbook: page\n") +
                        "playbooks:\n"
                        "  - { name: page, steps: [ { notify: [log] } ] }\n");
    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    std::vector<std::string> lines;
    for (std::string lang : {"de", "en", "fr"})
        for (auto& l : storm(lang, 5, lang)) lines.push_back(std::move(l));
    ASSERT_EQ(post_mentions(r.ingest, lines), 202);
    EXPECT_TRUE(r.d.wait_for_stderr("rule acme-outage: 2 incidents opened in the last hour, its "
                                    "max_incidents_per_hour; key acme/fr and further keys open no incident",
                                    20s))
        << r.d.stderr_text();
    EXPECT_EQ(r.incidents().size(), 2u);
    EXPECT_GE(crisisd::testing::metric(admin_get(r.admin, "/metrics"),
                                       R"(crisisd_incidents_suppressed_total{reason="max_incidents_per_hour",rule="acme-outage"})"),
              1.0);
    r.stop();
}

// The state database is deleted between two runs. The second run says it created a new one, and
// its incident 1 posts its statement: the fake Mastodon, like Mastodon, answers a key it has seen
// with the old status, so a reused key would have "posted" nothing new.
TEST(abuse_statements, a_recreated_state_database_never_reuses_an_old_posts_key) {
    temp_dir d;
    crisisd::testing::fake_mastodon mastodon("brand-token");
    mastodon.start();
    std::ofstream(d.path / "token") << "brand-token";
    write_config(d, "channels:\n"
                    "  - { name: brand, type: mastodon, base_url: \"" +
                        mastodon.base_url() + "\", token: \"${file:" + (d.path / "token").string() +
                        "}\", retry: { initial: 20ms, max: 100ms } }\n"
                        "rules:\n" +
                        rule("acme-outage", "    match: { keywords: [acme] }\n"
                                            "    playbook: holding\n") +
                        "playbooks:\n"
                        "  - { name: holding, steps: [ { statement: { name: outage, channel: brand, "
                        "approval: auto } } ] }\n" +
                        statement_library);
    {
        running r(d);
        ASSERT_TRUE(r.started()) << r.d.stderr_text();
        EXPECT_TRUE(r.d.wait_for_stderr("created a new state database at " + (d.path / "state.db").string() +
                                            R"( \(instance [0-9a-f]{32}\))",
                                        1s));
        ASSERT_EQ(post_mentions(r.ingest, storm("a", 6, "en")), 202);
        ASSERT_TRUE(mastodon.wait_for_requests(1, 20s)) << r.d.stderr_text();
        ASSERT_TRUE(wait_until([&] { return settled(r.incidents(), 1); }, 10s));
        r.stop();
    }
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(d.path / ("state.db" + std::string(suffix)));
    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    EXPECT_TRUE(r.d.wait_for_stderr("created a new state database at", 1s)) << r.d.stderr_text();
    ASSERT_EQ(post_mentions(r.ingest, storm("b", 6, "en")), 202);
    ASSERT_TRUE(mastodon.wait_for_requests(2, 20s)) << r.d.stderr_text();
    json::array incidents;
    ASSERT_TRUE(wait_until(
        [&] {
            incidents = r.incidents();
            return settled(incidents, 1);
        },
        10s));
    EXPECT_EQ(incidents.at(0).at("id").as_int64(), 1) << "numbering starts again with the new database";
    const auto statuses = mastodon.statuses();
    ASSERT_EQ(statuses.size(), 2u) << "the new incident 1 is posted, not answered with the old post";
    EXPECT_NE(statuses[0].idempotency_key, statuses[1].idempotency_key);
    r.stop();
}

// One rule paging a webhook on every incident, and a first run whose incident 1 is paged: the
// state database the two tests below then take apart.
void page_incident_one(const temp_dir& d, crisisd::testing::http_receiver& pager) {
    write_config(d, "channels:\n"
                    "  - { name: pager, type: webhook, url: \"" +
                        pager.url("/page") +
                        "\", retry: { initial: 20ms, max: 100ms } }\n"
                        "rules:\n" +
                        rule("acme-outage", "    match: { keywords: [acme] }\n"
                                            "    playbook: page\n") +
                        "playbooks:\n"
                        "  - { name: page, steps: [ { notify: [pager] } ] }\n");
    {
        running r(d);
        ASSERT_TRUE(r.started()) << r.d.stderr_text();
        ASSERT_EQ(post_mentions(r.ingest, storm("a", 6, "en")), 202);
        ASSERT_TRUE(pager.wait_for(1, 20s)) << r.d.stderr_text();
        r.stop();
    }
}

// The meta rows (and incident snapshots) are lost between two runs, the outbox kept: the next
// incident is numbered after the ones the outbox holds, so its page goes out and is not refused
// as a "duplicate" of incident 1's.
TEST(abuse_statements, lost_meta_rows_do_not_number_a_new_incident_like_an_old_one) {
    temp_dir d;
    crisisd::testing::http_receiver pager;
    pager.start();
    page_incident_one(d, pager);
    if (::testing::Test::HasFatalFailure()) return;
    // What an ops person with the sqlite3 shell (or a partial restore) does to the state.
    const fs::path shell = "/usr/bin/sqlite3";
    if (!fs::exists(shell)) GTEST_SKIP() << "no " << shell;
    child_process wipe({shell.string(), (d.path / "state.db").string(), "DELETE FROM meta; DELETE FROM incidents;"});
    ASSERT_EQ(wipe.wait_exit(10s).value_or(-1), 0) << wipe.stderr_text();
    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    ASSERT_EQ(post_mentions(r.ingest, storm("b", 6, "en")), 202);
    EXPECT_TRUE(pager.wait_for(2, 20s)) << "the second incident's page was dropped\n" << r.d.stderr_text();
    json::array incidents;
    ASSERT_TRUE(wait_until(
        [&] {
            incidents = r.incidents();
            return settled(incidents, 1);
        },
        10s))
        << json::serialize(incidents);
    EXPECT_EQ(incidents.at(0).at("id").as_int64(), 2);
    EXPECT_EQ(admin_get(r.admin, "/api/v1/dead-letters"), R"({"dead_letters":[]})");
    r.stop();
}

}  // namespace

namespace {

// An outbox row that claims the key incident 2's page will have, as a state database stitched
// together from pieces could hold: the second incident's page is then an unexpected duplicate.
// It is not sent (its key may be an old page's at the destination), and not dropped silently
// either: an error in the log and a dead letter that says why.
TEST(abuse_statements, an_unexpected_duplicate_action_is_an_error_and_a_dead_letter) {
    temp_dir d;
    crisisd::testing::http_receiver pager;
    pager.start();
    page_incident_one(d, pager);
    if (::testing::Test::HasFatalFailure()) return;
    const fs::path shell = "/usr/bin/sqlite3";
    if (!fs::exists(shell)) GTEST_SKIP() << "no " << shell;
    child_process forge({shell.string(), (d.path / "state.db").string(),
                         "INSERT INTO actions(key, incident_id, channel, kind, payload, state, created_us, "
                         "next_attempt_us) VALUES('2/open/0/pager', 0, 'pager', 'notify', '{}', 'sent', 0, 0);"
                         "DELETE FROM incidents; DELETE FROM meta;"});
    ASSERT_EQ(forge.wait_exit(10s).value_or(-1), 0) << forge.stderr_text();
    running r(d);
    ASSERT_TRUE(r.started()) << r.d.stderr_text();
    ASSERT_EQ(post_mentions(r.ingest, storm("b", 6, "en")), 202);
    EXPECT_TRUE(r.d.wait_for_stderr("incident 2: not sent: the outbox already holds an action with key 2/open/0/pager",
                                    20s))
        << r.d.stderr_text();
    std::string dead;
    EXPECT_TRUE(wait_until(
        [&] {
            dead = admin_get(r.admin, "/api/v1/dead-letters");
            return dead.find("the outbox already holds an action with key 2/open/0/pager") != std::string::npos;
        },
        10s))
        << dead;
    EXPECT_EQ(pager.count(), 1u);
    EXPECT_EQ(crisisd::testing::metric(admin_get(r.admin, "/metrics"), "crisisd_outbox_duplicate_actions_total"), 1.0);
    r.stop();
}

}  // namespace
