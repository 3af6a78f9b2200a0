// Placeholders whose value comes from configuration: {status_url} is the playbook's status_url,
// else the top-level one; a statement a playbook posts that uses it without either is refused at
// the placeholder, and the engine then posts the configured URL, never "{status_url}".
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "support.hpp"
#include "incident/engine.hpp"

namespace {

using crisisd::config::testing::all_errors;
using crisisd::config::testing::playbook;
using crisisd::config::testing::replace_all;
using crisisd::config::testing::times;
using crisisd::config::testing::scratch;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::config::load_file;
using crisisd::config::load_result;
using crisisd::config::load_string;

// Two playbooks posting the same statement: 'internet' when it opens, 'tv' when it resolves.
// `top` goes first; with one line of it the de text is line 8, the en one line 9.
std::string config(const std::string& top, const std::string& internet_url = "",
                   const std::string& tv_url = "") {
    return top +
           "channels: [{name: brand, type: file, path: out.jsonl}]\n"
           "statements:\n"
           "  - name: holding\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text:\n"
           "      de: \"Störung bei {topic}. Infos: {status_url}\"\n"
           "      en: We know about the outage. Details at {status_url} and {status_url}\n"
           "  - name: plain\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text: {en: \"We know about the {topic} outage.\"}\n"
           "playbooks:\n"
           "  - name: internet\n" +
           (internet_url.empty() ? "" : "    status_url: " + internet_url + "\n") +
           "    steps: [{statement: {name: holding, channel: brand, approval: auto}}]\n"
           "  - name: tv\n" +
           (tv_url.empty() ? "" : "    status_url: " + tv_url + "\n") +
           "    steps: [{notify: brand}]\n"
           "    on_resolve: [{statement: {name: holding, channel: brand, approval: auto}}]\n";
}

TEST(config_status_url, the_top_level_one_serves_every_playbook) {
    const auto r = load_string(config("status_url: https://status.example.at\n"), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.status_url, "https://status.example.at");
    EXPECT_EQ(playbook(r, "internet").status_url, "https://status.example.at");
    EXPECT_EQ(playbook(r, "tv").status_url, "https://status.example.at");
}

TEST(config_status_url, a_playbooks_own_overrides_the_top_level_one) {
    const auto r = load_string(config("status_url: https://status.example.at\n", "https://status.example.at/internet"),
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(playbook(r, "internet").status_url, "https://status.example.at/internet");
    EXPECT_EQ(playbook(r, "tv").status_url, "https://status.example.at");
}

TEST(config_status_url, every_playbook_may_have_its_own_without_a_top_level_one) {
    const auto r = load_string(config("", "https://status.example.at/internet", "http://tv.example.at:8080/status"),
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.status_url, "");
    EXPECT_EQ(playbook(r, "tv").status_url, "http://tv.example.at:8080/status");
}

TEST(config_status_url, missing_is_an_error_at_the_placeholder_for_each_playbook_and_language) {
    const auto r = load_string(config("# no status_url\n"), "x.yaml");
    ASSERT_EQ(r.errors.size(), 4u) << all_errors(r);
    const std::string fix = "has no status URL: set 'status_url' to the status page (like "
                            "https://status.example.com) at the top level or in the playbook";
    EXPECT_EQ(r.errors[0].to_string(), "x.yaml:8:40: error: statement 'holding' (de) uses {status_url}, but playbook "
                                       "'internet', which posts it, " + fix);
    EXPECT_EQ(r.errors[1].to_string(), "x.yaml:8:40: error: statement 'holding' (de) uses {status_url}, but playbook "
                                       "'tv', which posts it, " + fix);
    EXPECT_EQ(r.errors[2].to_string(), "x.yaml:9:48: error: statement 'holding' (en) uses {status_url}, but playbook "
                                       "'internet', which posts it, " + fix);
    EXPECT_EQ(r.errors[3].message.substr(0, 68),
              "statement 'holding' (en) uses {status_url}, but playbook 'tv', which");
}

TEST(config_status_url, only_the_playbook_without_one_is_reported) {
    const auto r = load_string(config("", "https://status.example.at/internet"), "x.yaml");
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    for (const auto& e : r.errors) EXPECT_NE(e.message.find("playbook 'tv'"), std::string::npos) << e.to_string();
}

TEST(config_status_url, a_statement_no_playbook_posts_needs_none) {
    std::string yaml = replace_all(config(""), "name: holding, channel", "name: plain, channel");
    const auto r = load_string(yaml, "x.yaml");
    EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST(config_status_url, must_be_an_http_or_https_url_with_a_host) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"ftp://status.example.at", "must be an http:// or https:// URL, like https://status.example.com"},
        {"status.example.at", "must be an http:// or https:// URL, like https://status.example.com"},
        {"HTTPS//status.example.at", "must be an http:// or https:// URL, like https://status.example.com"},
        {"https://", "needs a host name after https://, like https://status.example.com"},
        {"https:///stoerung", "needs a host name after https://, like https://status.example.com"},
        {"\"https://status.example.at/st rung\"", "must not contain spaces, control characters or any of"},
        {"\"https://status.example.at/{topic}\"", "must not contain spaces, control characters or any of"},
        {"https://ops:pw@status.example.at", "must not carry a user name or password"},
        {"https://status.example.at:http", "has an invalid port after its host"},
        {"\"\"", "must be an http:// or https:// URL"},
    };
    for (const auto& [url, why] : bad) {
        const auto r = load_string("status_url: " + url + "\n" + config(""), "x.yaml");
        ASSERT_FALSE(r.errors.empty()) << url;
        EXPECT_EQ(r.errors[0].line, 1) << url;
        EXPECT_EQ(r.errors[0].column, 13) << url;
        EXPECT_EQ(r.errors[0].message.rfind("'status_url' " + why, 0), 0u) << url << ": " << all_errors(r);
        // An invalid URL is reported once, not again as a missing one for every statement.
        if (url != "\"\"") {
            EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
        }
    }
    for (const std::string good : {"https://status.example.at", "http://status.example.at:8080/a?b=1#now",
                                   "https://[2001:db8::1]/status", "https://störung.example.at/"}) {
        const auto r = load_string("status_url: \"" + good + "\"\n" + config(""), "x.yaml");
        EXPECT_TRUE(r.ok()) << good << ": " << all_errors(r);
        EXPECT_EQ(r.config.status_url, good);
    }
}

