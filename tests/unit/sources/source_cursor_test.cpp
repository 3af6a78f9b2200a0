// The shared resume point of a pull source (cluster mode): what one holder writes, the next reads
// back whole; an entry this build cannot read is refused rather than half used.
#include "sources/source_cursor.hpp"

#include <gtest/gtest.h>

#include "cluster/source_cursors.hpp"

namespace crisisd::sources {
namespace {

TEST(source_cursor, a_feed_and_a_jetstream_point_read_back_whole) {
    source_cursor feed;
    feed.holder = "replica-a";
    feed.polled = true;
    feed.etag = "\"v2\"";
    feed.last_modified = "Fri, 04 Dec 2026 07:00:00 GMT";
    feed.items = {"topic-1", "topic-2", "ünïcode \"quoted\""};
    EXPECT_EQ(decode_source_cursor(encode_source_cursor(feed)), feed);

    source_cursor stream;
    stream.holder = "replica-b";
    stream.position = 1733300000123456;
    EXPECT_EQ(decode_source_cursor(encode_source_cursor(stream)), stream);

    source_cursor claim;  // a source with nothing to resume from: only its holder
    claim.holder = "replica-c";
    EXPECT_EQ(decode_source_cursor(encode_source_cursor(claim)), claim);
}

TEST(source_cursor, keeps_the_newest_ids_up_to_the_limit) {
    source_cursor c;
    for (std::size_t i = 0; i < shared_item_limit + 5; ++i) c.items.push_back("id-" + std::to_string(i));
    const auto back = decode_source_cursor(encode_source_cursor(c));
    ASSERT_TRUE(back);
    ASSERT_EQ(back->items.size(), shared_item_limit);
    EXPECT_EQ(back->items.front(), "id-5");
    EXPECT_EQ(back->items.back(), "id-" + std::to_string(shared_item_limit + 4));
}

TEST(source_cursor, an_entry_this_build_cannot_read_is_refused) {
    EXPECT_FALSE(decode_source_cursor(""));
    EXPECT_FALSE(decode_source_cursor("[]"));
    EXPECT_FALSE(decode_source_cursor(R"({"holder":"a"})"));              // no version
    EXPECT_FALSE(decode_source_cursor(R"({"v":2,"holder":"a"})"));        // a later one
    EXPECT_FALSE(decode_source_cursor(R"({"v":1,"position":"12"})"));     // a position as text
    EXPECT_FALSE(decode_source_cursor(R"({"v":1,"position":-4})"));
    EXPECT_FALSE(decode_source_cursor(R"({"v":1,"items":["a",3]})"));
    EXPECT_TRUE(decode_source_cursor(R"({"v":1})"));
}

TEST(source_cursor, a_source_name_becomes_a_key_the_bucket_takes) {
    using cluster::source_cursors;
    EXPECT_EQ(source_cursors::key("forum"), "s.forum");
    EXPECT_EQ(source_cursors::key("bsky-jet_1"), "s.bsky-jet_1");
    // '.', ' ', '*', '>' and non-ASCII bytes are not key characters; '=' is, and so marks an escape.
    EXPECT_EQ(source_cursors::key("a.b c*>"), "s.a=2Eb=20c=2A=3E");
    EXPECT_EQ(source_cursors::key("a=b"), "s.a=3Db");
    EXPECT_EQ(source_cursors::key("\xc3\xbc"), "s.=C3=BC");
}

}  // namespace
}  // namespace crisisd::sources
