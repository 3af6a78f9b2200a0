#pragma once
// Time zones from the system's time-zone database: the TZif files (RFC 8536, version 2 and
// later) of Debian's tzdata package in /usr/share/zoneinfo, read here rather than through the C
// library, whose TZ is one global setting for the whole process (setenv("TZ") + localtime() is
// neither thread-safe nor able to hold two zones at once), and GCC 12's libstdc++ has no
// std::chrono::tzdb. A zone is parsed once (at configuration time) into an immutable value; asking
// it for an instant's offset is pure and safe from any thread.
//
// Why not Debian's date library (libhowardhinnant-date-dev 3.0.1, tz.h with USE_OS_TZDB, the
// ancestor of C++20's tzdb): it reads the same TZif files but ignores their POSIX footer, so
// after a zone's last listed transition (2037 in tzdata's files) it repeats the last offset
// forever. Tried against Debian 12's tzdata 2025b: Europe/Vienna at 2040-07-01T12:00Z gives
// +01:00 CET (the footer "CET-1CEST,M3.5.0,M10.5.0/3" says +02:00 CEST), America/New_York at
// 2045-07-01T12:00Z gives -05:00 EST instead of EDT. Lookups were thread-safe (4 threads, 80k
// get_info calls, no wrong answer), but wrong summer times after 2037 are not acceptable for
// statements scheduled by local time, and a slim TZif file (no transitions past today) would be
// wrong much sooner. time_zone_test's after_the_last_transition_the_footer_rule_decides and
// summer_after_2037_comes_from_the_footer hold the cases it gets wrong.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace crisisd::core {

// What a zone's clocks show at one instant.
struct zone_offset {
    std::chrono::seconds utc_offset{0};  // local wall-clock time = UTC + this
    bool dst = false;                    // daylight-saving (summer) time
    std::string abbreviation;            // "CET", "CEST", "EDT", "+0530", "UTC"

    friend bool operator==(const zone_offset&, const zone_offset&) = default;
};

// A POSIX TZ rule, the footer of a TZif file that covers every instant after the file's last
// transition: "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30", "EST5EDT,M3.2.0,M11.1.0", with RFC
// 8536's extensions (rule times from -167 to 167 hours; daylight time all year as
// "EST5EDT,0/0,J365/25"). Offsets in the string count west of Greenwich; utc_offset counts east.
class posix_rule {
public:
    // nullopt for anything but a complete rule (also when daylight time is named without the
    // dates it starts and ends: POSIX leaves those to the implementation, TZif footers never do).
    static std::optional<posix_rule> parse(std::string_view text);

    zone_offset at(std::int64_t unix_seconds) const;
    bool has_dst() const { return has_dst_; }

    // One end of daylight time: a day of the year and the local time of day (seconds, may be
    // negative or past 24 h) at which the change happens.
    struct date {
        enum class form { julian_no_leap, zero_based, month_week_day };  // Jn, n, Mm.w.d
        form kind = form::month_week_day;
        int n = 0;      // Jn: 1…365 (February 29 never counted); n: 0…365
        int month = 0;  // Mm.w.d: 1…12
        int week = 0;   // 1…5, 5 = the last such weekday of the month
        int weekday = 0;  // 0 = Sunday
        std::int32_t time = 2 * 3600;
    };

private:
    std::string std_abbreviation_;
    std::int32_t std_offset_ = 0;  // east of UTC, seconds
    bool has_dst_ = false;
    std::string dst_abbreviation_;
    std::int32_t dst_offset_ = 0;
    date start_, end_;
};

class time_zone {
public:
    time_zone();  // UTC

    // Parses the bytes of a TZif file (version 2 or later; files counting leap seconds, the
    // right/ zones, are refused). `name` is the zone's IANA name, kept for messages. nullopt and,
    // with `why`, the reason when the data is not such a file.
    static std::optional<time_zone> from_tzif(std::string name, std::string_view bytes, std::string* why = nullptr);

    const std::string& name() const;  // "Europe/Vienna"; "UTC" for the default
    zone_offset at(timestamp t) const;
    // The wall-clock time at `t`: its calendar fields are those a clock in the zone shows.
    std::chrono::local_time<duration> to_local(timestamp t) const;
    // Whether this zone's clocks always show UTC (UTC, Etc/UTC, Etc/GMT …): no one's local time,
    // so a time shown in it must say "UTC".
    bool is_utc() const;

private:
    struct data;
    std::shared_ptr<const data> data_;
};

// $TZDIR when set (as the C library reads it), else /usr/share/zoneinfo.
std::filesystem::path zoneinfo_dir();

// Why load_time_zone found no zone.
struct zone_load_error {
    bool unknown = false;  // no zone of that name (else: a file that cannot be read or used)
    std::string reason;    // "no such zone in /usr/share/zoneinfo", "… is a version 1 TZif file"
};

// Reads zone `name` ("Europe/Vienna") from the TZif file `dir`/`name`. "UTC" and "Etc/UTC" need no
// file. A name must look like an IANA zone name (parts of letters, digits, '.', '_', '+', '-'
// separated by '/', none "." or ".."), so it can never point outside `dir`. nullopt and, with
// `error`, why otherwise. Reads a file: call it at configuration time, not per statement.
std::optional<time_zone> load_time_zone(std::string_view name, const std::filesystem::path& dir,
                                        zone_load_error* error = nullptr);

// The zone names under `dir` ("Europe/Vienna", …; not the posix/ and right/ copies), by file name
// only, sorted: the candidates for a "did you mean" when a name is unknown.
std::vector<std::string> list_time_zones(const std::filesystem::path& dir);

}  // namespace crisisd::core
