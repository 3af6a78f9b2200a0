// Issue 14, `type: feed`, through the real binary against a feed server on loopback that
// speaks HTTP as tests/data/feed/README.md describes: a first poll is history and opens no
// incident; the next poll carries the ETag and gets 304; new items reach detection once; a
// restart re-emits nothing; Retry-After on 429 is honoured; gzip is inflated; the billion laughs
// and an external entity are refused unexpanded.
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "child_process.hpp"
#include "fakes/io_thread.hpp"
#include "feed_server.hpp"
#include "net/http_server.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::feed_server;
using crisisd::testing::gzip;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

std::string data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/feed/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The Discourse feed with two new topics on top, as the forum lists them an hour later.
std::string discourse_later() {
    auto doc = data("discourse-latest.rss");
    const std::string news = R"(<item>
        <title>liwest Totalausfall - wann geht es wieder?</title>
        <dc:creator><![CDATA[kurt77]]></dc:creator>
        <description><![CDATA[<p>liwest seit Stunden down, keiner sagt was. Furchtbar!</p>]]></description>
        <link>https://forum.example.at/t/liwest-totalausfall/4720</link>
        <pubDate>Fri, 04 Dec 2026 07:30:00 +0000</pubDate>
        <guid isPermaLink="false">forum.example.at-topic-4720</guid>
      </item>
      <item>
        <title>liwest Hotline nicht erreichbar</title>
        <dc:creator><![CDATA[ines]]></dc:creator>
        <description><![CDATA[<p>liwest Hotline seit einer Stunde besetzt, ganz schlecht.</p>]]></description>
        <link>https://forum.example.at/t/liwest-hotline/4721</link>
        <pubDate>Fri, 04 Dec 2026 07:31:00 +0000</pubDate>
        <guid isPermaLink="false">forum.example.at-topic-4721</guid>
      </item>
      )";
    doc.insert(doc.find("<item>"), news);
    return doc;
}


class feed_source : public ::testing::Test {
protected:
    void SetUp() override { dir_ = crisisd::testing::make_temp_dir("crisisd-feed"); }
    void TearDown() override {
        stop();
        fs::remove_all(dir_);
    }

    // Starts crisisd with these sources and a rule that opens an incident on any mention of
    // liwest, so "no incident" after a poll means detection was not fed.
    void start(const std::string& sources) {
        std::ofstream(dir_ / "crisisd.yaml") << "sources:\n" << sources << R"(
channels:
  - { name: pager, type: file, path: ")" << (dir_ / "pages.jsonl").string() << R"(" }
rules:
  - name: forum-talk
    match: { keywords: ["liwest", "internet"] }
    window: 10m
    baseline: 1h
    fire_when: { all: [count >= 1] }
    clear_when: { all: [count < 1], for: 1h }
    severity: critical
    playbook: page
playbooks:
  - name: page
    steps:
      - notify: [pager]
admin: { listen: "127.0.0.1:0", tokens_file: ")" << crisisd::testing::write_admin_tokens(dir_).string() << R"(" }
storage: { path: ")" << (dir_ / "state.db").string() << R"(" }
)";
        daemon_ = std::make_unique<child_process>(
            std::vector<std::string>{CRISISD_BINARY, "run", "--config", (dir_ / "crisisd.yaml").string()});
        admin_ = daemon_->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
        ASSERT_NE(admin_, 0) << daemon_->stderr_text();
    }
    void stop() {
        if (!daemon_) return;
        daemon_->signal(SIGTERM);
        EXPECT_EQ(daemon_->wait_exit(15s), 0);
        daemon_.reset();
    }

    double value(const std::string& series) { return metric(admin_get(admin_, "/metrics"), series); }
    bool metric_reaches(const std::string& series, double n) {
        return wait_until([&] { return value(series) == n; }, 15s);
    }
    std::size_t incidents() {
        auto doc = boost::json::parse(admin_get(admin_, "/api/v1/incidents")).as_object();
        return doc.at("incidents").as_array().size();
    }

    fs::path dir_;
    std::unique_ptr<child_process> daemon_;
    std::uint16_t admin_ = 0;
};

const std::string processed = "crisisd_mentions_processed_total";

std::string frames(const std::string& kind, const std::string& source) {
    return R"(crisisd_source_frames_total{kind=")" + kind + R"(",source=")" + source + R"("})";
}

}  // namespace

