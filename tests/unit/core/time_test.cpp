#include "core/time.hpp"

#include <gtest/gtest.h>

using namespace crisisd::core;
using namespace std::chrono;

TEST(time, parses_and_formats_rfc3339_in_utc) {
    auto t = parse_rfc3339("2026-11-26T08:15:02Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_rfc3339(*t), "2026-11-26T08:15:02Z");
}

TEST(time, applies_numeric_offsets) {
    auto z = parse_rfc3339("2026-05-25T14:23:28.757Z");
    auto off = parse_rfc3339("2026-05-25T16:23:28.757+02:00");
    auto plain = parse_rfc3339("2026-05-25T14:23:28.757+00:00");
    ASSERT_TRUE(z && off && plain);
    EXPECT_EQ(*z, *off);
    EXPECT_EQ(*z, *plain);
    EXPECT_EQ(format_rfc3339(*z), "2026-05-25T14:23:28.757Z");
}

// Every field zero-padded, milliseconds only when there are some, at both ends of four-digit years.
TEST(time, formats_every_field_padded_and_milliseconds_only_when_set) {
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("0999-02-03T04:05:06.007Z")), "0999-02-03T04:05:06.007Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999Z")), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-12-05T01:02:03.040Z")), "2026-12-05T01:02:03.040Z");
    EXPECT_EQ(format_rfc3339(timestamp(std::chrono::sys_days{std::chrono::year{10000} / 1 / 1})), "10000-01-01T00:00:00Z");
}

TEST(time, keeps_microseconds_and_truncates_beyond) {
    auto t = parse_rfc3339("2022-08-30T21:38:22.123456789Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->time_since_epoch().count() % 1'000'000, 123456);
}

TEST(time, rejects_garbage) {
    EXPECT_FALSE(parse_rfc3339(""));
    EXPECT_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-11-26T08:15:02"));  // no zone: ambiguous
    EXPECT_FALSE(parse_rfc3339("2026-11-26T08:15:02Zjunk"));
    EXPECT_FALSE(parse_rfc3339("yesterday"));
}

TEST(time, checks_the_calendar_and_counts_days_across_the_whole_four_digit_range) {
    EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-04-31T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-00-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-01-00T00:00:00Z"));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z")->time_since_epoch(), microseconds{0});
    EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59.5Z")->time_since_epoch(), microseconds{-500000});
    EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z")->time_since_epoch(), seconds{-62135596800});
    EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:60Z")->time_since_epoch(), seconds{253402300800});
    for (auto t : {sys_days{year{1600} / 3 / 1}, sys_days{year{2026} / 11 / 26}})
        EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
}

TEST(time, parses_durations) {
    EXPECT_EQ(parse_duration("5m"), crisisd::core::duration(minutes(5)));
    EXPECT_EQ(parse_duration("1h30m"), crisisd::core::duration(minutes(90)));
    EXPECT_EQ(parse_duration("250ms"), crisisd::core::duration(milliseconds(250)));
    EXPECT_EQ(parse_duration("0"), crisisd::core::duration(0));
    EXPECT_EQ(parse_duration("1d"), crisisd::core::duration(hours(24)));
    EXPECT_FALSE(parse_duration("five"));
    EXPECT_FALSE(parse_duration("5"));
    EXPECT_FALSE(parse_duration("5 m"));
    EXPECT_FALSE(parse_duration(""));
}

TEST(time, formats_durations_round_trip) {
    for (const char* s : {"5m", "1h30m", "250ms", "6h", "45s"}) {
        auto d = parse_duration(s);
        ASSERT_TRUE(d) << s;
        EXPECT_EQ(format_duration(*d), s);
    }
}
