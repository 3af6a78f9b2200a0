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

namespace {

bool same_mention(const core::mention& a, const core::mention& b) {
    return a.id == b.id && a.text == b.text && a.network == b.network && a.author == b.author && a.lang == b.lang &&
           a.url == b.url && a.created_at == b.created_at && a.html == b.html;
}

// parse() and the DOM reading of the same frame: the same rejection, or the same mention.
::testing::AssertionResult agrees_with_dom(std::string_view frame) {
    parse::generic_parser p;
    core::mention fast, reference;
    const auto a = p.parse(frame, fast);
    const auto b = p.parse_reference(frame, reference);
    if (a != b) return ::testing::AssertionFailure() << "results differ for " << frame;
    if (!a && !same_mention(fast, reference)) return ::testing::AssertionFailure() << "fields differ for " << frame;
    return ::testing::AssertionSuccess();
}

const char* const flat_frames[] = {
    R"({"id":"m-1","created_at":"2026-11-26T08:15:02Z","source":"bench","author":"@u@example.social","text":"acme ist down 😡 #fail https://t.co/x","url":"https://example.social/@u/1"})",
    R"({"id":"m-2","lang":"de","text":"Tom \"quoted\" \\ a\/b\nnext\tand\r\b\f","html":true,"author":null})",
    " \n{ \"id\" : \"m-3\" ,\t\"text\" : \"\" , \"html\" : false , \"other\" : \"\\\"x\\\"\" , \"n\" : null } \r\n",
    R"({"id":"m-4","text":"first","text":"second","lang":"en","lang":null,"created_at":"2026-05-25T14:23:28.757+00:00"})",
    R"({})",
    R"({"text":"no id"})",
    R"({"id":"m-5"})",
    R"({"id":"m-6","text":"x","created_at":"yesterday"})",
    R"({"id":"","text":"empty id"})",
};

}  // namespace

TEST(generic_parser, the_flat_reader_reads_flat_objects_as_the_dom_does) {
    for (const char* frame : flat_frames) {
        EXPECT_TRUE(parse::generic_parser::reads_flat(frame)) << frame;
        EXPECT_TRUE(agrees_with_dom(frame));
    }
}

TEST(generic_parser, the_flat_reader_leaves_everything_else_to_the_dom) {
    const std::string frames[] = {
        R"({"id":7,"text":"numeric id"})",
        R"({"id":"1","text":"Tom \u0026 Jerry"})",
        R"({"id":"1","text":"x","extra":{"a":[1,2]}})",
        R"({"id":"1","text":"x","n":1.5e3})",
        R"({"id":"1","text":true})",
        R"({"id":"1","text":"x","html":"yes"})",
        R"({"id":"1","text":"x","html":null})",
        R"({"id":"1","text":"x","created_at":false})",
        R"({"id":"1","text":"x","created_at":"2026-11-26T08:15:02\/Z"})",
        R"({"i\u0064":"1","text":"x"})",
        R"({"id":"1","text":"bad \x escape"})",
        std::string("{\"id\":\"1\",\"text\":\"tab\there\"}"),
        std::string("{\"id\":\"1\",\"text\":\"nul\0here\"}", 24),
        "{\"id\":\"1\",\"text\":\"caf\xC3\x28\"}",
        R"({"id":"1","text":"a"} {"id":"2"})",
        R"({"id":"1","text":"a"}x)",
        R"({"id":"1","text":"unterminated)",
        R"({"id":"1","text":"a",})",
        R"({"id":"1","text":"a" "url":"b"})",
        R"({"id":"1","text":"a","html":truex})",
        R"({"id":"1","text":"a","html":tru})",
        R"({"id":"1","text":"a","n":nul})",
        R"({"id":"1","text")",
        R"(["id","text"])",
        R"("just a string")",
        "",
        "   ",
        "\xEF\xBB\xBF{\"id\":\"1\",\"text\":\"bom\"}",
    };
    for (const auto& frame : frames) {
        EXPECT_FALSE(parse::generic_parser::reads_flat(frame)) << frame;
        EXPECT_TRUE(agrees_with_dom(frame));
    }
}

// Every frame a byte away from a flat one (each byte replaced by a structural or awkward one,
// removed, or doubled): the flat reader must accept only what the DOM accepts, with the same
// fields, and whatever it gives up on must come out as the DOM says.
TEST(generic_parser, the_flat_reader_agrees_with_the_dom_a_byte_away_from_flat_frames) {
    const char replacements[] = {'"', '\\', '{', '}', ',', ':', ' ', 'n', 't', 'u', '0', '/', '\x01', '\x7f', '\xc3', '\x80', '\xff'};
    std::size_t flat = 0, total = 0;
    for (std::string_view base : flat_frames) {
        for (std::size_t i = 0; i < base.size(); ++i) {
            std::vector<std::string> variants;
            for (char r : replacements) {
                std::string v(base);
                v[i] = r;
                variants.push_back(std::move(v));
            }
            variants.push_back(std::string(base.substr(0, i)) + std::string(base.substr(i + 1)));
            variants.push_back(std::string(base.substr(0, i + 1)) + std::string(base.substr(i)));
            variants.push_back(std::string(base.substr(0, i)));  // truncated
            for (const auto& v : variants) {
                ++total;
                if (parse::generic_parser::reads_flat(v)) ++flat;
                ASSERT_TRUE(agrees_with_dom(v));
            }
        }
    }
    // Both readings were exercised, not only the fallback.
    EXPECT_GT(flat, total / 10);
    EXPECT_LT(flat, total);
}
