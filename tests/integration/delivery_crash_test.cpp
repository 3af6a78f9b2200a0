// Crash safety end to end (Mastodon and a Facebook Page): SIGKILL while a public statement is in flight, restart, and the
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

// The Graph API has no idempotency key: the restarted daemon reads the Page's posts, finds the
// statement there and does not post it again (the answer to the first attempt was never seen).
TEST(delivery_crash, facebook_statement_in_flight_at_sigkill_is_posted_exactly_once) {
    auto r = crisisd::testing::run_crash_trial(CRISISD_BINARY, "facebook");
    EXPECT_TRUE(r.ok) << r.why;
    EXPECT_EQ(r.statuses, 1u);
    EXPECT_EQ(r.statement_requests, 1u) << "the restarted daemon looked the post up instead of posting again";
    EXPECT_GE(r.pages, 1u);
}
