// Incident snapshots round-trip exactly, so a restart restores incidents and step timers as
// they were.
#include <gtest/gtest.h>

#include "state/incident_snapshot.hpp"

namespace crisisd::state {
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
    st.language = "de";
    st.fresh_approval = true;
    incident::step_identity id;
    id.kind = incident::step_kind::statement;
    id.statement = "outage-holding";
    id.approval_mode = incident::approval::veto;
    id.channels = {"brand-mastodon", "brand-bluesky"};
    id.wait = std::chrono::minutes(3);
    id.after = std::chrono::seconds(7);
    id.unless_acknowledged = false;
    st.identity = id;
    inc.steps.push_back(st);
    incident::step_status later;
    later.index = 2;
    later.on_resolve = true;
    inc.steps.push_back(later);
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
    EXPECT_EQ(back->steps[0].language, "de");
    EXPECT_TRUE(back->steps[0].fresh_approval);
    EXPECT_EQ(back->steps[0].identity, st.identity);
    EXPECT_FALSE(back->steps[1].identity);
    EXPECT_FALSE(back->steps[1].fresh_approval);
    EXPECT_TRUE(back->steps[1].on_resolve);
    EXPECT_FALSE(back->steps[1].due);
    ASSERT_EQ(back->history.size(), 1u);
    EXPECT_EQ(back->history[0].what, "opened");
    EXPECT_FALSE(incident_from_json("[]"));
}

// A snapshot written before steps kept their identity still loads; the missing identity is what
// tells the engine the step counts as changed.
TEST(incident_snapshot, old_snapshots_without_identities_load) {
    const std::string old = R"({"id":3,"rule":"r","key":"k","severity":"critical","playbook":"p","state":"open",
        "opened_at_us":1000,"acknowledged_at_us":null,"resolved_at_us":null,"evidence":{},"languages":{"de":2},
        "steps":[{"index":0,"on_resolve":false,"kind":"statement","state":"scheduled","due_us":2000,"preview":"Hallo"}],
        "history":[]})";
    auto back = incident_from_json(old);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->steps.size(), 1u);
    EXPECT_FALSE(back->steps[0].identity);
    EXPECT_FALSE(back->steps[0].fresh_approval);
    EXPECT_EQ(back->steps[0].preview, "Hallo");
    EXPECT_EQ(back->steps[0].language, "");
    // An identity that cannot be read is no identity either.
    auto damaged = incident_from_json(R"({"id":4,"steps":[{"index":0,"kind":"statement","identity":{"kind":"statement",
        "approval":"sometimes","channels":["x"]}}]})");
    ASSERT_TRUE(damaged);
    EXPECT_FALSE(damaged->steps.at(0).identity);
}

}  // namespace
}  // namespace crisisd::state
