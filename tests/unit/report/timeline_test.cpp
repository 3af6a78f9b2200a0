// The terminal timeline shows what was delivered in the words of the action itself, read from its
// payload with the codec (quotes, umlauts and line breaks as a person would read them).
#include "report/timeline.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "incident/codec.hpp"

namespace crisisd::report {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;

std::string printed(const std::function<void(timeline&)>& f) {
    std::FILE* out = std::tmpfile();
    {
        timeline tl(out, nullptr, false);
        tl.set_time(t0);
        f(tl);
    }
    std::string s(static_cast<std::size_t>(std::ftell(out)), '\0');
    std::rewind(out);
    s.resize(std::fread(s.data(), 1, s.size(), out));
    std::fclose(out);
    return s;
}

TEST(timeline, shows_a_posted_statement_as_its_text) {
    incident::action a;
    a.kind = incident::action_kind::statement;
    a.channel = "brand-mastodon";
    a.text = "Wir wissen von der \"Störung\".\nMehr bald.";
    state::record r;
    r.channel = a.channel;
    r.kind = "statement";
    r.payload = incident::action_to_json(a, nullptr, "");
    r.done_at = t0 + 3min;
    const auto out = printed([&](timeline& tl) { tl.action_delivered(r); });
    EXPECT_NE(out.find("08:03:00  ✉   posted to brand-mastodon: \"Wir wissen von der \"Störung\". Mehr bald.\""),
              std::string::npos)
        << out;
}

TEST(timeline, shows_a_notification_and_tolerates_a_damaged_payload) {
    state::record r;
    r.channel = "oncall";
    r.kind = "notify";
    incident::action a;
    a.text = "incident 3 acknowledged";
    r.payload = incident::action_to_json(a, nullptr, "");
    EXPECT_NE(printed([&](timeline& tl) { tl.action_delivered(r); }).find("oncall notified: incident 3 acknowledged"),
              std::string::npos);
    r.payload = "{\"text\":";
    EXPECT_NE(printed([&](timeline& tl) { tl.action_delivered(r); }).find("oncall notified: \n"), std::string::npos);
}

}  // namespace
TEST(timeline, shows_a_post_with_the_source_it_came_on_on_one_line) {
    const auto out = printed([](timeline& tl) { tl.mention("page", "Clara Fuchs (7012)", "Kein Internet.\nSeit 8 Uhr."); });
    EXPECT_EQ(out, "── 2026-11-26 (UTC) ──\n08:00:00  · page     Clara Fuchs (7012): Kein Internet. Seit 8 Uhr.\n");
}

TEST(timeline, keeps_lines_while_held_and_writes_them_in_order_on_release) {
    std::FILE* out = std::tmpfile();
    timeline tl(out, nullptr, false);
    tl.set_time(t0);
    tl.hold();
    tl.note("first");
    tl.source_state("x", true, "");
    EXPECT_EQ(std::ftell(out), 0) << "nothing written while held";
    tl.release();
    tl.note("after");
    std::string s(static_cast<std::size_t>(std::ftell(out)), '\0');
    std::rewind(out);
    s.resize(std::fread(s.data(), 1, s.size(), out));
    std::fclose(out);
    EXPECT_EQ(s, "── 2026-11-26 (UTC) ──\n08:00:00    first\n08:00:00  ~ source x connected\n08:00:00    after\n");
}

}  // namespace crisisd::report