TEST(config_status_url, a_playbooks_invalid_url_is_reported_at_it) {
    const auto r = load_string(config("", "mailto:ops@example.at", "https://tv.example.at"), "x.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:15:17: error: 'status_url' must be an http:// or https:// URL, like "
              "https://status.example.com (got \"mailto:ops@example.at\")");
}

TEST(config_status_url, the_top_level_one_may_come_from_an_included_file_but_only_one) {
    scratch s;
    s.write("playbooks/outage.yaml", config(""));
    s.write("site.yaml", "status_url: https://status.example.at\n");
    const auto one = load_file(s.write("crisisd.yaml", "include: [site.yaml, \"playbooks/*.yaml\"]\n"));
    ASSERT_TRUE(one.ok()) << all_errors(one);
    EXPECT_EQ(playbook(one, "tv").status_url, "https://status.example.at");

    const auto two = load_file(
        s.write("crisisd.yaml", "include: [site.yaml, \"playbooks/*.yaml\"]\nstatus_url: https://other.example.at\n"));
    ASSERT_EQ(two.errors.size(), 1u) << all_errors(two);
    EXPECT_EQ(two.errors[0].file, (s.dir() / "site.yaml").string());
    EXPECT_NE(two.errors[0].message.find("'status_url' is already set at "), std::string::npos) << all_errors(two);
}

TEST(config_status_url, a_missing_one_is_reported_in_the_file_of_the_statement) {
    scratch s;
    s.write("statements/holding.yaml", "statements:\n"
                                       "  - name: holding\n"
                                       "    approved_by: Comms\n"
                                       "    approved_at: 2026-11-01\n"
                                       "    text:\n"
                                       "      en: |\n"
                                       "        We know about it.\n"
                                       "        Details: {status_url}\n");
    const auto r = load_file(s.write("crisisd.yaml", "include: [\"statements/*.yaml\"]\n"
                                                     "channels: [{name: brand, type: log}]\n"
                                                     "playbooks:\n"
                                                     "  - name: outage\n"
                                                     "    steps: [{statement: {name: holding, channel: brand, "
                                                     "approval: auto}}]\n"));
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].file, (s.dir() / "statements/holding.yaml").string());
    EXPECT_EQ(r.errors[0].line, 8);
    EXPECT_EQ(r.errors[0].column, 18);
}

