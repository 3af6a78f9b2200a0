// Crash safety end to end: SIGKILL while a public statement is in flight, restart, and the
// statement exists exactly once while every notification still arrives.
#include <gtest/gtest.h>

#include "delivery_crash_scenario.hpp"

TEST(delivery_crash, statement_in_flight_at_sigkill_is_posted_exactly_once) {
    auto r = crisisd::testing::run_crash_trial(CRISISD_BINARY);
    EXPECT_TRUE(r.ok) << r.why;
    EXPECT_EQ(r.statuses, 1u);
    EXPECT_GE(r.statement_requests, 2u) << "the restarted daemon retried the statement with the same key";
    EXPECT_GE(r.pages, 1u);
}
