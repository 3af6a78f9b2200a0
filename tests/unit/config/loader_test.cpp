// Good configurations load into the settings structs the modules consume; loader behaviour
// that golden files cannot show (includes from temp dirs, secrets, ordering, defaults).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"
#include "notify/traits.hpp"
#include "support.hpp"

namespace {

using crisisd::config::testing::all_errors;
using crisisd::config::testing::scratch;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using crisisd::config::load_file;
using crisisd::config::load_result;
using crisisd::config::load_string;

const fs::path good_dir = fs::path(CRISISD_TEST_DATA) / "config" / "good";

TEST(config_loader, single_file_fills_every_section) {
    ::setenv("CRISISD_TEST_TOKEN", "tok-123", 1);
    const auto r = load_file(good_dir / "single.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& c = r.config;

    ASSERT_EQ(c.sources.size(), 2u);
    const auto& ws = c.sources[0];
    EXPECT_EQ(ws.name, "mastodon-stream");
    EXPECT_EQ(ws.type, "websocket");
    EXPECT_EQ(ws.url, "wss://stream.example.social/api/v1/streaming");
    EXPECT_EQ(ws.format, "generic");
    EXPECT_EQ(ws.ca_file, (good_dir / "certs/extra-ca.pem").string());
    EXPECT_EQ(ws.token, "tok-123");
    EXPECT_EQ(ws.max_message_bytes, 65536u);
    EXPECT_EQ(ws.reconnect_initial, 250ms);
    EXPECT_EQ(ws.reconnect_max, 2min);
    EXPECT_EQ(c.sources[1].type, "file");
    EXPECT_EQ(c.sources[1].path, (good_dir / "recorded.jsonl").string());

    ASSERT_EQ(c.channels.size(), 3u);
    const auto& hook = c.channels[0];
    EXPECT_EQ(hook.type, "webhook");
    EXPECT_EQ(hook.url, "https://hooks.example.com/crisisd");
    EXPECT_EQ(hook.headers.at("Authorization"), "Bearer s3cr3t-webhook");  // file secret, newline trimmed
    EXPECT_EQ(hook.headers.at("X-Team"), "ops");
    EXPECT_EQ(hook.timeout, 5s);
    EXPECT_EQ(c.channels[1].path, "/var/lib/crisisd/outbox.jsonl");
    EXPECT_EQ(c.channels[2].type, "log");
    EXPECT_EQ(c.channels[2].timeout, 10s);

    ASSERT_EQ(c.rules.size(), 1u);
    const auto& rule = c.rules[0];
    EXPECT_EQ(rule.name, "isp-outage");
    EXPECT_EQ(rule.match.keywords, (std::vector<std::string>{"liwest", "@liwest", "#liwest"}));
    EXPECT_EQ(rule.match.exclude, (std::vector<std::string>{"gewinnspiel"}));
    EXPECT_EQ(rule.match.languages, (std::vector<std::string>{"de", "en"}));
    EXPECT_EQ(rule.match.sources, (std::vector<std::string>{"mastodon"}));
    namespace detect = crisisd::detect;
    const auto& d = rule.detect;
    EXPECT_EQ(d.group_by, detect::group_topic | detect::group_lang);
    EXPECT_EQ(d.window, 5min);
    EXPECT_EQ(d.baseline, 6h);
    EXPECT_DOUBLE_EQ(d.min_baseline_rate, 0.5);
    EXPECT_DOUBLE_EQ(d.negative_threshold, -0.1);
    EXPECT_EQ(d.max_per_author, 3u);
    EXPECT_EQ(d.max_keys, 500u);
    EXPECT_TRUE(d.fire_when.all);
    EXPECT_EQ(d.fire_when.hold, 1min);
    ASSERT_EQ(d.fire_when.conditions.size(), 4u);
    EXPECT_EQ(d.fire_when.conditions[0].what, detect::metric::negative_count);
    EXPECT_EQ(d.fire_when.conditions[0].op, detect::comparison::ge);
    EXPECT_DOUBLE_EQ(d.fire_when.conditions[0].threshold, 20);
    EXPECT_EQ(d.fire_when.conditions[2].what, detect::metric::negative_ratio);
    EXPECT_DOUBLE_EQ(d.fire_when.conditions[2].threshold, 0.6);
    EXPECT_EQ(d.fire_when.conditions[3].what, detect::metric::volume_ratio);
    EXPECT_FALSE(d.clear_when.all);
    EXPECT_EQ(d.clear_when.hold, 15min);
    ASSERT_EQ(d.clear_when.conditions.size(), 2u);
    EXPECT_EQ(d.clear_when.conditions[0].op, detect::comparison::lt);
    EXPECT_DOUBLE_EQ(d.clear_when.conditions[0].threshold, 1.5);
    EXPECT_EQ(d.clear_when.conditions[1].what, detect::metric::mean_compound);
    EXPECT_EQ(d.clear_when.conditions[1].op, detect::comparison::gt);
    EXPECT_EQ(d.cooldown, 30min);
    EXPECT_EQ(rule.severity, crisisd::incident::severity_level::critical);
    EXPECT_EQ(rule.playbook, "outage-holding-statement");

    namespace incident = crisisd::incident;
    ASSERT_EQ(c.playbooks.size(), 1u);
    const auto& p = c.playbooks[0];
    ASSERT_EQ(p.steps.size(), 3u);
    EXPECT_EQ(p.steps[0].kind, incident::step_kind::notify);
    EXPECT_EQ(p.steps[0].channels, (std::vector<std::string>{"oncall-webhook", "console-log"}));
    EXPECT_EQ(p.steps[1].kind, incident::step_kind::statement);
    EXPECT_EQ(p.steps[1].statement, "outage-holding");
    EXPECT_EQ(p.steps[1].channels, (std::vector<std::string>{"brand-outbox"}));
    EXPECT_EQ(p.steps[1].approval_mode, incident::approval::veto);
    EXPECT_EQ(p.steps[1].wait, 3min);
    EXPECT_EQ(p.steps[2].kind, incident::step_kind::escalate);
    EXPECT_EQ(p.steps[2].after, 10min);
    EXPECT_TRUE(p.steps[2].unless_acknowledged);
    EXPECT_EQ(p.steps[2].channels, (std::vector<std::string>{"oncall-webhook"}));
    ASSERT_EQ(p.on_resolve.size(), 1u);
    EXPECT_EQ(p.on_resolve[0].approval_mode, incident::approval::required);
    EXPECT_EQ(c.status_url, "https://status.example.at/stoerungen");
    EXPECT_EQ(p.status_url, "https://status.example.at/stoerungen");  // the top-level one

    ASSERT_EQ(c.statements.size(), 2u);
    const auto& s = c.statements[0];
    EXPECT_EQ(s.approved_by, "Head of Communications");
    EXPECT_EQ(s.approved_at, "2026-11-01");
    EXPECT_EQ(s.fallback_language, "en");
    EXPECT_EQ(s.text.at("de"),
              "Wir wissen von der Störung bei {topic} und arbeiten an der Behebung. Update folgt bis "
              "{next_update}.");
    EXPECT_EQ(c.statements[1].fallback_language, "de");
    EXPECT_EQ(c.statements[1].text.at("de"),
              "Die Störung ist behoben.\nDanke für eure Geduld. Details: {status_url}\n");

    EXPECT_EQ(c.admin.listen, "[::1]:9500");
    EXPECT_EQ(c.admin.tokens_file, (good_dir / "admin-tokens").string());
    EXPECT_EQ(c.storage.path, (good_dir / "state/crisisd.db").string());
}

TEST(config_loader, includes_merge_lists_in_sorted_order) {
    const auto r = load_file(good_dir / "main.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& c = r.config;
    ASSERT_EQ(c.rules.size(), 2u);
    EXPECT_EQ(c.rules[0].name, "isp-outage");  // rules/10-outage.yaml before rules/20-billing.yaml
    EXPECT_EQ(c.rules[1].name, "billing-anger");
    EXPECT_EQ(c.rules[1].detect.group_by, crisisd::detect::group_source);
    EXPECT_EQ(c.rules[1].detect.fire_when.conditions[0].what, crisisd::detect::metric::zscore);
    EXPECT_EQ(c.rules[1].severity, crisisd::incident::severity_level::info);
    EXPECT_EQ(c.rules[1].playbook, "");
    ASSERT_EQ(c.playbooks.size(), 1u);
    EXPECT_EQ(c.playbooks[0].steps[0].channels, (std::vector<std::string>{"oncall"}));
    EXPECT_EQ(c.playbooks[0].steps[1].approval_mode, crisisd::incident::approval::automatic);
    ASSERT_EQ(c.statements.size(), 1u);
    EXPECT_EQ(c.statements[0].fallback_language, "de");  // the only language it has
    ASSERT_EQ(c.sources.size(), 1u);
    EXPECT_EQ(c.sources[0].type, "websocket");  // the default
    EXPECT_EQ(c.channels[1].path, (good_dir / "outbox.jsonl").string());
    EXPECT_EQ(c.storage.path, ":memory:");
    EXPECT_EQ(c.admin.listen, "127.0.0.1:9464");
}

TEST(config_loader, empty_config_has_documented_defaults) {
    const auto r = load_string("", "empty.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.config.rules.empty());
    EXPECT_EQ(r.config.admin.listen, "127.0.0.1:9464");
    EXPECT_EQ(r.config.storage.path, "/var/lib/crisisd/state.db");
    EXPECT_EQ(r.config.storage.resolved_grace, std::chrono::hours(24));
}

TEST(config_loader, storage_resolved_grace_is_read) {
    const auto r = load_string("storage:\n  path: \":memory:\"\n  resolved_grace: 36h\n", "s.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.storage.resolved_grace, std::chrono::hours(36));
}

// A short retention (the soak's): allowed when no rule counts incidents per hour, and the
// retention sweep follows it instead of running hourly.
TEST(config_loader, short_grace_and_retention_without_hourly_caps) {
    const auto r = load_string(
        "channels: [{ name: pager, type: log }]\n"
        "playbooks: [{ name: page, steps: [{ notify: [pager] }] }]\n"
        "rules:\n"
        "  - { name: pulse, match: { keywords: [outage] }, fire_when: { all: [count >= 5] }, playbook: page, "
        "max_incidents_per_hour: 0 }\n"
        "storage: { path: \":memory:\", retention: 1m, resolved_grace: 20s }\n",
        "s.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.storage.resolved_grace, std::chrono::seconds(20));
    EXPECT_EQ(r.config.storage.sweep_interval(), std::chrono::seconds(15));
}

TEST(config_loader, sweep_interval_is_a_quarter_of_retention_between_10s_and_an_hour) {
    crisisd::state::storage_settings s;
    EXPECT_EQ(s.sweep_interval(), std::chrono::hours(1));  // 90 days: hourly, as before
    s.retention = std::chrono::hours(2);
    EXPECT_EQ(s.sweep_interval(), std::chrono::minutes(30));
    s.retention = std::chrono::seconds(20);
    EXPECT_EQ(s.sweep_interval(), std::chrono::seconds(10));
}

TEST(config_loader, no_cluster_section_means_single_process) {
    const auto r = load_string("", "empty.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_FALSE(r.config.cluster.has_value());
}

TEST(config_loader, cluster_section_is_read_with_its_defaults) {
    const auto r = load_string(
        "cluster:\n"
        "  name: replica-2\n"
        "  nats:\n"
        "    servers: [nats://10.0.0.1:4222, tls://nats-b.example:4222]\n"
        "    credentials_file: creds/crisisd.creds\n"
        "    tls: {ca_file: ca.pem}\n"
        "  leases: {ttl: 8s, safety_margin: 2s}\n",
        "c.yaml", "/etc/crisisd");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_TRUE(r.config.cluster.has_value());
    const auto& c = *r.config.cluster;
    EXPECT_EQ(c.name, "replica-2");
    EXPECT_EQ(c.nats.servers.size(), 2u);
    EXPECT_EQ(c.nats.credentials_file, "/etc/crisisd/creds/crisisd.creds");
    EXPECT_TRUE(c.nats.tls.enabled);
    EXPECT_EQ(c.nats.tls.ca_file, "/etc/crisisd/ca.pem");
    EXPECT_EQ(c.leases.partitions, 16);
    EXPECT_EQ(c.leases.ttl, 8s);
    EXPECT_EQ(c.leases.renew_interval, 1s);
    EXPECT_EQ(c.leases.safety_margin, 2s);
}

TEST(config_loader, cluster_peer_token_and_advertise_url_are_read) {
    ::setenv("CRISISD_TEST_PEER_TOKEN", "peer-token-for-the-loader-test-0123456789", 1);
    const auto r = load_string(
        "cluster:\n"
        "  name: replica-2\n"
        "  nats: {servers: [nats://10.0.0.1:4222]}\n"
        "  advertise_url: https://replica-2.internal:9464/\n"
        "  peer_token: ${env:CRISISD_TEST_PEER_TOKEN}\n",
        "c.yaml");
    ::unsetenv("CRISISD_TEST_PEER_TOKEN");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    // The trailing '/' goes: peers append the API's paths.
    EXPECT_EQ(r.config.cluster->advertise_url, "https://replica-2.internal:9464");
    EXPECT_EQ(r.config.cluster->peer_token, "peer-token-for-the-loader-test-0123456789");
}

TEST(config_loader, a_short_cluster_peer_token_is_refused) {
    ::setenv("CRISISD_TEST_PEER_TOKEN", "short", 1);
    const auto r = load_string(
        "cluster:\n  name: replica-2\n  nats: {servers: [nats://10.0.0.1:4222]}\n"
        "  peer_token: ${env:CRISISD_TEST_PEER_TOKEN}\n",
        "c.yaml");
    ::unsetenv("CRISISD_TEST_PEER_TOKEN");
    EXPECT_FALSE(r.ok());
    EXPECT_NE(all_errors(r).find("'peer_token' must be 22 to 512 characters"), std::string::npos) << all_errors(r);
}

TEST(config_loader, rule_defaults_match_the_detector_defaults) {
    const auto r = load_string("rules:\n  - name: r\n    match: {keywords: [x]}\n    fire_when: [count >= 1]\n",
                               "r.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& d = r.config.rules[0].detect;
    EXPECT_EQ(d.group_by, crisisd::detect::group_topic);
    EXPECT_EQ(d.window, 5min);
    EXPECT_EQ(d.baseline, 6h);
    EXPECT_EQ(r.config.rules[0].severity, crisisd::incident::severity_level::warning);
    EXPECT_TRUE(d.clear_when.conditions.empty());
}

TEST(config_loader, clear_when_may_be_only_a_hold_time) {
    const auto r = load_string(
        "rules:\n  - name: r\n    match: {keywords: [x]}\n    fire_when: [count >= 1]\n"
        "    clear_when: {for: 15m}\n",
        "r.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.config.rules[0].detect.clear_when.conditions.empty());
    EXPECT_EQ(r.config.rules[0].detect.clear_when.hold, 15min);

    const auto bad = load_string(
        "rules:\n  - name: r\n    match: {keywords: [x]}\n    fire_when: {for: 1m}\n", "r.yaml");
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].to_string(),
              "r.yaml:4:16: error: 'fire_when' needs 'all' or 'any' with a list of conditions");
}

// The channel traits table is what config checks: every type's required keys are asked for, its
// credentials refused when written literally, and its keys refused on the types without them.
TEST(config_loader, channel_entries_are_checked_against_the_traits_table) {
    for (const auto& t : crisisd::notify::channel_types) {
        const std::string type(t.type);
        const auto bare = load_string("channels:\n  - {name: c, type: " + type + "}\n", "c.yaml");
        std::string expected;
        for (const auto& k : t.keys)
            if (k.required) expected += "c.yaml:2:5: error: missing '" + std::string(k.name) + "' in channel 'c'\n";
        EXPECT_EQ(all_errors(bare), expected) << type;

        for (const auto& k : t.keys) {
            if (k.secret != crisisd::notify::secret_use::must_refer) continue;
            const auto literal =
                load_string("channels:\n  - {name: c, type: " + type + ", " + std::string(k.name) + ": plain}\n", "c.yaml");
            EXPECT_NE(all_errors(literal).find("'" + std::string(k.name) + "' must not be written literally"),
                      std::string::npos)
                << type << " " << k.name << ": " << all_errors(literal);
        }
        for (const auto& other : crisisd::notify::channel_types) {
            for (const auto& k : other.keys) {
                if (t.key(k.name) != nullptr || k.name == "url") continue;
                const auto foreign = load_string(
                    "channels:\n  - {name: c, type: " + type + ", " + std::string(k.name) + ": x}\n", "c.yaml");
                EXPECT_NE(all_errors(foreign).find("'" + std::string(k.name) + "' only applies to channels of type"),
                          std::string::npos)
                    << type << " " << k.name << ": " << all_errors(foreign);
            }
        }
    }
}

// A subscribe mapping becomes one JSON frame, keys in the order written; a Mastodon stream's
// frame gets "type":"subscribe" first unless it names a type itself.
TEST(config_loader, subscribe_mappings_become_json_frames) {
    const auto r = load_string(
        "sources:\n"
        "  - name: m\n    url: wss://mastodon.example/api/v1/streaming\n    format: mastodon\n"
        "    subscribe:\n      - {stream: hashtag, tag: \"st\\u00f6rung \\\"x\\\"\"}\n"
        "      - {type: unsubscribe, stream: user}\n"
        "      - \"{\\\"raw\\\":1}\"\n"
        "  - name: g\n    url: wss://stream.example/\n    subscribe: [{op: sub, channel: a}]\n",
        "s.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_EQ(r.config.sources.size(), 2u);
    EXPECT_EQ(r.config.sources[0].subscribe,
              (std::vector<std::string>{R"({"type":"subscribe","stream":"hashtag","tag":"störung \"x\""})",
                                        R"({"type":"unsubscribe","stream":"user"})", R"({"raw":1})"}));
    EXPECT_EQ(r.config.sources[1].subscribe, (std::vector<std::string>{R"({"op":"sub","channel":"a"})"}));
}

TEST(config_loader, string_config_resolves_includes_against_base_dir) {
    scratch s;
    s.write("rules/a.yaml", "rules:\n  - name: a\n    match: {keywords: [x]}\n    fire_when: [count >= 1]\n");
    const auto r = load_string("include: rules/*.yaml\n", "embedded.yaml", s.dir());
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_EQ(r.config.rules.size(), 1u);
    EXPECT_EQ(r.config.rules[0].name, "a");
}

TEST(config_loader, a_file_named_by_two_patterns_is_read_once) {
    scratch s;
    s.write("rules/a.yaml", "rules:\n  - name: a\n    match: {keywords: [x]}\n    fire_when: [count >= 1]\n");
    const auto main = s.write("main.yaml", "include: [rules/*.yaml, rules/a.yaml, ./rules/a*]\n");
    const auto r = load_file(main);
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.rules.size(), 1u);
}

TEST(config_loader, a_glob_that_matches_the_including_file_is_a_cycle) {
    scratch s;
    const auto main = s.write("main.yaml", "include: \"*.yaml\"\n");
    const auto r = load_file(main);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 1);
    EXPECT_EQ(r.errors[0].column, 10);
    EXPECT_NE(r.errors[0].message.find("include cycle"), std::string::npos) << r.errors[0].message;
}

TEST(config_loader, admin_may_be_set_in_one_file_only) {
    scratch s;
    s.write("more.yaml", "admin: {listen: 127.0.0.1:1}\n");
    const auto main = s.write("main.yaml", "admin: {listen: 127.0.0.1:2}\ninclude: more.yaml\n");
    const auto r = load_file(main);
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].file, (s.dir() / "more.yaml").string());
    EXPECT_NE(r.errors[0].message.find("'admin' is already set at " + main.string() + ":1:1"), std::string::npos)
        << r.errors[0].message;
}

TEST(config_loader, missing_file_is_one_file_level_diagnostic) {
    const auto r = load_file("/nonexistent/crisisd.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              "/nonexistent/crisisd.yaml: error: cannot read config file: No such file or directory");
}

TEST(config_loader, diagnostics_are_sorted_by_file_line_and_column) {
    // The cross-reference error (line 2) is found in the second pass, after line 5's error.
    const auto r = load_string(
        "rules:\n  - {name: r, playbook: nope, match: {keywords: [x]}, fire_when: [count >= 1]}\n"
        "channels:\n  - {name: c, type: log}\n  - {name: c, type: carrier-pigeon}\n",
        "x.yaml");
    ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(), "x.yaml:2:25: error: unknown playbook 'nope'");
    EXPECT_EQ(r.errors[1].line, 5);
    EXPECT_EQ(r.errors[1].column, 12);  // duplicate name 'c'
    EXPECT_EQ(r.errors[2].line, 5);
    EXPECT_EQ(r.errors[2].column, 21);  // unknown type
}

TEST(config_loader, only_one_yaml_document_per_file) {
    const auto r = load_string("rules: []\n---\nrules: []\n", "two.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 2);  // the "---" that starts it
}

TEST(config_loader, duplicate_keys_in_a_mapping_are_reported) {
    const auto r = load_string("storage: {path: a.db}\nstorage: {path: b.db}\n", "dup.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(), "dup.yaml:2:1: error: duplicate key 'storage'");
}

TEST(config_loader, escalation_without_unless_is_unconditional) {
    const auto r = load_string(
        "channels: [{name: c, type: log}]\n"
        "playbooks:\n  - name: p\n    steps:\n      - escalate: {after: 5m, notify: c}\n",
        "p.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_FALSE(r.config.playbooks[0].steps[0].unless_acknowledged);
    EXPECT_EQ(r.config.playbooks[0].steps[0].after, 5min);
}

TEST(config_loader, secrets_come_from_environment_and_files) {
    scratch s;
    s.write("creds/url", "wss://secret.example.com/stream\r\n\n");
    ::setenv("CRISISD_TEST_WS_TOKEN", "from-env", 1);
    const auto main = s.write(
        "main.yaml",
        "sources:\n  - name: s\n    url: ${file:creds/url}\n    token: ${env:CRISISD_TEST_WS_TOKEN}\n");
    const auto r = load_file(main);
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.sources[0].url, "wss://secret.example.com/stream");
    EXPECT_EQ(r.config.sources[0].token, "from-env");
}

TEST(config_loader, a_wrong_url_from_a_secret_is_not_echoed) {
    ::setenv("CRISISD_TEST_BAD_URL", "https://user:hunter2@example.com/", 1);
    const auto r = load_string("sources:\n  - {name: s, url: \"${env:CRISISD_TEST_BAD_URL}\"}\n", "s.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].message, "'url' must start with ws:// or wss://");
}

TEST(config_loader, yaml_syntax_error_in_string_points_at_the_mark) {
    const auto r = load_string("rules:\n  - name: [unclosed\n", "s.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].file, "s.yaml");
    EXPECT_GE(r.errors[0].line, 2);
    EXPECT_EQ(r.errors[0].message.rfind("invalid YAML: ", 0), 0u);
}

TEST(config_loader, source_queue_capacity_and_overflow_policy) {
    const auto r = load_string(
        "sources:\n"
        "  - {name: a, type: websocket, url: \"ws://127.0.0.1:1/s\"}\n"
        "  - {name: b, type: websocket, url: \"ws://127.0.0.1:1/s\", queue: {capacity: 500, overflow: drop_oldest}}\n",
        "s.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    ASSERT_EQ(r.config.sources.size(), 2u);
    EXPECT_EQ(r.config.sources[0].queue_capacity, 10000u);  // never loses a mention by default
    EXPECT_EQ(r.config.sources[0].queue_overflow, crisisd::ingest::overflow_policy::block);
    EXPECT_EQ(r.config.sources[1].queue_capacity, 500u);
    EXPECT_EQ(r.config.sources[1].queue_overflow, crisisd::ingest::overflow_policy::drop_oldest);

    const auto bad = load_string(
        "sources:\n  - {name: a, type: websocket, url: \"ws://127.0.0.1:1/s\", queue: {overflow: newest}}\n"
        "  - {name: h, type: http, queue: {capacity: 5}}\n",
        "s.yaml");
    ASSERT_EQ(bad.errors.size(), 2u) << all_errors(bad);
    EXPECT_NE(all_errors(bad).find("block"), std::string::npos) << all_errors(bad);
    EXPECT_NE(all_errors(bad).find("'queue' only applies to sources of type websocket, file and feed"), std::string::npos)
        << all_errors(bad);
}

}  // namespace
