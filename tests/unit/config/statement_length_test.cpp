// Statement texts against the length limits of the channels playbooks post them to (Mastodon 500
// characters, Bluesky 300 graphemes and 3000 bytes), placeholders at their longest.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/loader.hpp"
#include "support.hpp"

namespace {

using crisisd::config::testing::all_errors;
using crisisd::config::testing::read;
using crisisd::config::testing::replace_all;
using crisisd::config::testing::times;
using crisisd::config::testing::scratch;

namespace fs = std::filesystem;
using crisisd::config::load_file;
using crisisd::config::load_result;
using crisisd::config::load_string;

const fs::path source_dir = fs::path(CRISISD_TEST_DATA).parent_path().parent_path();

class statement_lengths : public ::testing::Test {
protected:
    void SetUp() override { ::setenv("CRISISD_TEST_POST_TOKEN", "secret", 1); }
};

// Channels of every posting kind, one rule running playbook `outage`, whose statement step posts
// `holding` to `channel`; `texts` are the lines under `text:` (line 17 on).
std::string config(const std::string& channel, const std::string& texts) {
    return "channels:\n"
           "  - {name: brand-mastodon, type: mastodon, base_url: \"https://mastodon.example\", token: "
           "\"${env:CRISISD_TEST_POST_TOKEN}\"}\n"
           "  - {name: brand-bluesky, type: bluesky, identifier: brand.example, password: "
           "\"${env:CRISISD_TEST_POST_TOKEN}\"}\n"
           "  - {name: brand-webhook, type: webhook, url: \"https://social.example/post\"}\n"
           "rules:\n"
           "  - {name: isp-outage, match: {keywords: [\"@Liwest\"]}, fire_when: [count >= 1], playbook: outage}\n"
           "playbooks:\n"
           "  - name: outage\n"
           "    steps:\n"
           "      - statement: {name: holding, channel: " + channel + ", approval: auto}\n"
           "statements:\n"
           "  - name: holding\n"
           "    approved_by: Comms\n"
           "    approved_at: 2026-11-01\n"
           "    text:\n" +
           texts;
}

// 8 characters, 9 bytes.
const std::string word = "Störung ";

TEST_F(statement_lengths, a_text_over_mastodons_limit_in_one_language_is_reported_at_that_text) {
    const auto r = load_string(config("brand-mastodon", "      en: \"We are on it.\"\n"
                                                        "      de: \"" + times(word, 65) + "\"\n"),
                               "x.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:17:11: error: statement 'holding' (de) is 520 characters, over the 500-character limit of "
              "mastodon channel 'brand-mastodon'");
}

TEST_F(statement_lengths, exactly_at_mastodons_limit_is_fine) {
    const auto r = load_string(config("brand-mastodon", "      de: \"" + times(word, 62) + "Stör\"\n"), "x.yaml");
    EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST_F(statement_lengths, a_text_fine_for_a_webhook_can_be_too_long_for_mastodon) {
    const std::string texts = "      en: \"" + times("Outage. ", 70) + "\"\n";
    const auto webhook = load_string(config("brand-webhook", texts), "x.yaml");
    EXPECT_TRUE(webhook.ok()) << all_errors(webhook);
    const auto mastodon = load_string(config("brand-mastodon", texts), "x.yaml");
    ASSERT_EQ(mastodon.errors.size(), 1u) << all_errors(mastodon);
    EXPECT_EQ(mastodon.errors[0].to_string(),
              "x.yaml:16:11: error: statement 'holding' (en) is 560 characters, over the 500-character limit of "
              "mastodon channel 'brand-mastodon'");
}

TEST_F(statement_lengths, every_statement_step_of_every_playbook_is_checked) {
    std::string yaml = config("brand-webhook", "      en: \"" + times("Outage. ", 70) + "\"\n");
    yaml = replace_all(yaml, "statements:\n",
                       "    on_resolve:\n"
                       "      - statement: {name: holding, channel: brand-mastodon, approval: auto}\n"
                       "      - statement: {name: holding, channel: brand-bluesky, approval: auto}\n"
                       "statements:\n");
    const auto r = load_string(yaml, "x.yaml");
    ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:19:11: error: statement 'holding' (en) is 560 graphemes, over the 300-grapheme limit of "
              "bluesky channel 'brand-bluesky'");
    EXPECT_EQ(r.errors[1].to_string(),
              "x.yaml:19:11: error: statement 'holding' (en) is 560 characters, over the 500-character limit of "
              "mastodon channel 'brand-mastodon'");
}

// 300 graphemes in 550 code points and 1360 bytes: families (ZWJ sequences), e + combining
// acute, flags, thumbs with a skin tone, letters.
const std::string family = "\U0001F468\u200D\U0001F469\u200D\U0001F467";
const std::string graphemes_300 = times(family + " ", 40) + times("e\u0301x", 50) +
                                  times("\U0001F1E6\U0001F1F9\U0001F44D\U0001F3FD", 20) + std::string(80, 'a');

TEST_F(statement_lengths, bluesky_counts_graphemes_and_300_fit) {
    const auto r = load_string(config("brand-bluesky", "      de: \"" + graphemes_300 + "\"\n"), "x.yaml");
    EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST_F(statement_lengths, bluesky_refuses_301_graphemes) {
    const auto r = load_string(config("brand-bluesky", "      de: \"" + graphemes_300 + "!\"\n"), "x.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:16:11: error: statement 'holding' (de) is 301 graphemes, over the 300-grapheme limit of "
              "bluesky channel 'brand-bluesky'");
}

TEST_F(statement_lengths, bluesky_also_limits_bytes) {
    // 200 graphemes, but 3600 bytes: app.bsky.feed.post's text is at most 3000.
    const auto r = load_string(config("brand-bluesky", "      de: \"" + times(family, 200) + "\"\n"), "x.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "x.yaml:16:11: error: statement 'holding' (de) is 3600 bytes of UTF-8, over the 3000-byte limit of "
              "bluesky channel 'brand-bluesky'");
}

TEST_F(statement_lengths, mastodon_counts_a_link_as_23) {
    const std::string link = "https://status.liwest.at/incidents/2026-11-01/isp-outage-linz-urfahr";  // 68
    const auto fits = load_string(config("brand-mastodon", "      en: \"" + std::string(476, 'a') + " " + link + "\"\n"),
                                  "x.yaml");
    EXPECT_TRUE(fits.ok()) << all_errors(fits);
    const auto over = load_string(config("brand-mastodon", "      en: \"" + std::string(477, 'a') + " " + link + "\"\n"),
                                  "x.yaml");
    ASSERT_EQ(over.errors.size(), 1u) << all_errors(over);
    EXPECT_NE(over.errors[0].message.find("is 501 characters"), std::string::npos) << all_errors(over);
}

// "{topic} {incident_id} {started_at} {next_update} " is the topic and 53 characters without a
// time_zone (UTC): the incident id counts 20 digits, started_at 20 characters ("9999-12-31 23:59
// UTC"), next_update 9 ("23:59 UTC"). The topic is "Liwest" with the default group_by, "Liwest/"
// and a source of up to 48 characters with [topic, source].
const std::string fields = "{topic} {incident_id} {started_at} {next_update} ";

TEST_F(statement_lengths, placeholders_count_at_their_longest) {
    const auto fits = load_string(config("brand-mastodon", "      en: \"" + fields + std::string(441, 'a') + "\"\n"),
                                  "x.yaml");
    EXPECT_TRUE(fits.ok()) << all_errors(fits);
    const auto over = load_string(config("brand-mastodon", "      en: \"" + fields + std::string(442, 'a') + "\"\n"),
                                  "x.yaml");
    ASSERT_EQ(over.errors.size(), 1u) << all_errors(over);
    EXPECT_EQ(over.errors[0].to_string(),
              "x.yaml:16:11: error: statement 'holding' (en) can be 501 characters with its placeholders at their "
              "longest (for rule 'isp-outage'), over the 500-character limit of mastodon channel 'brand-mastodon'");
}

// In a named zone the times carry no " UTC": started_at 16 characters ("9999-12-31 23:59"),
// next_update 5, so the same fields are the topic and 45; the playbook's own zone counts.
TEST_F(statement_lengths, times_count_in_the_playbooks_zone) {
    const std::string text = "      en: \"" + fields + std::string(449, 'a') + "\"\n";
    const std::string vienna = "  - name: outage\n    time_zone: Europe/Vienna\n";
    const auto fits = load_string(replace_all(config("brand-mastodon", text), "  - name: outage\n", vienna), "x.yaml");
    EXPECT_TRUE(fits.ok()) << all_errors(fits);
    const auto top = load_string("time_zone: Europe/Vienna\n" + config("brand-mastodon", text), "x.yaml");
    EXPECT_TRUE(top.ok()) << all_errors(top);
    const auto utc = load_string(config("brand-mastodon", text), "x.yaml");
    ASSERT_EQ(utc.errors.size(), 1u) << all_errors(utc);
    EXPECT_NE(utc.errors[0].message.find("can be 508 characters"), std::string::npos) << all_errors(utc);
    const std::string over = "      en: \"" + fields + std::string(450, 'a') + "\"\n";
    const auto vienna_over =
        load_string(replace_all(config("brand-mastodon", over), "  - name: outage\n", vienna), "x.yaml");
    ASSERT_EQ(vienna_over.errors.size(), 1u) << all_errors(vienna_over);
    EXPECT_NE(vienna_over.errors[0].message.find("can be 501 characters"), std::string::npos) << all_errors(vienna_over);
}

TEST_F(statement_lengths, a_topic_grouped_by_source_counts_the_longest_source_the_rule_accepts) {
    const std::string yaml = config("brand-mastodon", "      en: \"" + fields + std::string(432, 'a') + "\"\n");
    const auto any_source =
        load_string(replace_all(yaml, "[\"@Liwest\"]}", "[\"@Liwest\"]}, group_by: [topic, source]"), "x.yaml");
    ASSERT_EQ(any_source.errors.size(), 1u) << all_errors(any_source);
    EXPECT_NE(any_source.errors[0].message.find("can be 540 characters"), std::string::npos)
        << all_errors(any_source);  // "Liwest/" and 48, 53, 432

    const auto listed = load_string(
        replace_all(yaml, "[\"@Liwest\"]}", "[\"@Liwest\"], sources: [mastodon, bsky]}, group_by: [topic, source]"),
        "x.yaml");
    EXPECT_TRUE(listed.ok()) << all_errors(listed);  // "Liwest/mastodon", 53, 432: 500
}

TEST_F(statement_lengths, the_longest_rule_running_the_playbook_counts_and_only_those) {
    std::string yaml = config("brand-mastodon", "      en: \"{rule}: " + std::string(475, 'a') + "\"\n");
    yaml = replace_all(yaml, "playbooks:\n",
                       "  - {name: a-much-longer-rule-name, match: {keywords: [x]}, fire_when: [count >= 1], "
                       "playbook: outage}\n"
                       "  - {name: an-even-longer-rule-name-for-another-playbook, match: {keywords: [y]}, "
                       "fire_when: [count >= 1]}\n"
                       "playbooks:\n");
    const auto fits = load_string(yaml, "x.yaml");  // 23 + 2 + 475
    EXPECT_TRUE(fits.ok()) << all_errors(fits);
    const auto over = load_string(replace_all(yaml, "{rule}: ", "{rule}:  "), "x.yaml");
    ASSERT_EQ(over.errors.size(), 1u) << all_errors(over);
    EXPECT_NE(over.errors[0].message.find("can be 501 characters with its placeholders at their longest (for rule "
                                          "'a-much-longer-rule-name')"),
              std::string::npos)
        << all_errors(over);
}

TEST_F(statement_lengths, a_block_text_in_an_included_file_is_reported_there) {
    scratch s;
    s.write("statements/holding.yaml", "statements:\n"
                                       "  - name: holding\n"
                                       "    approved_by: Comms\n"
                                       "    approved_at: 2026-11-01\n"
                                       "    text:\n"
                                       "      en: |\n"
                                       "        " + times("Outage. ", 70) + "\n");
    std::string main = config("brand-mastodon", "");
    main = main.substr(0, main.find("statements:\n")) + "include: [statements/*.yaml]\n";
    const auto r = load_file(s.write("crisisd.yaml", main));
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].file, (s.dir() / "statements/holding.yaml").string());
    EXPECT_EQ(r.errors[0].line, 6);
    EXPECT_EQ(r.errors[0].column, 11);
    EXPECT_NE(r.errors[0].message.find("statement 'holding' (en) is 561 characters"), std::string::npos)
        << all_errors(r);
}

