// Reload of the rules: which rules keep their detector state is the state module's rule
// fingerprint, as at a restart — a changed threshold keeps it, a changed window starts fresh —
// and open incidents, their numbers and the note of what changed carry over.
#include "runtime/rule_reload.hpp"

#include <gtest/gtest.h>

#include "fakes/manual_clock.hpp"
#include "state/detector_snapshots.hpp"
#include "unit/runtime/support.hpp"

using namespace crisisd;
using namespace std::chrono_literals;
using crisisd::runtime_test::open;
using crisisd::runtime_test::t0;
using crisisd::runtime_test::temp_db;

namespace {

struct no_events final : runtime::command_events {
    void command_applied(std::string_view, std::uint64_t, std::string_view, std::string_view) override {}
};

pipeline::rule_settings rule(std::string name, std::string keyword, double threshold) {
    pipeline::rule_settings r;
    r.name = std::move(name);
    r.match.keywords = {std::move(keyword)};
    detect::condition c;
    c.what = detect::metric::count;
    c.op = detect::comparison::ge;
    c.threshold = threshold;
    r.detect.fire_when.conditions = {c};
    return r;
}

pipeline::pipeline_settings settings_of(std::vector<pipeline::rule_settings> rules) {
    pipeline::pipeline_settings ps;
    ps.rules = std::move(rules);
    return ps;
}

struct rule_reload_test : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db = open(tmp.path());
    crisisd::testing::manual_clock clock{t0};
    no_events events;
    runtime::follow_ups follow{*db, {}};
    runtime::commands cmds{*db, clock, events, follow};
    std::vector<pipeline::rule_settings> running = {rule("alpha", "outage", 1000), rule("beta", "billing", 1000)};
    runtime::detection det{std::move(std::get<std::unique_ptr<pipeline::pipeline>>(
                               pipeline::pipeline::create(settings_of(running)))),
                           {}, {}};
    std::vector<std::string> notes;

    void feed(std::string_view text, int n) {
        for (int i = 0; i < n; ++i) {
            core::mention m;
            m.id = std::string(text) + std::to_string(i);
            m.text = std::string(text);
            m.author = "a" + std::to_string(i);
            det.pipe->process(m, clock.now(), det.step);
        }
    }
    // A rule that kept its state still holds the key its earlier mentions made live.
    std::size_t live_keys_of(std::string_view name) const {
        return det.pipe->detector().keys(det.pipe->rule_index(name)).size();
    }
};

}  // namespace

TEST_F(rule_reload_test, a_threshold_change_keeps_the_rule_state_as_a_restart_would) {
    feed("outage", 5);
    feed("billing", 3);
    ASSERT_EQ(live_keys_of("alpha"), 1u);
    auto next = running;
    next[0].detect.fire_when.conditions[0].threshold = 10;  // only a condition changed
    // The same fingerprint is what a restart compares: it would adopt the saved state too.
    ASSERT_EQ(state::rule_fingerprint(next[0]), state::rule_fingerprint(running[0]));
    auto* before = det.pipe.get();
    EXPECT_EQ(runtime::reload_rules(det, running, settings_of(next), cmds, clock.now(), notes), "");
    EXPECT_NE(det.pipe.get(), before) << "a changed rule set gets a new pipeline";
    EXPECT_EQ(live_keys_of("alpha"), 1u);
    EXPECT_EQ(live_keys_of("beta"), 1u);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0], "rules changed: alpha; detector state kept by 1 unchanged rule(s) and 1 whose conditions "
                        "alone changed, the others start afresh");
}

TEST_F(rule_reload_test, a_window_change_starts_that_rule_afresh) {
    feed("outage", 5);
    auto next = running;
    next[0].detect.window = 10min;
    EXPECT_EQ(runtime::reload_rules(det, running, settings_of(next), cmds, clock.now(), notes), "");
    EXPECT_EQ(live_keys_of("alpha"), 0u);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("kept by 1 unchanged rule(s) and 0 whose"), std::string::npos) << notes[0];
}

TEST_F(rule_reload_test, an_unchanged_rule_set_keeps_the_pipeline_and_says_nothing_of_rules) {
    feed("outage", 5);
    auto* before = det.pipe.get();
    EXPECT_EQ(runtime::reload_rules(det, running, settings_of(running), cmds, clock.now(), notes), "");
    EXPECT_EQ(det.pipe.get(), before);
    EXPECT_TRUE(notes.empty());
    EXPECT_EQ(live_keys_of("alpha"), 1u);
}

TEST_F(rule_reload_test, a_severity_change_is_a_change_but_keeps_the_state) {
    // Every field of a rule takes part in "changed" (rule_settings' operator==), so a field added
    // later cannot be forgotten by a hand-written comparison and silently not applied.
    feed("outage", 5);
    auto next = running;
    next[0].severity = incident::severity_level::critical;
    EXPECT_EQ(runtime::reload_rules(det, running, settings_of(next), cmds, clock.now(), notes), "");
    EXPECT_EQ(det.pipe->rule(det.pipe->rule_index("alpha")).severity, incident::severity_level::critical);
    EXPECT_EQ(live_keys_of("alpha"), 1u);
}

TEST_F(rule_reload_test, open_incidents_and_their_numbers_carry_over) {
    std::vector<incident::incident> saved(1);
    saved[0].id = 7;
    saved[0].rule = "alpha";
    saved[0].key = "outage";
    saved[0].opened_at = t0;
    std::vector<incident::action> none;
    det.pipe->incidents().restore(std::move(saved), incident::engine::restore_reason::restart, t0, none);
    det.pipe->incidents().set_next_id(8);
    auto next = running;
    next[1].detect.window = 1min;
    EXPECT_EQ(runtime::reload_rules(det, running, settings_of(next), cmds, clock.now(), notes), "");
    ASSERT_NE(det.pipe->incidents().find(7), nullptr);
    EXPECT_EQ(det.pipe->incidents().next_id(), 8u);
}
