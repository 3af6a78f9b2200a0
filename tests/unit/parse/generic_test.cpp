#include "parse/generic.hpp"

#include <gtest/gtest.h>

using namespace crisisd;
using parse::reject_reason;

namespace {
std::optional<reject_reason> parse_one(std::string_view s, core::mention& m, std::size_t limit = 1 << 20) {
    parse::generic_parser p(limit);
    return p.parse(s, m);
}
}  // namespace

TEST(generic_parser, reads_the_canonical_mention) {
    core::mention m;
    auto r = parse_one(R"({"id":"m-1","created_at":"2026-11-26T08:15:02Z","source":"mastodon",)"
                       R"("author":"@anna@example.social","lang":"de",)"
                       R"("text":"Liwest schon wieder Totalausfall, kein Internet seit einer Stunde!!",)"
                       R"("url":"https://example.social/@anna/1"})",
                       m);
    ASSERT_FALSE(r);
    EXPECT_EQ(m.id, "m-1");
    // The wire's "source" is what the sender claims: kept for display, never the mention's
    // source (the configured one, set by the source's runtime); its author is claimed too.
    EXPECT_EQ(m.network, "mastodon");
    EXPECT_EQ(m.source, "");
    EXPECT_EQ(m.author, "@anna@example.social");
    EXPECT_FALSE(m.author_vouched);
    EXPECT_EQ(m.lang, "de");
    EXPECT_EQ(m.text, "Liwest schon wieder Totalausfall, kein Internet seit einer Stunde!!");
    EXPECT_EQ(m.url, "https://example.social/@anna/1");
    ASSERT_TRUE(m.created_at);
    EXPECT_EQ(core::format_rfc3339(*m.created_at), "2026-11-26T08:15:02Z");
}

TEST(generic_parser, unescapes_text_and_ignores_unknown_fields) {
    core::mention m;
    auto r = parse_one(R"({"id":7,"text":"Tom \u0026 Jerry \"quoted\"\nnext","extra":{"a":[1,2,{"b":null}]}})", m);
    ASSERT_FALSE(r);
    EXPECT_EQ(m.id, "7");
    EXPECT_EQ(m.text, "Tom & Jerry \"quoted\"\nnext");
}

TEST(generic_parser, rejects_malformed_json) {
    core::mention m;
    EXPECT_EQ(parse_one(R"({"id":"1","text":"unterminated)", m), reject_reason::malformed_json);
    EXPECT_EQ(parse_one("not json at all", m), reject_reason::malformed_json);
    EXPECT_EQ(parse_one(R"(["id","text"])", m), reject_reason::malformed_json);
    EXPECT_EQ(parse_one(R"({"id":"1","text":"a"} {"id":"2"})", m), reject_reason::malformed_json);
}

TEST(generic_parser, rejects_invalid_utf8) {
    core::mention m;
    EXPECT_EQ(parse_one("{\"id\":\"1\",\"text\":\"caf\xC3\x28\"}", m), reject_reason::invalid_utf8);
}

TEST(generic_parser, rejects_oversized_frames_before_parsing) {
    core::mention m;
    std::string big = R"({"id":"1","text":")" + std::string(2000, 'a') + R"("})";
    EXPECT_EQ(parse_one(big, m, 1024), reject_reason::oversized);
}

TEST(generic_parser, requires_id_and_text) {
    core::mention m;
    EXPECT_EQ(parse_one(R"({"text":"hi"})", m), reject_reason::missing_id);
    EXPECT_EQ(parse_one(R"({"id":"1"})", m), reject_reason::missing_text);
    EXPECT_FALSE(parse_one(R"({"id":"1","text":""})", m));
}

TEST(generic_parser, rejects_wrongly_typed_known_fields) {
    core::mention m;
    EXPECT_EQ(parse_one(R"({"id":"1","text":3})", m), reject_reason::bad_field);
    EXPECT_EQ(parse_one(R"({"id":"1","text":"x","created_at":"yesterday"})", m), reject_reason::bad_field);
}

TEST(generic_parser, accepts_offset_timestamps_and_null_lang) {
    core::mention m;
    ASSERT_FALSE(parse_one(R"({"id":"1","text":"x","lang":null,"created_at":"2026-05-25T14:23:28.757+00:00"})", m));
    EXPECT_TRUE(m.lang.empty());
    EXPECT_EQ(core::format_rfc3339(*m.created_at), "2026-05-25T14:23:28.757Z");
}

TEST(generic_parser, keeps_working_after_a_rejection) {
    parse::generic_parser p;
    core::mention m;
    EXPECT_TRUE(p.parse("{broken", m));
    EXPECT_FALSE(p.parse(R"({"id":"2","text":"fine"})", m));
    EXPECT_EQ(m.id, "2");
}