// The project's own examples keep loading, and their statements fit every network.
TEST_F(statement_lengths, the_shipped_demo_config_loads) {
    scratch s;
    s.write("rules/isp-outage.yaml", read(source_dir / "rules/isp-outage.yaml"));
    s.write("playbooks/isp-outage.yaml", read(source_dir / "playbooks/isp-outage.yaml"));
    // The secrets the demo writes beside its config (crisisd demo makes them up per run).
    for (const char* name : {"facebook-verify-token", "facebook-app-secret", "x-bearer-token"})
        s.write(std::string("secrets/") + name, "demo-secret");
    std::string yaml = read(source_dir / "demo/crisisd-demo.yaml");
    yaml = replace_all(yaml, "@MASTODON_URL@", "ws://127.0.0.1:9/api/v1/streaming?stream=hashtag&tag=liwest");
    yaml = replace_all(yaml, "@FACEBOOK_LISTEN@", "127.0.0.1:9466");
    yaml = replace_all(yaml, "@X_URL@", "http://127.0.0.1:9");
    yaml = replace_all(yaml, "@FORUM_URL@", "http://127.0.0.1:9/latest.atom");
    yaml = replace_all(yaml, "@OUTBOX_PATH@", (s.dir() / "outbox.jsonl").string());
    yaml = replace_all(yaml, "@ADMIN_LISTEN@", "127.0.0.1:9464");
    yaml = replace_all(yaml, "@STATE_PATH@", (s.dir() / "state.db").string());
    const auto r = load_file(s.write("crisisd.yaml", yaml));
    EXPECT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.statements.size(), 2u);
    // The story's four networks, each read by its own source type.
    ASSERT_EQ(r.config.sources.size(), 4u);
    EXPECT_EQ(r.config.sources[0].format, "mastodon");
    EXPECT_EQ(r.config.sources[1].type, "facebook");
    EXPECT_EQ(r.config.sources[2].type, "x");
    EXPECT_EQ(r.config.sources[3].type, "feed");
}

