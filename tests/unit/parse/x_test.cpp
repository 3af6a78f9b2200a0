// The X filtered-stream format on the payloads recorded in tests/data/x (see README.md there):
// the author's handle from includes.users, long posts from note_tweet, in-stream errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/time.hpp"
#include "parse/frame_parser.hpp"

using namespace crisisd;
using parse::frame_kind;
using parse::reject_reason;

namespace {

std::string x_data(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/x/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    auto text = s.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

std::unique_ptr<parse::frame_parser> x_parser() { return parse::make_parser({"x", 1 << 20, {}, {}}); }

}  // namespace

TEST(x_parser, a_post_has_its_author_handle_from_the_expansion_and_a_link) {
    auto p = x_parser();
    core::mention m;
    auto r = p->parse(x_data("stream-post.json"), m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(m.id, "1862750012345678901");
    EXPECT_EQ(p->dedup_key(), "1862750012345678901");
    EXPECT_EQ(m.author, "@kathi_linz");
    EXPECT_TRUE(m.author_vouched);
    EXPECT_EQ(m.lang, "de");
    EXPECT_EQ(m.url, "https://x.com/kathi_linz/status/1862750012345678901");
    EXPECT_NE(m.text.find("kein Internet in Linz"), std::string::npos);
    EXPECT_FALSE(m.html);
    ASSERT_TRUE(m.created_at);
    EXPECT_EQ(core::format_rfc3339(*m.created_at), "2026-11-30T08:14:03Z");
}

TEST(x_parser, a_long_post_is_read_whole_from_note_tweet) {
    auto p = x_parser();
    core::mention m;
    ASSERT_EQ(p->parse(x_data("stream-post-long.json"), m).kind, frame_kind::mention);
    EXPECT_EQ(m.text.find("\xE2\x80\xA6"), std::string::npos);  // not the truncated copy
    EXPECT_NE(m.text.find("Every single month, without fail, we pay."), std::string::npos);
    EXPECT_EQ(m.author, "@nora");
}

TEST(x_parser, a_post_whose_author_x_could_not_expand_keeps_the_numeric_id_and_counts) {
    auto p = x_parser();
    core::mention m;
    ASSERT_EQ(p->parse(x_data("stream-post-partial-error.json"), m).kind, frame_kind::mention);
    EXPECT_EQ(m.author, "x:404404");
    EXPECT_TRUE(m.author_vouched);
    EXPECT_EQ(m.lang, "");  // "und": X could not tell
    EXPECT_EQ(m.url, "https://x.com/i/web/status/1862750100000000001");
}

TEST(x_parser, in_stream_errors_are_stream_errors_and_keep_alives_are_housekeeping) {
    auto p = x_parser();
    core::mention m;
    auto r = p->parse(x_data("stream-operational-disconnect.json"), m);
    EXPECT_EQ(r.kind, frame_kind::rejected);
    EXPECT_EQ(r.reason, reject_reason::stream_error);
    EXPECT_EQ(p->parse("\r\n", m).kind, frame_kind::ignored);
    EXPECT_EQ(p->parse("", m).kind, frame_kind::ignored);
}

TEST(x_parser, refuses_what_is_not_a_post) {
    auto p = x_parser();
    core::mention m;
    EXPECT_EQ(p->parse(R"({"data":{"text":"no id"}})", m).reason, reject_reason::missing_id);
    EXPECT_EQ(p->parse(R"({"data":{"id":"1"}})", m).reason, reject_reason::missing_text);
    EXPECT_EQ(p->parse(R"({"data":{"id":"1","text":7}})", m).reason, reject_reason::bad_field);
    EXPECT_EQ(p->parse(R"({"data":{"id":"1","text":"x","created_at":"yesterday"}})", m).reason,
              reject_reason::bad_field);
    EXPECT_EQ(p->parse(R"({"meta":{}})", m).reason, reject_reason::bad_field);
    EXPECT_EQ(p->parse(R"([1,2])", m).reason, reject_reason::malformed_json);
    EXPECT_EQ(p->parse("{\"data\":{\"id\":\"1\",\"text\":\"\xff\"}}", m).reason, reject_reason::invalid_utf8);
}
