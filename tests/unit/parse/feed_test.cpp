// RSS 2.0 and Atom documents → items (parse/feed.hpp), from the documents in tests/data/feed/
// (tests/data/feed/README.md says which documented behaviour each follows).
#include "parse/feed.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crisisd::parse {
namespace {

std::string data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/feed/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(feed, a_discourse_rss_feed_gives_its_topics_with_guid_author_link_and_time) {
    auto doc = read_feed(data("discourse-latest.rss"));
    ASSERT_EQ(doc.error, feed_error::none) << doc.detail;
    ASSERT_EQ(doc.items.size(), 3u);
    const auto& first = doc.items[0];
    EXPECT_EQ(first.id, "forum.example.at-topic-4711");
    EXPECT_EQ(first.title, "Kein Internet in Linz seit 6 Uhr");
    EXPECT_EQ(first.author, "maria_k");  // dc:creator
    EXPECT_EQ(first.link, "https://forum.example.at/t/kein-internet-in-linz-seit-6-uhr/4711");
    EXPECT_TRUE(first.body_html);
    EXPECT_NE(first.body.find("<p>Seit heute früh geht bei mir gar nichts mehr"), std::string::npos) << first.body;
    ASSERT_TRUE(first.published);
    EXPECT_EQ(core::format_rfc3339(*first.published), "2026-12-04T06:14:09Z");
    EXPECT_EQ(doc.items[1].title, "Störung Wels? & keine Info von liwest");  // predefined entity expanded
}

TEST(feed, an_atom_feed_gives_id_alternate_link_author_and_published_time) {
    auto doc = read_feed(data("news.atom"));
    ASSERT_EQ(doc.error, feed_error::none) << doc.detail;
    ASSERT_EQ(doc.items.size(), 2u);
    const auto& e = doc.items[0];
    EXPECT_EQ(e.id, "tag:news.example.at,2026-12-04:/technik/881");
    EXPECT_EQ(e.link, "https://news.example.at/technik/grossstoerung-internet-ooe");  // rel=alternate, not edit
    EXPECT_EQ(e.author, "Anna Berger");
    EXPECT_TRUE(e.body_html);
    EXPECT_EQ(e.body, "<p>Tausende Kundinnen und Kunden sind seit dem Morgen <b>ohne Internet</b>.</p>");
    ASSERT_TRUE(e.published);
    EXPECT_EQ(core::format_rfc3339(*e.published), "2026-12-04T06:25:00Z");  // <published>, not <updated>
    // xhtml content: its text, markup dropped; a link without rel is the alternate one.
    EXPECT_FALSE(doc.items[1].body_html);
    EXPECT_EQ(doc.items[1].body, "Ab Montag gilt eine neue Schaltung.");
    EXPECT_EQ(doc.items[1].link, "https://news.example.at/verkehr/ampel-linz");
    ASSERT_TRUE(doc.items[1].published);
    EXPECT_EQ(core::format_rfc3339(*doc.items[1].published), "2026-12-03T16:00:00Z");  // <updated>
}

TEST(feed, an_item_without_guid_is_known_by_its_link) {
    auto doc = read_feed(R"(<rss version="2.0"><channel><item><title>a</title><link>https://x/1</link></item>
        <item><title>no identity</title></item></channel></rss>)");
    ASSERT_EQ(doc.error, feed_error::none);
    ASSERT_EQ(doc.items.size(), 2u);
    EXPECT_EQ(doc.items[0].id, "https://x/1");
    EXPECT_EQ(doc.items[1].id, "");
}

TEST(feed, the_billion_laughs_are_refused_without_expanding_anything) {
    auto doc = read_feed(data("billion-laughs.xml"));
    EXPECT_EQ(doc.error, feed_error::entities);
    EXPECT_TRUE(doc.items.empty());
    EXPECT_NE(doc.detail.find("lol"), std::string::npos) << doc.detail;
}

TEST(feed, an_external_entity_is_refused_and_never_read) {
    auto doc = read_feed(data("external-entity.xml"));
    EXPECT_EQ(doc.error, feed_error::entities);
    EXPECT_TRUE(doc.items.empty());
}

TEST(feed, a_document_naming_an_external_dtd_is_refused_and_the_dtd_never_loaded) {
    auto doc = read_feed(R"(<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:1/evil.dtd">
        <rss version="2.0"><channel><item><guid>1</guid><title>&evil;</title></item></channel></rss>)");
    EXPECT_EQ(doc.error, feed_error::entities);
    EXPECT_TRUE(doc.items.empty());
}

TEST(feed, broken_and_foreign_documents_are_refused) {
    EXPECT_EQ(read_feed("<rss><channel><item>").error, feed_error::malformed);
    EXPECT_EQ(read_feed("not xml at all").error, feed_error::malformed);
    EXPECT_EQ(read_feed("<html><body>hi</body></html>").error, feed_error::not_a_feed);
    feed_limits small;
    small.max_bytes = 10;
    EXPECT_EQ(read_feed(data("news.atom"), small).error, feed_error::oversized);
    small = {};
    small.max_items = 1;
    EXPECT_EQ(read_feed(data("news.atom"), small).error, feed_error::too_many_items);
}

TEST(feed, rfc822_dates_as_rss_writes_them) {
    auto t = core::parse_rfc822("Sat, 07 Sep 2002 09:42:31 GMT");
    ASSERT_TRUE(t);
    EXPECT_EQ(core::format_rfc3339(*t), "2002-09-07T09:42:31Z");
    t = core::parse_rfc822("7 Sep 2002 11:42 +0200");
    ASSERT_TRUE(t);
    EXPECT_EQ(core::format_rfc3339(*t), "2002-09-07T09:42:00Z");
    t = core::parse_rfc822("Sat, 07 Sep 02 04:42:31 EST");
    ASSERT_TRUE(t);
    EXPECT_EQ(core::format_rfc3339(*t), "2002-09-07T09:42:31Z");
    EXPECT_FALSE(core::parse_rfc822("yesterday"));
    EXPECT_FALSE(core::parse_rfc822("Sat, 31 Feb 2002 09:42:31 GMT"));
}

}  // namespace
}  // namespace crisisd::parse
