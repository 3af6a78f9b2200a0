#include "runtime/follow_ups.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "unit/runtime/support.hpp"

using namespace crisisd;
using namespace std::chrono_literals;
using crisisd::runtime_test::engine_with;
using crisisd::runtime_test::open;
using crisisd::runtime_test::t0;
using crisisd::runtime_test::temp_db;

namespace {

std::vector<std::string> keys(const std::vector<incident::action>& actions) {
    std::vector<std::string> out;
    for (const auto& a : actions) out.push_back(a.idempotency_key);
    return out;
}

// Incident 1 was paged on PagerDuty (twice), Alertmanager, a webhook and a channel that no
// longer runs; incident 2 on nothing.
struct follow_ups_test : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db = open(tmp.path());
    incident::engine eng = engine_with(2);
    runtime::follow_ups follow{*db, {{"pager", "pagerduty"}, {"am", "alertmanager"}, {"hook", "webhook"}}};

    void SetUp() override {
        for (const char* ch : {"pager", "am", "hook", "gone"})
            ASSERT_EQ(db->actions().enqueue("1/open/0/" + std::string(ch), 1, ch, "notify", "{}", t0),
                      state::action_store::enqueue_result::queued);
        ASSERT_EQ(db->actions().enqueue("1/open/1/pager", 1, "pager", "notify", "{}", t0),
                  state::action_store::enqueue_result::queued);
    }
};

}  // namespace

TEST_F(follow_ups_test, an_acknowledgement_reaches_pagerduty_only) {
    std::vector<incident::action> out;
    follow.add(eng, 1, incident::action_event::acknowledged, t0 + 1min, out);
    ASSERT_EQ(keys(out), (std::vector<std::string>{"1/acknowledged/pager"}));
    EXPECT_EQ(out[0].kind, incident::action_kind::notify);
    EXPECT_EQ(out[0].channel, "pager");
    EXPECT_EQ(out[0].event, incident::action_event::acknowledged);
    EXPECT_EQ(out[0].text, "incident 1 acknowledged");
    EXPECT_EQ(out[0].at, t0 + 1min);
}

TEST_F(follow_ups_test, a_resolution_reaches_every_pager_that_follows_it_once) {
    std::vector<incident::action> out;
    follow.add(eng, 1, incident::action_event::resolved, t0, out);
    auto got = keys(out);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"1/resolved/am", "1/resolved/pager"}));
}

TEST_F(follow_ups_test, what_the_playbook_already_plans_is_not_doubled) {
    std::vector<incident::action> out(1);
    out[0].channel = "pager";
    out[0].event = incident::action_event::resolved;
    follow.add(eng, 1, incident::action_event::resolved, t0, out);
    EXPECT_EQ(keys(out), (std::vector<std::string>{"", "1/resolved/am"}));
}

TEST_F(follow_ups_test, nothing_for_an_incident_never_paged_or_not_held) {
    std::vector<incident::action> out;
    follow.add(eng, 2, incident::action_event::resolved, t0, out);
    follow.add(eng, 9, incident::action_event::resolved, t0, out);
    EXPECT_TRUE(out.empty());
}
