#include "cluster/fencing.hpp"

#include <gtest/gtest.h>

namespace crisisd::cluster {
namespace {

using namespace std::chrono_literals;

const mono_time t0 = mono_time{} + 1000s;

held_lease lease_sent_at(mono_time sent, std::uint64_t epoch = 7) {
    return held_lease{epoch, epoch + 3, sent, owner_deadline(sent, 6000ms, 1500ms)};
}

TEST(fencing, the_owner_stops_a_margin_before_the_bucket_can_drop_its_lease) {
    auto l = lease_sent_at(t0);
    EXPECT_EQ(l.deadline, t0 + 4500ms);
    EXPECT_TRUE(may_act(l, t0));
    EXPECT_TRUE(may_act(l, t0 + 4499ms));
    EXPECT_FALSE(may_act(l, t0 + 4500ms));
    // The earliest moment another replica can take the lease is when the bucket drops it: the
    // server stored the write no earlier than it was sent.
    EXPECT_LT(l.deadline, t0 + 6000ms);
}

TEST(fencing, a_renewal_moves_the_deadline_from_its_send_time_not_its_answer) {
    auto l = lease_sent_at(t0);
    // The renewal sent at t0 + 1 s was answered at t0 + 1.9 s: the deadline counts from the send.
    l = lease_sent_at(t0 + 1s);
    EXPECT_EQ(l.deadline, t0 + 5500ms);
}

TEST(fencing, work_planned_under_an_earlier_epoch_is_refused) {
    auto l = lease_sent_at(t0, 42);
    EXPECT_TRUE(may_act(l, t0, 42));
    EXPECT_TRUE(may_act(l, t0, 0));
    EXPECT_FALSE(may_act(l, t0, 41));
}

}  // namespace
}  // namespace crisisd::cluster
