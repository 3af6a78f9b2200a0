// The partitioned intake's message payload (issue 15): what the front publishes is what the
// partition's owner observes.
#include "runtime/cluster_intake.hpp"

#include <gtest/gtest.h>

using namespace crisisd;

TEST(cluster_intake, a_stream_mention_round_trips_with_its_counting_flag) {
    core::mention m;
    m.id = "m1";
    m.text = "<p>acme \"down\"\n</p>";
    m.source = "ingest";
    m.network = "mastodon";
    m.author = "@a";
    m.lang = "en";
    m.url = "https://example.org/1";
    m.created_at = core::timestamp(core::duration(1'733'000'000'123'456));
    m.html = true;
    m.author_vouched = true;
    core::mention back;
    bool counts = false;
    ASSERT_TRUE(runtime::decode_stream_mention(runtime::encode_stream_mention(m, true), back, counts));
    EXPECT_TRUE(counts);
    EXPECT_EQ(back.id, m.id);
    EXPECT_EQ(back.text, m.text);
    EXPECT_EQ(back.source, m.source);
    EXPECT_EQ(back.network, m.network);
    EXPECT_EQ(back.author, m.author);
    EXPECT_EQ(back.lang, m.lang);
    EXPECT_EQ(back.url, m.url);
    EXPECT_EQ(back.created_at, m.created_at);
    EXPECT_TRUE(back.html);
    EXPECT_TRUE(back.author_vouched);

    m.html = false;
    m.author_vouched = false;
    m.created_at.reset();
    ASSERT_TRUE(runtime::decode_stream_mention(runtime::encode_stream_mention(m, false), back, counts));
    EXPECT_FALSE(counts);
    EXPECT_FALSE(back.html);
    EXPECT_FALSE(back.author_vouched);
    EXPECT_FALSE(back.created_at.has_value());
}

TEST(cluster_intake, a_payload_that_is_not_a_mention_is_refused) {
    core::mention back;
    bool counts = true;
    EXPECT_FALSE(runtime::decode_stream_mention("not json", back, counts));
    EXPECT_FALSE(runtime::decode_stream_mention("[1,2]", back, counts));
    EXPECT_FALSE(runtime::decode_stream_mention(R"({"text":"no id or source"})", back, counts));
    EXPECT_FALSE(counts);
}
