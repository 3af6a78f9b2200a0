#pragma once
// Time vocabulary. Every pure module receives time as an argument of these types; none reads a
// clock itself. Microsecond resolution matches Jetstream's time_us and is plenty for detection.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::core {

using duration = std::chrono::microseconds;
using timestamp = std::chrono::sys_time<duration>;

// RFC 3339 in UTC: "2026-11-26T08:15:02Z", with milliseconds only when they are not zero.
std::string format_rfc3339(timestamp t);

// Accepts "Z" or a numeric offset ("+00:00", "+0100"), optional fractional seconds (any
// number of digits, truncated to microseconds) and a space instead of 'T'.
std::optional<timestamp> parse_rfc3339(std::string_view text);

// RFC 822 / RFC 1123 dates as RSS and HTTP (Retry-After, Last-Modified) write them: "Sat, 07 Sep
// 2002 09:42:31 GMT" or "+0200"; the day name and the seconds are optional, two-digit years are
// read as 19xx/20xx, named US zones are known, other zone letters are read as UTC.
std::optional<timestamp> parse_rfc822(std::string_view text);

// "250ms", "30s", "5m", "6h", "1d", and sums such as "1h30m". Zero is "0" or "0s".
std::optional<duration> parse_duration(std::string_view text);

// The shortest exact spelling parse_duration reads back: "5m", "1h30m", "250ms".
std::string format_duration(duration d);

}  // namespace crisisd::core
