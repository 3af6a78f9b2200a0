// A state database meeting cluster mode (issue 15): a single node's open incidents and
// undelivered actions are named and block a replica's start, unless given up knowingly; a
// database a replica ran on, or one with nothing open, passes; a single node clears the mark.
#include "state/handover.hpp"

#include <gtest/gtest.h>

#include "state/database.hpp"
#include "temp_db.hpp"

namespace crisisd::state {
namespace {

const core::timestamp t0 = core::timestamp{} + std::chrono::hours(24 * 20000);

incident::incident open_incident(std::uint64_t id) {
    incident::incident inc;
    inc.id = id;
    inc.rule = "acme-outage";
    inc.key = "acme";
    inc.playbook = "outage";
    inc.opened_at = t0;
    incident::step_status step;
    step.kind = incident::step_kind::statement;
    step.state = incident::step_state::scheduled;
    step.due = t0 + std::chrono::minutes(5);
    inc.steps.push_back(step);
    return inc;
}

TEST(handover, an_empty_database_joins_a_cluster_and_is_marked) {
    testing::temp_db tmp;
    auto db = testing::open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_TRUE(db->handover().single_node().empty());
    const auto r = take_over(*db, "replica-1", false, t0);
    EXPECT_FALSE(r.refused || r.failed) << r.message;
    EXPECT_EQ(db->handover().cluster_replica(), "replica-1");
    // A single node started on it again clears the mark: its state is a single node's once more.
    EXPECT_FALSE(take_over(*db, "", false, t0).failed);
    EXPECT_FALSE(db->handover().cluster_replica());
}

TEST(handover, open_incidents_and_undelivered_actions_refuse_a_replica_until_given_up) {
    testing::temp_db tmp;
    auto db = testing::open_ok(tmp.path());
    ASSERT_TRUE(db);
    auto resolved = open_incident(3);
    resolved.state = incident::incident_state::resolved;
    resolved.resolved_at = t0;
    ASSERT_TRUE(db->incidents().save(resolved));
    ASSERT_TRUE(db->incidents().save(open_incident(4)));
    ASSERT_TRUE(db->incidents().save(open_incident(7)));
    ASSERT_EQ(db->actions().enqueue("k1", 4, "pager", "notify", "{}", t0), action_store::enqueue_result::queued);
    ASSERT_EQ(db->actions().enqueue("k2", 3, "pager", "notify", "{}", t0), action_store::enqueue_result::queued);
    ASSERT_EQ(db->actions().enqueue("k3", 3, "pager", "notify", "{}", t0), action_store::enqueue_result::queued);
    ASSERT_TRUE(db->actions().mark_sent(3, t0));

    const auto left = db->handover().single_node();
    EXPECT_EQ(left.open_incidents, (std::vector<std::uint64_t>{4, 7}));
    EXPECT_EQ(left.undelivered, 2u);
    EXPECT_EQ(left.describe(), "2 open incident(s) (#4, #7) and 2 undelivered action(s)");

    auto r = take_over(*db, "replica-1", false, t0);
    EXPECT_TRUE(r.refused);
    EXPECT_NE(r.message.find("2 open incident(s) (#4, #7) and 2 undelivered action(s)"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("--discard-local-state"), std::string::npos) << r.message;
    EXPECT_FALSE(db->handover().cluster_replica());  // refused: nothing changed
    EXPECT_EQ(db->actions().count(record_state::pending), 2u);

    r = take_over(*db, "replica-1", true, t0 + std::chrono::minutes(1));
    EXPECT_FALSE(r.refused || r.failed) << r.message;
    EXPECT_TRUE(db->handover().single_node().empty());
    EXPECT_EQ(db->handover().cluster_replica(), "replica-1");
    // Given up visibly: dead letters saying why, incidents resolved with a history entry.
    const auto dead = db->actions().dead_letters(10);
    ASSERT_EQ(dead.size(), 2u);
    for (const auto& d : dead) EXPECT_NE(d.last_error.find("--discard-local-state"), std::string::npos);
    const auto live = db->incidents().live(t0);
    ASSERT_EQ(live.incidents.size(), 3u);
    for (const auto& inc : live.incidents) {
        EXPECT_EQ(inc.state, incident::incident_state::resolved);
        if (inc.id == 3) continue;
        EXPECT_EQ(inc.steps.at(0).state, incident::step_state::skipped);
        ASSERT_FALSE(inc.history.empty());
        EXPECT_NE(inc.history.back().what.find("joined a cluster"), std::string::npos);
    }
    // Marked: a replica started on it again does not look (its incidents are partition copies).
    ASSERT_TRUE(db->incidents().save(open_incident(20001)));
    EXPECT_FALSE(take_over(*db, "replica-1", false, t0).refused);
}

}  // namespace
}  // namespace crisisd::state