// What the engine posts for a loaded config: the configured URL, the playbook's first.
TEST(config_status_url, the_engine_posts_the_configured_url) {
    // Rules whose keys are the incidents' below: {topic} is only ever a key the configuration forms.
    const auto r = load_string(config("status_url: https://status.example.at\n", "https://status.example.at/internet") +
                                   "rules:\n"
                                   "  - {name: internet, match: {keywords: [internet]}, fire_when: {all: [count >= 5]}, "
                                   "playbook: internet}\n"
                                   "  - {name: tv, match: {keywords: [tv]}, fire_when: {all: [count >= 5]}, "
                                   "playbook: tv}\n",
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    namespace incident = crisisd::incident;
    incident::engine_settings es;
    es.playbooks = r.config.playbooks;
    es.statements = r.config.statements;
    incident::engine e(es);
    const auto t0 = crisisd::core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;
    std::vector<incident::action> out;
    for (const std::string pb : {"internet", "tv"}) {
        incident::opening o;
        o.rule = "isp-outage";
        o.key = pb;
        o.severity = incident::severity_level::critical;
        o.playbook = pb;
        o.languages = {{"de", 3}};
        const auto id = e.open(o, t0, out);
        e.resolve(id, "anna", t0 + 1h, out);
    }
    std::vector<std::string> posted;
    for (const auto& a : out)
        if (a.kind == incident::action_kind::statement) posted.push_back(a.text);
    EXPECT_EQ(posted, (std::vector<std::string>{"Störung bei internet. Infos: https://status.example.at/internet",
                                                "Störung bei tv. Infos: https://status.example.at"}));
}

// Mastodon counts any link 23 characters, Bluesky every character of it: the real URL counts.
TEST(config_status_url, the_length_check_counts_the_real_url) {
    const std::string long_url = "https://status.example.at/" + std::string(250, 'x');
    auto yaml = [&](const std::string& type, std::size_t filler) {
        return "status_url: " + long_url + "\n" +
               "channels:\n"
               "  - {name: brand, type: " + type + ", " +
               (type == "mastodon" ? "base_url: \"https://mastodon.example\", token: " : "identifier: brand.example, password: ") +
               "\"${env:CRISISD_TEST_STATUS_TOKEN}\"}\n"
               "playbooks:\n"
               "  - name: outage\n"
               "    steps: [{statement: {name: holding, channel: brand, approval: auto}}]\n"
               "statements:\n"
               "  - {name: holding, approved_by: Comms, approved_at: 2026-11-01, text: {en: \"" +
               times("a", filler) + " {status_url}\"}}\n";
    };
    ::setenv("CRISISD_TEST_STATUS_TOKEN", "x", 1);
    // Mastodon: 476 + 1 + 23 = 500 fits, one more does not.
    const auto fits = load_string(yaml("mastodon", 476), "x.yaml");
    EXPECT_TRUE(fits.ok()) << all_errors(fits);
    const auto over = load_string(yaml("mastodon", 477), "x.yaml");
    ASSERT_EQ(over.errors.size(), 1u) << all_errors(over);
    EXPECT_EQ(over.errors[0].to_string(),
              "x.yaml:8:77: error: statement 'holding' (en) is 501 characters, over the 500-character limit of "
              "mastodon channel 'brand'");
    // Bluesky: a 276-character URL leaves 24 graphemes; "{status_url}" alone would be 12.
    const auto bluesky = load_string(yaml("bluesky", 24), "x.yaml");
    ASSERT_EQ(bluesky.errors.size(), 1u) << all_errors(bluesky);
    EXPECT_NE(bluesky.errors[0].message.find("is 301 graphemes, over the 300-grapheme limit of bluesky channel"),
              std::string::npos)
        << all_errors(bluesky);
}

}  // namespace

