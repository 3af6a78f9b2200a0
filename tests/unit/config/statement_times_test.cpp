// How statements show times: time_zone and next_update_in at the top level, a playbook's own
// first; an unknown zone, an interval out of bounds, {next_update} in a statement posted
// on_resolve and a zone label that contradicts the zone are refused with file:line:col; the
// engine then posts the times as readers in that zone expect them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "support.hpp"
#include "core/time_zone.hpp"
#include "incident/engine.hpp"

namespace {

using crisisd::config::testing::all_errors;
using crisisd::config::testing::playbook;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::config::load_file;
using crisisd::config::load_result;
using crisisd::config::load_string;

// `top` first (one line each); playbook 'internet' posts 'holding' when it opens, 'tv' posts
// 'resolved' when it resolves; `internet` and `tv` are extra lines for each playbook.
// Line numbers with one line of `top`: the de holding text is line 8, the en one line 9, the
// resolved texts lines 14 and 15; the first extra line of 'internet' is line 18.
std::string config(const std::string& top, const std::string& internet = "", const std::string& tv = "",
                   const std::string& resolved_de = "Die Störung ist behoben.") {
    return top +
           "channels: [{name: brand, type: file, path: out.jsonl}]\n"
           "statements:\n"
           "  - name: holding\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text:\n"
           "      de: \"Wir wissen von der Störung bei {topic}. Update bis {next_update} Uhr.\"\n"
           "      en: \"We know about the {topic} outage since {started_at}. Next update by {next_update}.\"\n"
           "  - name: resolved\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text:\n"
           "      de: \"" + resolved_de + "\"\n"
           "      en: \"The outage since {started_at} is over.\"\n"
           "playbooks:\n"
           "  - name: internet\n" +
           internet +
           "    steps: [{statement: {name: holding, channel: brand, approval: auto}}]\n"
           "  - name: tv\n" +
           tv +
           "    steps: [{notify: brand}]\n"
           "    on_resolve: [{statement: {name: resolved, channel: brand, approval: auto}}]\n";
}

TEST(config_statement_times, unset_is_utc_and_30_minutes) {
    const auto r = load_string(config("# nothing\n"), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.config.time_zone.is_utc());
    EXPECT_EQ(r.config.next_update_in, 30min);
    EXPECT_EQ(playbook(r, "internet").time_zone.name(), "UTC");
    EXPECT_EQ(playbook(r, "internet").next_update_in, 30min);
}

TEST(config_statement_times, the_top_level_ones_serve_every_playbook) {
    const auto r = load_string(config("time_zone: Europe/Vienna\nnext_update_in: 1h\n"), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.time_zone.name(), "Europe/Vienna");
    for (const char* name : {"internet", "tv"}) {
        EXPECT_EQ(playbook(r, name).time_zone.name(), "Europe/Vienna") << name;
        EXPECT_EQ(playbook(r, name).next_update_in, 1h) << name;
    }
}

TEST(config_statement_times, a_playbooks_own_come_first) {
    const auto r = load_string(config("time_zone: Europe/Vienna\n", "    time_zone: America/New_York\n    next_update_in: 45m\n",
                                      "    time_zone: UTC\n"),
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(playbook(r, "internet").time_zone.name(), "America/New_York");
    EXPECT_EQ(playbook(r, "internet").next_update_in, 45min);
    EXPECT_TRUE(playbook(r, "tv").time_zone.is_utc());
    EXPECT_EQ(playbook(r, "tv").next_update_in, 30min);
}

TEST(config_statement_times, an_unknown_zone_is_an_error_at_the_value) {
    const std::string dir = crisisd::core::zoneinfo_dir().string();
    const std::string hint = "; 'time_zone' takes an IANA zone name like Europe/Vienna or America/New_York";
    const auto r = load_string(config("time_zone: Europe/Viena\n", "    time_zone: Vienna\n", "    time_zone: Mars/Olympus\n"),
                               "x.yaml");
    ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(), "x.yaml:1:12: error: unknown time zone 'Europe/Viena' (did you mean "
                                       "'Europe/Vienna'?): no such zone in " + dir + hint);
    EXPECT_EQ(r.errors[1].to_string(), "x.yaml:18:16: error: unknown time zone 'Vienna' (did you mean "
                                       "'Europe/Vienna'?): no such zone in " + dir + hint);
    EXPECT_EQ(r.errors[2].to_string(), "x.yaml:21:16: error: unknown time zone 'Mars/Olympus': no such zone in " +
                                           dir + hint);
}

TEST(config_statement_times, names_that_are_no_zone_names_or_no_zones) {
    const auto lower = load_string(config("time_zone: europe/vienna\n"), "x.yaml");
    ASSERT_EQ(lower.errors.size(), 1u) << all_errors(lower);
    EXPECT_NE(lower.errors[0].message.find("(did you mean 'Europe/Vienna'?)"), std::string::npos) << all_errors(lower);
    const auto escape = load_string(config("time_zone: ../../etc/passwd\n"), "x.yaml");
    ASSERT_EQ(escape.errors.size(), 1u) << all_errors(escape);
    EXPECT_NE(escape.errors[0].message.find("unknown time zone '../../etc/passwd'"), std::string::npos);
    EXPECT_NE(escape.errors[0].message.find("not a time-zone name"), std::string::npos) << all_errors(escape);
    const auto table = load_string(config("time_zone: zone.tab\n"), "x.yaml");
    ASSERT_EQ(table.errors.size(), 1u) << all_errors(table);
    EXPECT_EQ(table.errors[0].message, "cannot use time zone 'zone.tab': " +
                                           (crisisd::core::zoneinfo_dir() / "zone.tab").string() + " is not a TZif file");
    const auto list = load_string(config("time_zone: [Europe/Vienna]\n"), "x.yaml");
    EXPECT_EQ(list.errors.size(), 1u) << all_errors(list);
}

TEST(config_statement_times, the_interval_must_be_whole_minutes_from_5m_to_12h) {
    for (const char* good : {"5m", "30m", "1h30m", "12h"}) {
        const auto r = load_string(config(std::string("next_update_in: ") + good + "\n"), "x.yaml");
        EXPECT_TRUE(r.ok()) << good << "\n" << all_errors(r);
    }
    const std::string range = "): {next_update} shows only a time of day, the promise of an update within the next hours";
    const std::vector<std::pair<std::string, std::string>> bad{
        {"0", "'next_update_in' must be longer than 0"},
        {"-5m", "'next_update_in' must be a duration like 30m (got \"-5m\")"},
        {"soon", "'next_update_in' must be a duration like 30m (got \"soon\")"},
        {"4m", "'next_update_in' must be from 5m to 12h (got \"4m\"" + range},
        {"12h1m", "'next_update_in' must be from 5m to 12h (got \"12h1m\"" + range},
        {"1d", "'next_update_in' must be from 5m to 12h (got \"1d\"" + range},
        {"10m30s", "'next_update_in' must be whole minutes, as {next_update} shows them (got \"10m30s\")"},
    };
    for (const auto& [value, message] : bad) {
        const auto r = load_string(config("next_update_in: " + value + "\n"), "x.yaml");
        ASSERT_EQ(r.errors.size(), 1u) << value << "\n" << all_errors(r);
        EXPECT_EQ(r.errors[0].to_string(), "x.yaml:1:17: error: " + message) << value;
    }
    const auto own = load_string(config("", "    next_update_in: 3m\n"), "x.yaml");
    ASSERT_EQ(own.errors.size(), 1u) << all_errors(own);
    EXPECT_EQ(own.errors[0].line, 17);
    EXPECT_EQ(own.errors[0].column, 21);
}

TEST(config_statement_times, next_update_in_an_on_resolve_statement_is_an_error_at_the_placeholder) {
    const auto r = load_string(config("# nothing\n", "", "", "Behoben. Nächstes Update um {next_update}."), "x.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:14:40: error: statement 'resolved' (de) uses {next_update}, but playbook 'tv' posts it "
              "on_resolve, after which no update follows: take {next_update} out of the text or post another "
              "statement there");
    // The same statement posted when an incident opens is fine; on_resolve in another playbook is not.
    std::string both = config("# nothing\n");
    both.replace(both.find("on_resolve: [{statement: {name: resolved"), 40, "on_resolve: [{statement: {name: holding");
    const auto r2 = load_string(both, "x.yaml");
    ASSERT_EQ(r2.errors.size(), 2u) << all_errors(r2);
    EXPECT_EQ(r2.errors[0].line, 8);
    EXPECT_EQ(r2.errors[1].line, 9);
    EXPECT_NE(r2.errors[0].message.find("statement 'holding' (de) uses {next_update}, but playbook 'tv' posts it "
                                        "on_resolve"),
              std::string::npos)
        << all_errors(r2);
}

TEST(config_statement_times, a_zone_label_after_a_time_must_agree_with_the_zone) {
    std::string yaml = config("# nothing\n");
    yaml.replace(yaml.find("Next update by {next_update}."), 29, "Next update by {next_update} UTC.");
    const auto utc = load_string(yaml, "x.yaml");
    ASSERT_EQ(utc.errors.size(), 1u) << all_errors(utc);
    EXPECT_EQ(utc.errors[0].to_string(),
              "x.yaml:9:94: error: statement 'holding' (en) labels {next_update} UTC, which playbook 'internet' already "
              "shows as \"14:30 UTC\" (time zone UTC): remove this 'UTC', or set 'time_zone' to your readers' zone");
    const auto vienna = load_string("time_zone: Europe/Vienna\n" + yaml.substr(yaml.find('\n') + 1), "x.yaml");
    ASSERT_EQ(vienna.errors.size(), 1u) << all_errors(vienna);
    EXPECT_EQ(vienna.errors[0].to_string(),
              "x.yaml:9:94: error: statement 'holding' (en) labels {next_update} UTC, but playbook 'internet' shows it "
              "as Europe/Vienna local time (\"14:30\"): remove this 'UTC'");
    // {started_at} likewise, "(GMT)" too; a word that only starts like a zone is no label.
    std::string started = config("time_zone: Europe/Vienna\n");
    started.replace(started.find("since {started_at}."), 19, "since {started_at} (GMT).");
    const auto gmt = load_string(started, "x.yaml");
    ASSERT_EQ(gmt.errors.size(), 1u) << all_errors(gmt);
    EXPECT_NE(gmt.errors[0].message.find("labels {started_at} GMT"), std::string::npos) << all_errors(gmt);
    std::string word = config("# nothing\n");
    word.replace(word.find("Next update by {next_update}."), 29, "Next update by {next_update} UTCs.");
    EXPECT_TRUE(load_string(word, "x.yaml").ok());
}

TEST(config_statement_times, single_settings_are_set_in_one_file_only) {
    const fs::path dir = fs::path(::testing::TempDir()) / "crisisd_statement_times_once";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "more.yaml") << "time_zone: Europe/Berlin\nnext_update_in: 1h\n";
    std::ofstream(dir / "main.yaml") << "include: [more.yaml]\n" + config("time_zone: Europe/Vienna\n");
    std::ofstream(dir / "main.yaml", std::ios::app) << "next_update_in: 20m\n";
    const auto r = load_file(dir / "main.yaml");
    fs::remove_all(dir);
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    EXPECT_NE(r.errors[0].message.find("'time_zone' is already set at"), std::string::npos) << all_errors(r);
    EXPECT_NE(r.errors[1].message.find("'next_update_in' is already set at"), std::string::npos) << all_errors(r);
}