TEST_F(statement_lengths, the_shipped_deploy_config_loads) {
    scratch s;
    s.write("rules/isp-outage.yaml", read(source_dir / "rules/isp-outage.yaml"));
    s.write("playbooks/isp-outage.yaml", read(source_dir / "playbooks/isp-outage.yaml"));
    for (const char* name : {"crisisd_stream-token", "crisisd_oncall-token", "crisisd_brand-token", "crisisd_admin-tokens"})
        s.write(std::string("credentials/") + name, "token\n");
    const std::string yaml = replace_all(read(source_dir / "deploy/crisisd.yaml"), "/run/credentials/crisisd.service/",
                                         (s.dir() / "credentials").string() + "/");
    const auto r = load_file(s.write("crisisd.yaml", yaml));
    EXPECT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.playbooks.size(), 1u);
}

TEST_F(statement_lengths, the_shipped_statements_fit_mastodon_and_bluesky) {
    for (const std::string channel :
         {"{name: brand-account, type: mastodon, base_url: \"https://mastodon.example\", token: "
          "\"${env:CRISISD_TEST_POST_TOKEN}\"}",
          "{name: brand-account, type: bluesky, identifier: brand.example, password: "
          "\"${env:CRISISD_TEST_POST_TOKEN}\"}"}) {
        const std::string yaml = "include: [\"" + (source_dir / "rules/isp-outage.yaml").string() + "\", \"" +
                                 (source_dir / "playbooks/isp-outage.yaml").string() +
                                 "\"]\nchannels:\n  - {name: oncall, type: log}\n  - " + channel + "\n";
        const auto r = load_string(yaml, "shipped.yaml");
        EXPECT_TRUE(r.ok()) << channel << "\n" << all_errors(r);
        EXPECT_EQ(r.config.statements.size(), 2u);
    }
}

}  // namespace
