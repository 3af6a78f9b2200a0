#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace crisisd::core {
namespace {

using namespace std::chrono_literals;

// Hand-moved wall and boot clocks (plain functions: the clock takes function pointers).
timestamp fake_wall_now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 4}};
timestamp fake_boot_now{std::chrono::hours(3)};
timestamp fake_wall() { return fake_wall_now; }
timestamp fake_boot() { return fake_boot_now; }

TEST(system_clock, runs_on_boot_time_and_reports_a_set_wall_clock_once) {
    const timestamp start = fake_wall_now;
    system_clock c(&fake_wall, &fake_boot);
    EXPECT_EQ(c.now(), start);
    fake_wall_now += 10s;
    fake_boot_now += 10s;
    EXPECT_EQ(c.now(), start + 10s);
    EXPECT_EQ(c.take_step(), std::nullopt);

    // Set back an hour: now() does not move until take_step() re-anchors it.
    fake_wall_now -= 1h;
    EXPECT_EQ(c.now(), start + 10s);
    EXPECT_EQ(c.take_step(), std::optional<duration>(-1h));
    EXPECT_EQ(c.now(), start + 10s - 1h);
    EXPECT_EQ(c.take_step(), std::nullopt);

    // Forward 700 s, then the machine suspended for a minute: boot time counts it, no step.
    fake_wall_now += 700s;
    EXPECT_EQ(c.take_step(), std::optional<duration>(700s));
    fake_wall_now += 60s;
    fake_boot_now += 60s;
    EXPECT_EQ(c.take_step(), std::nullopt);
    EXPECT_EQ(c.now(), fake_wall_now);
}

TEST(system_clock, a_leap_second_or_slewing_is_no_step) {
    system_clock c(&fake_wall, &fake_boot);
    fake_wall_now -= 1s;
    EXPECT_EQ(c.take_step(), std::nullopt);
    fake_wall_now += 1s;
}

TEST(system_clock, the_real_clocks_agree) {
    system_clock c;
    EXPECT_EQ(c.take_step(), std::nullopt);
    const auto diff = c.now() - system_clock::read_wall();
    EXPECT_LT(diff < duration::zero() ? -diff : diff, 1s);
}

}  // namespace
}  // namespace crisisd::core