// What the engine posts from a loaded configuration.
TEST(config_statement_times, the_engine_posts_local_times) {
    // Rules whose keys are the incidents' below: {topic} is only ever a key the configuration forms.
    const auto r = load_string(config("time_zone: Europe/Vienna\nnext_update_in: 45m\n") +
                                   "rules:\n"
                                   "  - {name: liwest, match: {keywords: [Liwest]}, fire_when: {all: [count >= 5]}, "
                                   "playbook: internet}\n"
                                   "  - {name: magenta, match: {keywords: [Magenta]}, fire_when: {all: [count >= 5]}, "
                                   "playbook: internet}\n",
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    crisisd::incident::engine_settings es;
    es.playbooks = r.config.playbooks;
    es.statements = r.config.statements;
    crisisd::incident::engine e(es);
    crisisd::incident::opening o;
    o.rule = "isp-outage";
    o.key = "Liwest";
    o.playbook = "internet";
    o.languages = {{"de", 10}};
    std::vector<crisisd::incident::action> out;
    // 2026-07-15T12:10:00Z is 14:10 CEST.
    e.open(o, crisisd::core::parse_rfc3339("2026-07-15T12:10:00Z").value(), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, "Wir wissen von der Störung bei Liwest. Update bis 14:55 Uhr.");
    o.languages = {{"en", 10}};
    o.key = "Magenta";
    out.clear();
    e.open(o, crisisd::core::parse_rfc3339("2026-12-01T07:59:30Z").value(), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, "We know about the Magenta outage since 08:59. Next update by 09:45.");
}

}  // namespace
