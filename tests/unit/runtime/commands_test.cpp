#include "runtime/commands.hpp"

#include <gtest/gtest.h>

#include "fakes/manual_clock.hpp"
#include "unit/runtime/support.hpp"

using namespace crisisd;
using namespace std::chrono_literals;
using crisisd::runtime_test::engine_with;
using crisisd::runtime_test::open;
using crisisd::runtime_test::t0;
using crisisd::runtime_test::temp_db;

namespace {

// What the commands reported.
struct recorder final : runtime::command_events {
    std::vector<std::string> applied;
    void command_applied(std::string_view verb, std::uint64_t id, std::string_view who,
                         std::string_view result) override {
        applied.push_back(std::string(verb) + " " + std::to_string(id) + " " + std::string(who) + ": " +
                          std::string(result));
    }
};

std::vector<pipeline::rule_settings> rules_named(std::initializer_list<const char*> names) {
    std::vector<pipeline::rule_settings> out;
    for (const auto* n : names) out.emplace_back().name = n;
    return out;
}

struct commands_test : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db = open(tmp.path());
    crisisd::testing::manual_clock clock{t0 + 1min};
    recorder events;
    // A PagerDuty channel "pager", which incident 1 was paged on.
    bool paged = db->actions().enqueue("1/open/0/pager", 1, "pager", "notify", "{}", t0) ==
                 state::action_store::enqueue_result::queued;
    runtime::follow_ups follow{*db, {{"pager", "pagerduty"}}};
    runtime::commands cmds{*db, clock, events, follow};
    incident::engine eng = engine_with(2);
    pipeline::step_result step;
    std::vector<std::uint64_t> touched;
};

}  // namespace

TEST_F(commands_test, an_acknowledgement_is_applied_reported_and_followed_up) {
    ASSERT_TRUE(paged);
    step.opened.push_back(99);  // a command starts its own step
    auto r = cmds.apply("ack", 1, std::nullopt, "alice", eng, step, touched);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, incident::command_result::done);
    EXPECT_TRUE(step.opened.empty());
    EXPECT_EQ(eng.find(1)->state, incident::incident_state::acknowledged);
    EXPECT_EQ(touched, (std::vector<std::uint64_t>{1}));
    ASSERT_EQ(step.actions.size(), 1u);
    EXPECT_EQ(step.actions[0].idempotency_key, "1/acknowledged/pager");
    EXPECT_EQ(step.actions[0].at, t0 + 1min);

    auto again = cmds.apply("ack", 1, std::nullopt, "bob", eng, step, touched);
    EXPECT_EQ(*again, incident::command_result::already_done);
    EXPECT_TRUE(step.actions.empty()) << "only a command that did something follows up";
    EXPECT_EQ(touched.size(), 1u);
    EXPECT_EQ(events.applied, (std::vector<std::string>{"ack 1 alice: done", "ack 1 bob: already done"}));
}

TEST_F(commands_test, a_resolution_is_a_resolved_incident_of_the_step) {
    auto r = cmds.apply("resolve", 2, std::nullopt, "alice", eng, step, touched);
    EXPECT_EQ(*r, incident::command_result::done);
    EXPECT_EQ(step.resolved, (std::vector<std::uint64_t>{2}));
    EXPECT_EQ(eng.find(2)->state, incident::incident_state::resolved);
    EXPECT_EQ(touched, (std::vector<std::uint64_t>{2}));

    cmds.apply("resolve", 2, std::nullopt, "alice", eng, step, touched);
    EXPECT_TRUE(step.resolved.empty()) << "resolving a resolved incident resolves nothing";
}

TEST_F(commands_test, unknown_verbs_and_incidents) {
    EXPECT_FALSE(cmds.apply("reboot", 1, std::nullopt, "alice", eng, step, touched));
    EXPECT_TRUE(events.applied.empty());
    auto r = cmds.apply("veto", 7, 0, "alice", eng, step, touched);
    EXPECT_EQ(*r, incident::command_result::not_found);
    EXPECT_EQ(runtime::describe(*r), "no such incident or step");
    EXPECT_TRUE(touched.empty());
}

// A silence mutes the rule now, survives a restart (the database) and a reload (the list), and
// a reload drops the silences of rules it removed.
TEST_F(commands_test, silences_are_kept_for_restarts_and_reloads) {
    const auto rules = rules_named({"outage", "billing"});
    EXPECT_FALSE(cmds.silence(rules, "nonesuch", "", 1h, "alice", eng));
    EXPECT_EQ(*cmds.silence(rules, "outage", "", 1h, "alice", eng), incident::command_result::done);
    EXPECT_EQ(*cmds.silence(rules, "billing", "k", 2h, "alice", eng), incident::command_result::done);
    EXPECT_TRUE(eng.silenced("outage", "any", clock.now()));

    // A restart: a new runtime over the same database.
    recorder other_events;
    runtime::commands restarted(*db, clock, other_events, follow);
    incident::engine fresh(incident::engine_settings{});
    restarted.restore_silences(fresh);
    EXPECT_TRUE(fresh.silenced("outage", "any", clock.now()));
    EXPECT_TRUE(fresh.silenced("billing", "k", clock.now()));

    // A reload without the outage rule, 90 minutes on: outage's silence is gone with its rule.
    clock.advance(90min);
    incident::engine reloaded(incident::engine_settings{});
    restarted.carry_silences(reloaded, rules_named({"billing"}), clock.now());
    EXPECT_FALSE(reloaded.silenced("outage", "any", clock.now()));
    EXPECT_TRUE(reloaded.silenced("billing", "k", clock.now()));
    // Past its end, a silence is not carried.
    clock.advance(1h);
    incident::engine later(incident::engine_settings{});
    restarted.carry_silences(later, rules_named({"billing"}), clock.now());
    EXPECT_FALSE(later.silenced("billing", "k", t0 + 1h)) << "carried, it would still mute at an hour";
}

TEST_F(commands_test, the_audit_record_carries_the_clock_time) {
    cmds.audit("alice", "127.0.0.1", "ack", "incident 1", "done");
    const auto recs = db->audit().newest(5);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].at, t0 + 1min);
    EXPECT_EQ(recs[0].who, "alice");
    EXPECT_EQ(recs[0].outcome, "done");
}
