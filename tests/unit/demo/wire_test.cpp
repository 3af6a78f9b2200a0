// Each post of the demo's story, written in its network's wire format by demo/wire.hpp and read
// back by crisisd's own reader of that network, comes out as the scenario line says: the same id,
// author, text, language, time and link. That is what lets `crisisd replay` of the scenario file
// reproduce what the live demo heard on four networks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "demo/scenario.hpp"
#include "demo/wire.hpp"
#include "parse/facebook.hpp"
#include "parse/feed.hpp"
#include "parse/frame_parser.hpp"

namespace fs = std::filesystem;
using namespace crisisd;

namespace {

std::vector<demo::post> story() {
    std::ifstream in(fs::path(CRISISD_TEST_DATA).parent_path().parent_path() / "demo" / "outage-scenario.jsonl");
    std::stringstream s;
    s << in.rdbuf();
    return demo::load_scenario(s.str());
}

core::mention read_frame(std::string_view format, std::string_view frame) {
    parse::parser_settings ps;
    ps.format = std::string(format);
    auto parser = parse::make_parser(ps);
    core::mention m;
    const auto r = parser->parse(frame, m);
    EXPECT_EQ(r.kind, parse::frame_kind::mention) << frame;
    return m;
}

void expect_same(const demo::post& p, const core::mention& m) {
    EXPECT_EQ(m.id, p.id);
    EXPECT_EQ(m.author, p.author);
    EXPECT_TRUE(m.author_vouched) << "the network names the author: " << p.author;
    EXPECT_EQ(m.lang, p.lang) << p.id;
    EXPECT_EQ(m.url, p.url);
    ASSERT_TRUE(m.created_at.has_value());
    EXPECT_EQ(*m.created_at, p.at);
}

}  // namespace

TEST(demo_story, is_told_on_four_networks_in_time_order) {
    const auto posts = story();
    ASSERT_EQ(posts.size(), 97u);
    std::map<std::string, int> per_source;
    for (std::size_t i = 0; i < posts.size(); ++i) {
        ++per_source[posts[i].source];
        if (i > 0) {
            EXPECT_GE(posts[i].at, posts[i - 1].at) << posts[i].id;
        }
    }
    EXPECT_EQ(per_source, (std::map<std::string, int>{{"forum", 8}, {"mastodon", 35}, {"page", 26}, {"x", 28}}));
}

TEST(demo_wire, mastodon_updates_read_back_as_the_scenario_says) {
    for (const auto& p : story()) {
        if (p.source != "mastodon") continue;
        const auto m = read_frame("mastodon", demo::mastodon_update(p));
        expect_same(p, m);
        // Mastodon sends HTML: the post's text is the one paragraph.
        EXPECT_TRUE(m.html);
        EXPECT_EQ(m.text, "<p>" + demo::xml_escaped(p.text) + "</p>");
    }
}

TEST(demo_wire, x_stream_lines_read_back_as_the_scenario_says) {
    for (const auto& p : story()) {
        if (p.source != "x") continue;
        const auto m = read_frame("x", demo::x_stream_line(p, "1862749000000000100", "isp"));
        expect_same(p, m);
        EXPECT_EQ(m.text, p.text);
    }
}

TEST(demo_wire, facebook_deliveries_read_back_as_the_scenario_says) {
    std::vector<demo::post> comments;
    for (const auto& p : story())
        if (p.source == "page") comments.push_back(p);
    ASSERT_FALSE(comments.empty());
    // One delivery with every comment (Meta batches changes): each becomes one mention.
    const auto changes = parse::read_facebook_webhook(demo::facebook_delivery(comments));
    ASSERT_FALSE(changes.error.has_value());
    EXPECT_EQ(changes.ignored, 0u);
    ASSERT_EQ(changes.frames.size(), comments.size());
    for (std::size_t i = 0; i < comments.size(); ++i) {
        const auto m = read_frame("item", changes.frames[i]);
        expect_same(comments[i], m);
        EXPECT_EQ(m.text, comments[i].text);
    }
}

TEST(demo_wire, the_forum_feed_reads_back_as_the_scenario_says) {
    std::vector<demo::post> posts;
    for (const auto& p : story())
        if (p.source == "forum") posts.push_back(p);
    ASSERT_FALSE(posts.empty());
    const auto doc = parse::read_feed(demo::atom_feed("http://127.0.0.1:9/latest.atom", posts));
    ASSERT_EQ(doc.error, parse::feed_error::none) << doc.detail;
    ASSERT_EQ(doc.items.size(), posts.size());
    for (std::size_t i = 0; i < posts.size(); ++i) {
        const auto& item = doc.items[posts.size() - 1 - i];  // a feed lists the newest first
        EXPECT_EQ(item.id, posts[i].id);
        // The title is the post and there is no body, so crisisd's text is the post's own.
        EXPECT_EQ(item.title, posts[i].text);
        EXPECT_TRUE(item.body.empty());
        EXPECT_EQ(item.author, posts[i].author);
        EXPECT_EQ(item.link, posts[i].url);
        ASSERT_TRUE(item.published.has_value());
        EXPECT_EQ(*item.published, posts[i].at);
        EXPECT_TRUE(posts[i].lang.empty()) << "a feed names no language: replay guesses as live does";
    }
}