namespace {

// A webhook the statement goes to, sources `stream` and `relay`, and `rules` (YAML list items).
std::string topic_config(const std::string& rules, const std::string& channel_extra = "") {
    return "sources:\n"
           "  - { name: stream, type: websocket, url: \"ws://127.0.0.1:9/s\" }\n"
           "  - { name: relay, type: http, listen: \"127.0.0.1:0\" }\n"
           "channels: [{name: site, type: webhook, url: \"https://example.com/hook\"" +
           channel_extra +
           "}]\n"
           "playbooks: [{name: outage, steps: [{statement: {name: holding, channel: site, approval: auto}}]}]\n"
           "statements:\n"
           "  - name: holding\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text: {en: \"We know about the {topic} outage.\"}\n"
           "rules:\n" +
           rules;
}

std::string topic_rule(const std::string& name, const std::string& match, const std::string& group_by) {
    return "  - {name: " + name + ", match: " + match + ", group_by: " + group_by +
           ", fire_when: {all: [count >= 5]}, playbook: outage}\n";
}

}  // namespace

// {topic} takes only the keys the playbook's rules form from configured values: the rule's
// topic, configured (or the rule's listed) source names, listed languages.
TEST(config_topic, a_playbook_knows_every_topic_its_rules_can_form) {
    const auto r = load_string(topic_config(topic_rule("a", "{keywords: [acme]}", "[topic, source]") +
                                            topic_rule("b", "{keywords: [beta], languages: [de, en]}", "[topic, lang]") +
                                            topic_rule("c", "{keywords: [gamma], sources: [relay]}", "source")),
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& topics = playbook(r, "outage").topics;
    ASSERT_TRUE(topics);
    EXPECT_EQ(*topics, (std::vector<std::string>{"acme/stream", "acme/relay", "beta/de", "beta/en", "relay"}));
}

// Grouping by lang without listing languages puts the mention's own tag into {topic}: refused at
// the placeholder, once per rule; the same rule with languages listed is fine.
TEST(config_topic, topic_with_an_unlisted_language_is_refused_at_the_placeholder) {
    const auto r = load_string(topic_config(topic_rule("a", "{keywords: [acme]}", "[topic, lang]") +
                                            topic_rule("b", "{keywords: [acme]}", "lang") +
                                            topic_rule("c", "{keywords: [acme], languages: [en]}", "lang")),
                               "x.yaml");
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    EXPECT_EQ(r.errors[0].line, 10);  // the text line, at "{topic}"
    EXPECT_EQ(r.errors[0].column, 35);
    EXPECT_NE(r.errors[0].message.find("rule 'a'"), std::string::npos) << all_errors(r);
    EXPECT_NE(r.errors[1].message.find("rule 'b'"), std::string::npos) << all_errors(r);
}

// Statement caps: every channel type takes statements_per_hour; without it a channel has 6,
// and 0 (no cap) only when written.
TEST(config_topic, every_channel_has_a_statement_cap_unless_it_says_zero) {
    const auto rules = topic_rule("a", "{keywords: [acme]}", "topic");
    auto r = load_string(topic_config(rules), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.channels.at(0).statements_per_hour, 6);
    r = load_string(topic_config(rules, ", statements_per_hour: 0"), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.channels.at(0).statements_per_hour, 0);
    r = load_string(topic_config(rules, ", statements_per_hour: 20"), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.channels.at(0).statements_per_hour, 20);
    EXPECT_EQ(r.config.rules.at(0).max_incidents_per_hour, 10u);
}

// The engine, given a loaded config, does not post a statement for an incident whose key the
// configuration could not have formed; its history says which placeholder had no value.
TEST(config_topic, the_engine_posts_no_topic_the_configuration_does_not_know) {
    const auto r = load_string(topic_config(topic_rule("a", "{keywords: [acme]}", "[topic, source]")), "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    namespace incident = crisisd::incident;
    incident::engine_settings es;
    es.playbooks = r.config.playbooks;
    es.statements = r.config.statements;
    incident::engine e(es);
    const auto t0 = crisisd::core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;
    std::vector<incident::action> out;
    incident::opening o;
    o.rule = "a";
    o.severity = incident::severity_level::warning;
    o.playbook = "outage";
    o.languages = {{"en", 3}};
    o.key = "acme/CEO-arrested";
    const auto forged = e.open(o, t0, out);
    EXPECT_TRUE(out.empty());
    const auto* inc = e.find(forged);
    ASSERT_NE(inc, nullptr);
    EXPECT_EQ(inc->steps.at(0).state, incident::step_state::skipped);
    EXPECT_NE(inc->history.back().what.find("has no value for {topic}"), std::string::npos) << inc->history.back().what;
    o.key = "acme/relay";
    e.open(o, t0, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, "We know about the acme/relay outage.");
}
