// The wire formats on real recorded frames (tests/data/streams, see SOURCE.txt there) and on
// the edge cases producers actually send.
#include "parse/frame_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json_writer.hpp"

using namespace crisisd;
using parse::frame_kind;
using parse::reject_reason;

namespace {

const std::string streams = std::string(CRISISD_TEST_DATA) + "/streams/";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> jetstream_lines() {
    std::ifstream in(streams + "jetstream/jetstream-v1-subscribe.jsonl");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::unique_ptr<parse::frame_parser> parser(std::string format, std::size_t max_bytes = 1 << 20) {
    parse::parser_settings s;
    s.format = std::move(format);
    s.max_bytes = max_bytes;
    auto p = parse::make_parser(s);
    EXPECT_TRUE(p);
    return p;
}

// A websocket frame as Mastodon sends it: the object JSON-encoded into "payload".
std::string mastodon_frame(std::string_view event, std::string_view payload_json) {
    std::string frame = R"({"stream":["public"],"event":")" + std::string(event) + R"(","payload":)";
    core::append_json_string(frame, payload_json);
    frame += "}";
    return frame;
}

std::string rfc3339(const core::mention& m) { return m.created_at ? core::format_rfc3339(*m.created_at) : ""; }

}  // namespace

TEST(make_parser, knows_the_three_formats_and_nothing_else) {
    for (auto f : parse::known_formats()) EXPECT_TRUE(parse::make_parser({std::string(f), 1 << 20, {}, {}}));
    EXPECT_FALSE(parse::make_parser({"nostr", 1 << 20, {}, {}}));
}

// --- Jetstream ---

TEST(jetstream_parser, reads_every_recorded_frame_as_the_right_kind) {
    auto lines = jetstream_lines();
    ASSERT_EQ(lines.size(), 15u);
    auto p = parser("jetstream");
    core::mention m;
    const frame_kind expected[] = {
        frame_kind::ignored, frame_kind::mention, frame_kind::ignored, frame_kind::ignored, frame_kind::ignored,
        frame_kind::ignored, frame_kind::ignored, frame_kind::mention, frame_kind::mention, frame_kind::mention,
        frame_kind::mention, frame_kind::mention, frame_kind::mention, frame_kind::mention, frame_kind::deleted};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto r = p->parse(lines[i], m);
        EXPECT_EQ(r.kind, expected[i]) << "line " << i + 1;
        EXPECT_GT(r.position, 1'700'000'000'000'000) << "line " << i + 1;  // time_us, for the cursor
    }
}

TEST(jetstream_parser, a_post_has_text_language_author_and_links) {
    auto p = parser("jetstream");
    core::mention m;
    auto r = p->parse(jetstream_lines()[1], m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(r.position, 1779719009157119);
    EXPECT_FALSE(r.edit);
    EXPECT_EQ(m.id, "at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223");
    EXPECT_EQ(m.text, "Try RSV for a good time !!");
    EXPECT_EQ(m.lang, "en");
    EXPECT_EQ(m.author, "did:plc:q235v55g5unth4zjjdpacfdr");
    EXPECT_TRUE(m.author_vouched);  // the network names the repository
    EXPECT_EQ(m.url, "https://bsky.app/profile/did:plc:q235v55g5unth4zjjdpacfdr/post/3mmoojp4cd223");
    EXPECT_FALSE(m.html);
    EXPECT_EQ(rfc3339(m), "2026-05-25T14:23:28.757Z");
    EXPECT_EQ(p->dedup_key(), "did:plc:q235v55g5unth4zjjdpacfdr app.bsky.feed.post 3mmoojp4cd223 create 3mmoojpaqkn2z");
}

TEST(jetstream_parser, reads_non_latin_text_intact) {
    auto p = parser("jetstream");
    core::mention m;
    ASSERT_EQ(p->parse(jetstream_lines()[8], m).kind, frame_kind::mention);
    EXPECT_EQ(m.lang, "ja");
    EXPECT_EQ(m.text.rfind("待って天幕の", 0), 0u);
    ASSERT_EQ(p->parse(jetstream_lines()[9], m).kind, frame_kind::mention);
    EXPECT_EQ(m.text, "이쁘시네용~~~");
}

TEST(jetstream_parser, takes_the_primary_tag_of_the_first_language_and_accepts_offset_timestamps) {
    auto p = parser("jetstream");
    core::mention m;
    ASSERT_EQ(p->parse(jetstream_lines()[11], m).kind, frame_kind::mention);
    EXPECT_EQ(m.lang, "en");  // ["en-US","en"]
    EXPECT_EQ(rfc3339(m), "2026-07-04T14:38:02Z");  // "+00:00"
    EXPECT_NE(m.text.find("\n\nhttps://"), std::string::npos);
}

TEST(jetstream_parser, an_empty_text_with_an_embed_is_still_a_post_and_escapes_are_decoded) {
    auto lines = jetstream_lines();
    ASSERT_NE(lines[12].find("\\u0026"), std::string::npos);
    auto p = parser("jetstream");
    core::mention m;
    ASSERT_EQ(p->parse(lines[12], m).kind, frame_kind::mention);
    EXPECT_EQ(m.text, "");
}

TEST(jetstream_parser, missing_langs_leave_the_language_unknown) {
    auto p = parser("jetstream");
    core::mention m;
    ASSERT_EQ(p->parse(jetstream_lines()[13], m).kind, frame_kind::mention);
    EXPECT_EQ(m.lang, "");
    EXPECT_EQ(m.text.rfind("denikn.cz/2113523\nV souvislosti", 0), 0u);
}

TEST(jetstream_parser, a_deleted_post_carries_its_id) {
    auto p = parser("jetstream");
    core::mention m;
    auto r = p->parse(jetstream_lines()[14], m);
    ASSERT_EQ(r.kind, frame_kind::deleted);
    EXPECT_EQ(m.id, "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p");
    EXPECT_NE(p->dedup_key().find(" delete "), std::string_view::npos);
}

TEST(jetstream_parser, an_edit_is_a_mention_marked_as_edit_with_its_own_dedup_key) {
    auto p = parser("jetstream");
    core::mention m;
    std::string create = jetstream_lines()[1];
    ASSERT_EQ(p->parse(create, m).kind, frame_kind::mention);
    std::string create_key(p->dedup_key());
    std::string update = create;
    update.replace(update.find("\"create\""), 8, "\"update\"");
    update.replace(update.find("3mmoojpaqkn2z"), 13, "3mmoojpaqkn3a");
    auto r = p->parse(update, m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_TRUE(r.edit);
    EXPECT_EQ(m.id, "at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223");
    EXPECT_NE(p->dedup_key(), create_key);
}

TEST(jetstream_parser, tolerates_the_v2_cursor_field) {
    auto line = jetstream_lines()[1];
    line.insert(1, R"("cursor":123456,)");
    auto p = parser("jetstream");
    core::mention m;
    EXPECT_EQ(p->parse(line, m).kind, frame_kind::mention);
}

TEST(jetstream_parser, rejects_broken_frames_with_a_reason) {
    auto p = parser("jetstream", 4096);
    core::mention m;
    EXPECT_EQ(p->parse("{\"did\":", m).reason, reject_reason::malformed_json);
    EXPECT_EQ(p->parse("[1,2]", m).reason, reject_reason::malformed_json);
    EXPECT_EQ(p->parse(R"({"did":"d","kind":"commit"})", m).reason, reject_reason::bad_field);  // no time_us
    EXPECT_EQ(p->parse(R"({"did":"d","time_us":5,"kind":"commit"})", m).reason, reject_reason::bad_field);
    EXPECT_EQ(p->parse(R"({"did":"d","time_us":5,"kind":"commit","commit":{"operation":"create",)"
                       R"("collection":"app.bsky.feed.post","rkey":"r","rev":"v","record":{}}})",
                       m)
                  .reason,
              reject_reason::missing_text);
    EXPECT_EQ(p->parse(R"({"did":"d","time_us":5,"kind":"commit","commit":{"operation":"create",)"
                       R"("collection":"app.bsky.feed.post","rkey":"r","rev":"v","record":{"text":7}}})",
                       m)
                  .reason,
              reject_reason::bad_field);
    std::string bad_utf8 = jetstream_lines()[1];
    bad_utf8.replace(bad_utf8.find("Try"), 3, "\xff\xfe\xfd");
    EXPECT_EQ(p->parse(bad_utf8, m).reason, reject_reason::invalid_utf8);
    EXPECT_EQ(p->parse(std::string(5000, ' '), m).reason, reject_reason::oversized);
    // And it still works afterwards.
    EXPECT_EQ(p->parse(jetstream_lines()[1], m).kind, frame_kind::mention);
}

TEST(jetstream_parser, reads_a_huge_post_within_the_limit) {
    std::string text(200000, 'x');
    std::string frame = R"({"did":"did:plc:a","time_us":1783175888090631,"kind":"commit","commit":{"rev":"r1",)"
                        R"("operation":"create","collection":"app.bsky.feed.post","rkey":"k",)"
                        R"("record":{"text":")" + text + R"("}}})";
    auto p = parser("jetstream");
    core::mention m;
    ASSERT_EQ(p->parse(frame, m).kind, frame_kind::mention);
    EXPECT_EQ(m.text.size(), text.size());
    EXPECT_EQ(rfc3339(m), "2026-07-04T14:38:08.090Z");  // no createdAt: Jetstream's time_us
}

// --- Mastodon ---

TEST(mastodon_parser, reads_the_recorded_update_frame) {
    auto p = parser("mastodon");
    core::mention m;
    auto r = p->parse(read_file(streams + "mastodon/ws-update-public.json"), m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_FALSE(r.edit);
    EXPECT_EQ(r.position, 0);
    EXPECT_EQ(m.id, "108913983692647032");
    EXPECT_EQ(m.text,
              "<p>And now I can't exit the inner nvim because I mapped escape to the parent vim instance 😂</p>");
    EXPECT_TRUE(m.html);
    EXPECT_EQ(m.lang, "en");
    EXPECT_EQ(m.author, "@tobtobxx@fosstodon.org");
    EXPECT_TRUE(m.author_vouched);
    EXPECT_EQ(m.url, "https://fosstodon.org/@tobtobxx/108913983628474640");
    EXPECT_EQ(rfc3339(m), "2022-08-30T21:38:22Z");
}

TEST(mastodon_parser, a_delete_carries_the_bare_id) {
    auto p = parser("mastodon");
    core::mention m;
    auto r = p->parse(read_file(streams + "mastodon/ws-delete-public.json"), m);
    ASSERT_EQ(r.kind, frame_kind::deleted);
    EXPECT_EQ(m.id, "106692867363994015");
}

TEST(mastodon_parser, filters_changed_has_no_payload_and_is_ignored) {
    auto p = parser("mastodon");
    core::mention m;
    EXPECT_EQ(p->parse(read_file(streams + "mastodon/ws-filters_changed-user.json"), m).kind, frame_kind::ignored);
}

TEST(mastodon_parser, an_edit_is_rescored_under_a_new_dedup_key) {
    auto status = read_file(streams + "mastodon/sse-data-status.update.json");
    while (!status.empty() && (status.back() == '\n' || status.back() == '\r')) status.pop_back();
    auto p = parser("mastodon");
    core::mention m;
    auto r = p->parse(mastodon_frame("status.update", status), m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_TRUE(r.edit);
    EXPECT_EQ(m.id, "109348699525106378");
    EXPECT_NE(m.text.find("doesn&#39;t"), std::string::npos);  // entities stay for the HTML stripper
    EXPECT_EQ(p->dedup_key(), "109348699525106378 2022-11-15T16:12:41.694Z");
}

TEST(mastodon_parser, a_mention_notification_yields_its_status_with_null_language) {
    auto notification = read_file(streams + "mastodon/sse-data-notification-mention.json");
    auto p = parser("mastodon");
    core::mention m;
    auto r = p->parse(mastodon_frame("notification", notification), m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(m.lang, "");
    EXPECT_TRUE(m.html);
    EXPECT_FALSE(m.id.empty());
    EXPECT_NE(m.id, "68739215");  // the status, not the notification
    // Other notification types are not posts about anyone.
    EXPECT_EQ(p->parse(mastodon_frame("notification", R"({"id":"1","type":"follow"})"), m).kind,
              frame_kind::ignored);
}

TEST(mastodon_parser, a_boost_takes_the_boosted_content_and_keeps_the_booster_as_author) {
    auto p = parser("mastodon");
    core::mention m;
    auto r = p->parse(
        mastodon_frame("update", R"({"id":"2","created_at":"2026-11-26T08:15:02+00:00","content":"","language":null,)"
                                 R"("url":null,"account":{"acct":"booster@x.social"},"reblog":{"id":"1",)"
                                 R"("content":"<p>Liwest down &amp; out</p>","spoiler_text":"outage",)"
                                 R"("language":"de","url":"https://y.social/@a/1","account":{"acct":"a@y.social"}}})"),
        m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(m.id, "2");
    EXPECT_EQ(m.author, "@booster@x.social");
    EXPECT_EQ(m.text, "<p>outage</p><p>Liwest down &amp; out</p>");
    EXPECT_EQ(m.lang, "de");
    EXPECT_EQ(m.url, "https://y.social/@a/1");
    EXPECT_EQ(rfc3339(m), "2026-11-26T08:15:02Z");
}

TEST(mastodon_parser, rejects_what_cannot_be_a_status) {
    auto p = parser("mastodon", 4096);
    core::mention m;
    EXPECT_EQ(p->parse(R"({"error":"Unknown stream type","status":400})", m).reason, reject_reason::stream_error);
    EXPECT_EQ(p->parse(R"({"stream":["public"],"event":"update"})", m).reason, reject_reason::bad_field);
    EXPECT_EQ(p->parse(mastodon_frame("update", "{not json"), m).reason, reject_reason::malformed_json);
    EXPECT_EQ(p->parse(mastodon_frame("update", R"({"content":"<p>x</p>"})"), m).reason, reject_reason::missing_id);
    EXPECT_EQ(p->parse(mastodon_frame("update", R"({"id":"1"})"), m).reason, reject_reason::missing_text);
    EXPECT_EQ(p->parse(mastodon_frame("update", R"({"id":"1","content":"x","created_at":"yesterday"})"), m).reason,
              reject_reason::bad_field);
    EXPECT_EQ(p->parse(R"({"stream":["public"],"event":"delete","payload":""})", m).reason, reject_reason::missing_id);
    EXPECT_EQ(p->parse(std::string(4097, ' '), m).reason, reject_reason::oversized);
    EXPECT_EQ(p->parse(read_file(streams + "mastodon/ws-update-public.json"), m).kind, frame_kind::mention);
}

// --- generic with a field map ---

TEST(generic_parser_map, reads_fields_through_json_pointers) {
    parse::parser_settings s;
    s.field_map = {{"id", "/data/id"},       {"text", "/data/body"}, {"author", "/data/user/name"},
                   {"lang", "/meta/0"},      {"source", "/meta/1"}};
    auto p = parse::make_parser(s);
    core::mention m;
    auto r = p->parse(R"({"data":{"id":42,"body":"Tom \u0026 Jerry","user":{"name":"anna"}},"meta":["de","relay"],)"
                      R"("created_at":"2026-11-26T09:15:02+01:00"})",
                      m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(m.id, "42");
    EXPECT_EQ(m.text, "Tom & Jerry");
    EXPECT_EQ(m.author, "anna");
    EXPECT_FALSE(m.author_vouched);  // generic JSON: claimed by the sender
    EXPECT_EQ(m.network, "relay");   // shown, never the mention's source
    EXPECT_EQ(m.source, "");
    EXPECT_EQ(m.lang, "de");
    EXPECT_EQ(rfc3339(m), "2026-11-26T08:15:02Z");  // unmapped: the canonical key
    EXPECT_EQ(p->dedup_key(), "42");
    EXPECT_EQ(p->parse(R"({"data":{"id":"1"}})", m).reason, reject_reason::missing_text);
    EXPECT_EQ(p->parse(R"({"data":{"body":"x"}})", m).reason, reject_reason::missing_id);
    EXPECT_EQ(p->parse(R"({"data":{"id":"1","body":["x"]}})", m).reason, reject_reason::bad_field);
}

TEST(generic_parser_map, only_when_ignores_other_messages_such_as_nostr_eose) {
    parse::parser_settings s;
    s.field_map = {{"id", "/2/id"}, {"text", "/2/content"}, {"author", "/2/pubkey"}};
    s.only_when = {{"/0", "EVENT"}};
    auto p = parse::make_parser(s);
    core::mention m;
    auto r = p->parse(R"(["EVENT","crisisd-1",{"id":"ab12","pubkey":"f00","kind":1,"content":"acme is down"}])", m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(m.id, "ab12");
    EXPECT_EQ(m.text, "acme is down");
    EXPECT_EQ(p->parse(R"(["EOSE","crisisd-1"])", m).kind, frame_kind::ignored);
    EXPECT_EQ(p->parse(R"(["NOTICE","slow down"])", m).kind, frame_kind::ignored);
}

TEST(generic_parser_map, the_canonical_format_goes_through_the_same_interface) {
    auto p = parser("generic");
    core::mention m;
    auto r = p->parse(R"({"id":"m-1","text":"","lang":null,"created_at":"2026-11-26T08:15:02.5+00:00"})", m);
    ASSERT_EQ(r.kind, frame_kind::mention);
    EXPECT_EQ(p->dedup_key(), "m-1");
    EXPECT_EQ(rfc3339(m), "2026-11-26T08:15:02.500Z");
    EXPECT_EQ(p->parse("{", m).reason, reject_reason::malformed_json);
}
