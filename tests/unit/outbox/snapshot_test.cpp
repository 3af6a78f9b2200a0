// Incident snapshots round-trip exactly, so a restart restores incidents and step timers as
// they were.
#include <gtest/gtest.h>

#include "outbox/incident_snapshot.hpp"

namespace crisisd::outbox {
namespace {

TEST(incident_snapshot, round_trips_every_field) {
    incident::incident inc;
    inc.id = 42;
    inc.rule = "isp-outage";
    inc.key = "liwest";
    inc.severity = "critical";
    inc.playbook = "outage-holding-statement";
    inc.state = incident::incident_state::acknowledged;
    inc.opened_at = *core::parse_rfc3339("2026-11-26T08:17:00.123456Z");
    inc.acknowledged_at = inc.opened_at + std::chrono::seconds(30);
    inc.evidence.count = 40;
    inc.evidence.negative_ratio = 0.75;
    inc.evidence.volume_ratio = 6.5;
    inc.languages = {{"de", 30}, {"en", 10}};
    incident::step_status st;
    st.index = 1;
    st.kind = incident::step_kind::statement;
    st.state = incident::step_state::scheduled;
    st.due = inc.opened_at + std::chrono::minutes(3);
    st.preview = "Wir wissen von der Störung \"liwest\".";
    inc.steps.push_back(st);
    inc.steps.push_back({2, true, incident::step_kind::notify, incident::step_state::scheduled, std::nullopt, ""});
    inc.history.push_back({inc.opened_at, "crisisd", "opened"});

    auto back = incident_from_json(incident_to_json(inc));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, 42u);
    EXPECT_EQ(back->rule, inc.rule);
    EXPECT_EQ(back->state, incident::incident_state::acknowledged);
    EXPECT_EQ(back->opened_at, inc.opened_at);
    EXPECT_EQ(back->acknowledged_at, inc.acknowledged_at);
    EXPECT_FALSE(back->resolved_at);
    EXPECT_EQ(back->evidence.volume_ratio, 6.5);
    EXPECT_EQ(back->languages, inc.languages);
    ASSERT_EQ(back->steps.size(), 2u);
    EXPECT_EQ(back->steps[0].due, st.due);
    EXPECT_EQ(back->steps[0].preview, st.preview);
    EXPECT_EQ(back->steps[0].kind, incident::step_kind::statement);
    EXPECT_TRUE(back->steps[1].on_resolve);
    EXPECT_FALSE(back->steps[1].due);
    ASSERT_EQ(back->history.size(), 1u);
    EXPECT_EQ(back->history[0].what, "opened");
    EXPECT_FALSE(incident_from_json("[]"));
}

}  // namespace
}  // namespace crisisd::outbox
