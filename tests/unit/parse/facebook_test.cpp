// Meta webhook payloads → item frames (parse/facebook.hpp), from tests/data/facebook/.
#include "parse/facebook.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "parse/frame_parser.hpp"

namespace crisisd::parse {
namespace {

std::string data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/facebook/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(facebook_webhook, comments_and_posts_added_become_mentions_and_the_rest_is_ignored) {
    auto changes = read_facebook_webhook(data("feed-changes.json"));
    ASSERT_FALSE(changes.error);
    ASSERT_EQ(changes.frames.size(), 2u);
    EXPECT_EQ(changes.ignored, 3u);
    auto items = make_parser({"item", 1 << 20, {}, {}});
    core::mention m;
    ASSERT_EQ(items->parse(changes.frames[0], m).kind, frame_kind::mention);
    EXPECT_EQ(m.id, "901234567890123_1122334455667788");
    EXPECT_EQ(m.author, "Maria Kern (7012345678901234)");
    EXPECT_TRUE(m.author_vouched);
    EXPECT_NE(m.text.find("Hotline von liwest"), std::string::npos);
    EXPECT_EQ(m.url, "https://www.facebook.com/104820508212345_901234567890123?comment_id=1122334455667788");
    ASSERT_TRUE(m.created_at);
    EXPECT_EQ(core::format_rfc3339(*m.created_at), "2026-12-04T07:40:00Z");
    ASSERT_EQ(items->parse(changes.frames[1], m).kind, frame_kind::mention);
    EXPECT_EQ(m.id, "104820508212345_902345678901234");
    EXPECT_EQ(m.url, "https://www.facebook.com/104820508212345_902345678901234");
}

TEST(facebook_webhook, an_edit_keeps_the_comment_id_so_it_is_a_duplicate) {
    auto changes = read_facebook_webhook(data("comment-edited.json"));
    ASSERT_EQ(changes.frames.size(), 1u);
    auto items = make_parser({"item", 1 << 20, {}, {}});
    core::mention m;
    ASSERT_EQ(items->parse(changes.frames[0], m).kind, frame_kind::mention);
    EXPECT_EQ(items->dedup_key(), "901234567890123_1122334455667788");
}

TEST(facebook_webhook, bodies_that_are_not_page_webhooks_are_refused) {
    EXPECT_EQ(read_facebook_webhook("nope").error, reject_reason::malformed_json);
    EXPECT_EQ(read_facebook_webhook(R"({"object":"user","entry":[]})").error, reject_reason::bad_field);
    EXPECT_EQ(read_facebook_webhook(R"({"object":"page"})").error, reject_reason::bad_field);
    auto no_id = read_facebook_webhook(
        R"({"object":"page","entry":[{"changes":[{"field":"feed","value":{"item":"comment","verb":"add"}}]}]})");
    EXPECT_FALSE(no_id.error);
    EXPECT_EQ(no_id.unusable, 1u);
}

}  // namespace
}  // namespace crisisd::parse