TEST_F(feed_source, a_first_poll_is_history_304_costs_nothing_new_items_count_once_and_a_restart_re_emits_nothing) {
    feed_server forum;
    forum.serve("/latest.rss", data("discourse-latest.rss"), "\"v1\"");
    const std::string sources = "  - { name: forum, type: feed, url: \"" + forum.url("/latest.rss") + "\", interval: 1s }\n";
    start(sources);
    ASSERT_FALSE(HasFatalFailure());

    // The three topics already there are history: counted, not detected.
    ASSERT_TRUE(metric_reaches(frames("history", "forum"), 3)) << daemon_->stderr_text();
    // The next poll sends the ETag and is answered 304; the feed was read and nothing was fed.
    ASSERT_TRUE(wait_until([&] { return forum.count(304) >= 1; }, 15s));
    for (const auto& r : forum.requests()) {
        if (r.status == 304) {
            EXPECT_EQ(r.if_none_match, "\"v1\"");
        }
    }
    EXPECT_EQ(value(processed), 0);
    EXPECT_EQ(incidents(), 0u) << admin_get(admin_, "/api/v1/incidents");

    // Two new topics: both reach detection, once, and the rule fires (the positive control).
    forum.serve("/latest.rss", discourse_later(), "\"v2\"");
    ASSERT_TRUE(metric_reaches(processed, 2)) << daemon_->stderr_text();
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 15s)) << daemon_->stderr_text();
    const auto polls_before = forum.count(200);
    ASSERT_TRUE(wait_until([&] { return forum.count(304) >= 3; }, 15s));
    EXPECT_EQ(value(processed), 2);
    EXPECT_EQ(forum.count(200), polls_before);

    // After a restart the daemon has no ETag and reads the whole feed again: all five are known.
    stop();
    start(sources);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(metric_reaches(frames("duplicate", "forum"), 5)) << daemon_->stderr_text();
    EXPECT_EQ(value(processed), 0);
    EXPECT_EQ(value(frames("history", "forum")), -1);  // not a first poll: nothing is history
}

TEST_F(feed_source, an_atom_feed_counts_its_new_entries_with_gzip_after_a_429_with_retry_after) {
    feed_server news;
    news.gzip_when_accepted(true);
    news.refuse_next(1, "2");
    auto atom = data("news.atom");
    news.serve("/atom.xml", atom, "");  // no ETag: Last-Modified only
    start("  - { name: news, type: feed, url: \"" + news.url("/atom.xml") + "\", interval: 1s }\n");
    ASSERT_FALSE(HasFatalFailure());

    ASSERT_TRUE(metric_reaches(frames("history", "news"), 2)) << daemon_->stderr_text();
    auto seen = news.requests();
    ASSERT_GE(seen.size(), 2u);
    EXPECT_EQ(seen[0].status, 429);
    EXPECT_NE(seen[1].accept_encoding.find("gzip"), std::string::npos);
    // Retry-After: 2 outweighs the 1s interval.
    EXPECT_GE(seen[1].at - seen[0].at, 2s);

    const std::string entry = R"(<entry>
    <title>liwest: Störung behoben?</title>
    <link href="https://news.example.at/technik/stoerung-behoben"/>
    <id>tag:news.example.at,2026-12-04:/technik/890</id>
    <updated>2026-12-04T09:00:00Z</updated>
    <author><name>Anna Berger</name></author>
    <summary>Der Internetanbieter liwest meldet erste Fortschritte.</summary>
  </entry>
  )";
    atom.insert(atom.find("<entry>"), entry);
    news.serve("/atom.xml", atom, "");
    ASSERT_TRUE(metric_reaches(processed, 1)) << daemon_->stderr_text();
    ASSERT_TRUE(wait_until([&] { return incidents() == 1; }, 15s)) << daemon_->stderr_text();
}

TEST_F(feed_source, the_billion_laughs_and_an_external_entity_are_refused_without_expansion) {
    feed_server evil;
    evil.serve("/bomb.xml", data("billion-laughs.xml"), "");
    evil.serve("/xxe.xml", data("external-entity.xml"), "");
    start("  - { name: bomb, type: feed, url: \"" + evil.url("/bomb.xml") + "\", interval: 1s }\n" +
          "  - { name: xxe, type: feed, url: \"" + evil.url("/xxe.xml") + "\", interval: 1s }\n");
    ASSERT_FALSE(HasFatalFailure());
    const std::string bomb = R"(crisisd_mentions_rejected_total{reason="xml_entities",source="bomb"})";
    const std::string xxe = R"(crisisd_mentions_rejected_total{reason="xml_entities",source="xxe"})";
    ASSERT_TRUE(wait_until([&] { return value(bomb) >= 2 && value(xxe) >= 2; }, 15s)) << daemon_->stderr_text();
    EXPECT_EQ(value(processed), 0);
    EXPECT_EQ(value(frames("history", "bomb")), -1);
    EXPECT_EQ(value(frames("history", "xxe")), -1);
    EXPECT_EQ(daemon_->stderr_text().find("root:"), std::string::npos);  // /etc/passwd was never read
}
