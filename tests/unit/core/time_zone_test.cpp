// Time zones read from the system's TZif files (Debian's tzdata), checked at the instants that
// matter: either side of daylight-saving switches, before a zone's first transition, and long
// after its last one, where the file's POSIX footer rule decides.
#include "core/time_zone.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace crisisd::core {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

timestamp utc(const char* rfc3339) {
    auto t = parse_rfc3339(rfc3339);
    EXPECT_TRUE(t.has_value()) << rfc3339;
    return t.value_or(timestamp{});
}

time_zone zone(const char* name) {
    zone_load_error error;
    auto z = load_time_zone(name, zoneinfo_dir(), &error);
    EXPECT_TRUE(z.has_value()) << name << ": " << error.reason;
    return z.value_or(time_zone());
}

// "+01:00 CET" / "+02:00 CEST dst": offset, abbreviation and flag in one comparable string.
std::string offset_at(const time_zone& z, const char* rfc3339) {
    const zone_offset o = z.at(utc(rfc3339));
    const auto minutes_east = duration_cast<minutes>(o.utc_offset).count();
    const auto magnitude = minutes_east < 0 ? -minutes_east : minutes_east;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d %s%s", minutes_east < 0 ? '-' : '+', static_cast<int>(magnitude / 60),
                  static_cast<int>(magnitude % 60), o.abbreviation.c_str(), o.dst ? " dst" : "");
    return buf;
}

TEST(time_zone, vienna_in_winter_and_summer) {
    const auto vienna = zone("Europe/Vienna");
    EXPECT_EQ(vienna.name(), "Europe/Vienna");
    EXPECT_FALSE(vienna.is_utc());
    EXPECT_EQ(offset_at(vienna, "2026-01-15T12:00:00Z"), "+01:00 CET");
    EXPECT_EQ(offset_at(vienna, "2026-07-15T12:00:00Z"), "+02:00 CEST dst");
}

// 2026-03-29 02:00 CET becomes 03:00 CEST (01:00 UTC); 2026-10-25 03:00 CEST becomes 02:00 CET.
TEST(time_zone, vienna_switches_at_the_exact_instants) {
    const auto vienna = zone("Europe/Vienna");
    EXPECT_EQ(offset_at(vienna, "2026-03-29T00:59:59Z"), "+01:00 CET");
    EXPECT_EQ(offset_at(vienna, "2026-03-29T01:00:00Z"), "+02:00 CEST dst");
    EXPECT_EQ(offset_at(vienna, "2026-10-25T00:59:59Z"), "+02:00 CEST dst");
    EXPECT_EQ(offset_at(vienna, "2026-10-25T01:00:00Z"), "+01:00 CET");
    // Wall clocks: 01:59:59 is followed by 03:00:00 in spring; 02:59:59 by 02:00:00 in autumn.
    EXPECT_EQ(vienna.to_local(utc("2026-03-29T00:59:59Z")).time_since_epoch(),
              (sys_days{2026y / March / 29} + 1h + 59min + 59s).time_since_epoch());
    EXPECT_EQ(vienna.to_local(utc("2026-03-29T01:00:00Z")).time_since_epoch(),
              (sys_days{2026y / March / 29} + 3h).time_since_epoch());
    EXPECT_EQ(vienna.to_local(utc("2026-10-25T01:00:00Z")).time_since_epoch(),
              (sys_days{2026y / October / 25} + 2h).time_since_epoch());
}

// DST from the second Sunday of March (2026-03-08, 02:00 EST) to the first of November
// (2026-11-01, 02:00 EDT).
TEST(time_zone, new_york) {
    const auto new_york = zone("America/New_York");
    EXPECT_EQ(offset_at(new_york, "2026-01-15T12:00:00Z"), "-05:00 EST");
    EXPECT_EQ(offset_at(new_york, "2026-03-08T06:59:59Z"), "-05:00 EST");
    EXPECT_EQ(offset_at(new_york, "2026-03-08T07:00:00Z"), "-04:00 EDT dst");
    EXPECT_EQ(offset_at(new_york, "2026-11-01T05:59:59Z"), "-04:00 EDT dst");
    EXPECT_EQ(offset_at(new_york, "2026-11-01T06:00:00Z"), "-05:00 EST");
    // 1883-11-18 noon: railway time replaced local mean time (LMT, -4:56:02).
    EXPECT_EQ(new_york.at(utc("1883-11-18T16:00:00Z")).abbreviation, "LMT");
    EXPECT_EQ(new_york.at(utc("1883-11-18T16:00:00Z")).utc_offset, -(4h + 56min + 2s));
}

// Far beyond the files' last transition (2037 at the latest) only the footer rule knows the
// answer: "CET-1CEST,M3.5.0,M10.5.0/3" puts the 2100 switches on March 28 and October 31.
TEST(time_zone, after_the_last_transition_the_footer_rule_decides) {
    const auto vienna = zone("Europe/Vienna");
    EXPECT_EQ(offset_at(vienna, "2100-03-28T00:59:59Z"), "+01:00 CET");
    EXPECT_EQ(offset_at(vienna, "2100-03-28T01:00:00Z"), "+02:00 CEST dst");
    EXPECT_EQ(offset_at(vienna, "2100-10-31T00:59:59Z"), "+02:00 CEST dst");
    EXPECT_EQ(offset_at(vienna, "2100-10-31T01:00:00Z"), "+01:00 CET");
    EXPECT_EQ(offset_at(zone("America/New_York"), "2200-07-01T00:00:00Z"), "-04:00 EDT dst");
    // Southern hemisphere with a half-hour DST: "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0".
    const auto lord_howe = zone("Australia/Lord_Howe");
    EXPECT_EQ(offset_at(lord_howe, "2100-01-15T12:00:00Z"), "+11:00 +11 dst");
    EXPECT_EQ(offset_at(lord_howe, "2100-04-03T14:59:59Z"), "+11:00 +11 dst");
    EXPECT_EQ(offset_at(lord_howe, "2100-04-03T15:00:00Z"), "+10:30 +1030");
    EXPECT_EQ(offset_at(lord_howe, "2100-10-02T15:29:59Z"), "+10:30 +1030");
    EXPECT_EQ(offset_at(lord_howe, "2100-10-02T15:30:00Z"), "+11:00 +11 dst");
    // DST abolished in 2019: "<-03>3".
    EXPECT_EQ(offset_at(zone("America/Sao_Paulo"), "2050-01-15T12:00:00Z"), "-03:00 -03");
    // Negative rule times: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0".
    const auto nuuk = zone("America/Nuuk");
    EXPECT_EQ(offset_at(nuuk, "2100-03-28T00:59:59Z"), "-02:00 -02");
    EXPECT_EQ(offset_at(nuuk, "2100-03-28T01:00:00Z"), "-01:00 -01 dst");
    EXPECT_EQ(offset_at(nuuk, "2100-10-31T00:59:59Z"), "-01:00 -01 dst");
    EXPECT_EQ(offset_at(nuuk, "2100-10-31T01:00:00Z"), "-02:00 -02");
}

// The instants Debian's date library (tz.h, USE_OS_TZDB) answers wrongly, because it stops at
// the files' last transition and never reads the footer: see core/time_zone.hpp.
TEST(time_zone, summer_after_2037_comes_from_the_footer) {
    EXPECT_EQ(offset_at(zone("Europe/Vienna"), "2040-07-01T12:00:00Z"), "+02:00 CEST dst");
    EXPECT_EQ(offset_at(zone("Europe/Vienna"), "2040-01-01T12:00:00Z"), "+01:00 CET");
    EXPECT_EQ(offset_at(zone("America/New_York"), "2045-07-01T12:00:00Z"), "-04:00 EDT dst");
}

TEST(time_zone, utc_needs_no_file_and_says_so) {
    const time_zone by_default;
    EXPECT_EQ(by_default.name(), "UTC");
    EXPECT_TRUE(by_default.is_utc());
    EXPECT_EQ(offset_at(by_default, "2026-07-15T12:00:00Z"), "+00:00 UTC");
    zone_load_error error;
    const auto named = load_time_zone("Etc/UTC", "/nonexistent", &error);
    ASSERT_TRUE(named.has_value()) << error.reason;
    EXPECT_TRUE(named->is_utc());
    EXPECT_TRUE(load_time_zone("UTC", "/nonexistent").has_value());
    // From the file: still UTC; London shares its winter offset but is not.
    EXPECT_TRUE(zone("Etc/GMT").is_utc());
    EXPECT_EQ(offset_at(zone("Etc/GMT"), "2026-07-15T12:00:00Z"), "+00:00 GMT");
    EXPECT_FALSE(zone("Europe/London").is_utc());
    EXPECT_EQ(offset_at(zone("Europe/London"), "2026-01-15T12:00:00Z"), "+00:00 GMT");
    EXPECT_EQ(offset_at(zone("Europe/London"), "2026-07-15T12:00:00Z"), "+01:00 BST dst");
}

TEST(time_zone, a_zone_may_be_copied_and_shared) {
    const time_zone vienna = zone("Europe/Vienna");
    time_zone copy;
    copy = vienna;
    EXPECT_EQ(copy.name(), "Europe/Vienna");
    EXPECT_EQ(offset_at(copy, "2026-07-15T12:00:00Z"), "+02:00 CEST dst");
}

TEST(time_zone, unknown_names_and_other_files_are_refused) {
    const auto dir = zoneinfo_dir();
    zone_load_error error;
    EXPECT_FALSE(load_time_zone("Europe/Viena", dir, &error));
    EXPECT_TRUE(error.unknown);
    EXPECT_EQ(error.reason, "no such zone in " + dir.string());
    for (const char* name : {"../../etc/passwd", "/etc/localtime", "Europe//Vienna", "Europe/", "", "Europe/Vienna ",
                             "Europe/./Vienna"}) {
        error = {};
        EXPECT_FALSE(load_time_zone(name, dir, &error)) << name;
        EXPECT_TRUE(error.unknown) << name;
        EXPECT_EQ(error.reason, "not a time-zone name") << name;
    }
    error = {};
    EXPECT_FALSE(load_time_zone("Europe", dir, &error));  // a directory
    EXPECT_TRUE(error.unknown);
    error = {};
    EXPECT_FALSE(load_time_zone("zone.tab", dir, &error));
    EXPECT_FALSE(error.unknown);
    EXPECT_EQ(error.reason, (dir / "zone.tab").string() + " is not a TZif file");
    error = {};
    EXPECT_FALSE(load_time_zone("Europe/Vienna", "/nonexistent/zoneinfo", &error));
    EXPECT_TRUE(error.unknown);
    EXPECT_EQ(error.reason, "no time-zone database at /nonexistent/zoneinfo");
    if (std::filesystem::exists(dir / "right/Europe/Vienna")) {
        error = {};
        EXPECT_FALSE(load_time_zone("right/Europe/Vienna", dir, &error));
        EXPECT_NE(error.reason.find("leap seconds"), std::string::npos) << error.reason;
    }
}

TEST(time_zone, lists_the_zone_names_for_suggestions) {
    const auto names = list_time_zones(zoneinfo_dir());
    auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    EXPECT_TRUE(has("Europe/Vienna"));
    EXPECT_TRUE(has("America/Argentina/Buenos_Aires"));
    EXPECT_TRUE(has("UTC"));
    EXPECT_FALSE(has("zone.tab"));
    EXPECT_FALSE(has("posixrules"));
    EXPECT_FALSE(has("right/Europe/Vienna"));
    EXPECT_FALSE(has("posix/Europe/Vienna"));
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

// ---- synthetic TZif data: what the real files do not show ------------------------------------

void put32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put64(std::string& out, std::int64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((static_cast<std::uint64_t>(v) >> shift) & 0xff);
}

struct tzif_type {
    std::int32_t offset;
    bool dst;
    std::uint8_t abbreviation;
};

// A version-2 file: an empty version-1 block, then the given 64-bit data and footer.
std::string tzif(char version, const std::vector<std::int64_t>& times, const std::vector<std::uint8_t>& types_after,
                 const std::vector<tzif_type>& types, const std::string& chars, const std::string& footer) {
    auto header = [&](std::string& out, std::uint32_t timecnt, std::uint32_t typecnt, std::uint32_t charcnt) {
        out += "TZif";
        out += version;
        out += std::string(15, '\0');
        for (std::uint32_t count : {0u, 0u, 0u, timecnt, typecnt, charcnt}) put32(out, count);
    };
    std::string out;
    header(out, 0, 1, 1);
    put32(out, 0);
    out += '\0';
    out += '\0';
    out += '\0';  // one type (6 bytes), one NUL character
    header(out, static_cast<std::uint32_t>(times.size()), static_cast<std::uint32_t>(types.size()),
           static_cast<std::uint32_t>(chars.size()));
    for (auto t : times) put64(out, t);
    for (auto i : types_after) out += static_cast<char>(i);
    for (const auto& t : types) {
        put32(out, static_cast<std::uint32_t>(t.offset));
        out += static_cast<char>(t.dst ? 1 : 0);
        out += static_cast<char>(t.abbreviation);
    }
    out += chars;
    out += "\n" + footer + "\n";
    return out;
}

TEST(time_zone, before_the_first_transition_the_first_type_and_after_the_last_the_footer) {
    // LMT until 1000000000 s, then XST (+1) from the transitions; the footer says YST (+5).
    const std::string data = tzif('2', {1'000'000'000}, {1}, {{600, false, 0}, {3600, false, 4}}, std::string("LMT\0XST\0", 8),
                                  "YST-5");
    std::string why;
    const auto z = time_zone::from_tzif("Test/Zone", data, &why);
    ASSERT_TRUE(z.has_value()) << why;
    EXPECT_EQ(offset_at(*z, "2001-09-09T01:46:39Z"), "+00:10 LMT");  // 999999999
    EXPECT_EQ(offset_at(*z, "2001-09-09T01:46:40Z"), "+05:00 YST");  // the last transition: footer
    EXPECT_EQ(offset_at(*z, "2050-01-01T00:00:00Z"), "+05:00 YST");

    // Without a footer the last transition's type stays.
    const auto plain = time_zone::from_tzif("Test/Zone", tzif('2', {1'000'000'000}, {1},
                                                              {{600, false, 0}, {3600, false, 4}},
                                                              std::string("LMT\0XST\0", 8), ""));
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(offset_at(*plain, "2050-01-01T00:00:00Z"), "+01:00 XST");
}

TEST(time_zone, damaged_or_old_files_are_refused_with_a_reason) {
    const std::string chars("LMT\0", 4);
    std::string why;
    EXPECT_FALSE(time_zone::from_tzif("x", "", &why));
    EXPECT_EQ(why, "not a TZif file");
    EXPECT_FALSE(time_zone::from_tzif("x", tzif('\0', {}, {}, {{0, false, 0}}, chars, ""), &why));
    EXPECT_EQ(why, "a version 1 TZif file (needs version 2 or later)");
    EXPECT_TRUE(time_zone::from_tzif("x", tzif('3', {}, {}, {{0, false, 0}}, chars, ""), &why)) << why;
    EXPECT_TRUE(time_zone::from_tzif("x", tzif('4', {}, {}, {{0, false, 0}}, chars, ""), &why)) << why;
    const std::string good = tzif('2', {5, 10}, {0, 0}, {{0, false, 0}}, chars, "");
    EXPECT_TRUE(time_zone::from_tzif("x", good, &why)) << why;
    for (std::size_t cut : {std::size_t{10}, std::size_t{60}, good.size() - 30, good.size() - 1}) {
        why.clear();
        EXPECT_FALSE(time_zone::from_tzif("x", good.substr(0, cut), &why)) << cut;
        EXPECT_FALSE(why.empty());
    }
    EXPECT_FALSE(time_zone::from_tzif("x", tzif('2', {10, 5}, {0, 0}, {{0, false, 0}}, chars, ""), &why));
    EXPECT_EQ(why, "a damaged TZif file (transitions out of order)");
    EXPECT_FALSE(time_zone::from_tzif("x", tzif('2', {5}, {3}, {{0, false, 0}}, chars, ""), &why));
    EXPECT_EQ(why, "a damaged TZif file (transition type)");
    EXPECT_FALSE(time_zone::from_tzif("x", tzif('2', {}, {}, {{0, false, 9}}, chars, ""), &why));
    EXPECT_EQ(why, "a damaged TZif file (local time type)");
    EXPECT_FALSE(time_zone::from_tzif("x", tzif('2', {}, {}, {{0, false, 0}}, chars, "CET-1CEST"), &why));
    EXPECT_EQ(why, "a TZif file with a rule this reader does not understand: CET-1CEST");
}

// ---- POSIX rules on their own -------------------------------------------------------------

std::int64_t unix_seconds(const char* rfc3339) { return floor<seconds>(utc(rfc3339)).time_since_epoch().count(); }

std::string rule_at(const char* rule, const char* rfc3339) {
    auto r = posix_rule::parse(rule);
    EXPECT_TRUE(r.has_value()) << rule;
    if (!r) return {};
    const zone_offset o = r->at(unix_seconds(rfc3339));
    return std::to_string(o.utc_offset.count()) + " " + o.abbreviation + (o.dst ? " dst" : "");
}

TEST(posix_rule, reads_the_forms_tzif_footers_use) {
    EXPECT_EQ(rule_at("UTC0", "2026-07-01T00:00:00Z"), "0 UTC");
    EXPECT_EQ(rule_at("<+0330>-3:30", "2026-07-01T00:00:00Z"), "12600 +0330");
    EXPECT_EQ(rule_at("<-0930>9:30", "2026-07-01T00:00:00Z"), "-34200 -0930");
    EXPECT_EQ(rule_at("JST-9", "2026-07-01T00:00:00Z"), "32400 JST");
    // DST offset defaults to one hour ahead.
    EXPECT_EQ(rule_at("EST5EDT,M3.2.0,M11.1.0", "2026-07-01T00:00:00Z"), "-14400 EDT dst");
    // Israel: Friday before the last Sunday of March, at 26:00 (02:00 the next day).
    EXPECT_EQ(rule_at("IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-27T00:00:00Z"), "10800 IDT dst");
    EXPECT_EQ(rule_at("IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-26T23:59:59Z"), "7200 IST");
    // Julian days without February 29 (J60 is March 1 in every year) and zero-based with it.
    EXPECT_EQ(rule_at("AAA0BBB,J60/0,J300/0", "2028-02-29T23:59:59Z"), "0 AAA");
    EXPECT_EQ(rule_at("AAA0BBB,J60/0,J300/0", "2028-03-01T00:00:00Z"), "3600 BBB dst");
    EXPECT_EQ(rule_at("AAA0BBB,59/0,300/0", "2028-02-29T00:00:00Z"), "3600 BBB dst");  // day 59 of a leap year
    EXPECT_EQ(rule_at("AAA0BBB,59/0,300/0", "2028-02-28T23:59:59Z"), "0 AAA");
    // Daylight time all year (RFC 8536's example): never standard time.
    for (const char* t : {"2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", "2026-07-01T00:00:00Z", "2026-12-31T23:59:59Z"})
        EXPECT_EQ(rule_at("EST5EDT,0/0,J365/25", t), "-14400 EDT dst") << t;
}

TEST(posix_rule, refuses_incomplete_or_malformed_rules) {
    for (const char* bad : {"", "C0", "CET", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
                            "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J365",
                            "CET-1CEST,M3.5.0/168,M10.5.0", "<+03-3", "CET-25", "CET-1:60", "CET-1 ", "CET-1CEST,M3.5.0,M10.5.0x"})
        EXPECT_FALSE(posix_rule::parse(bad).has_value()) << bad;
}

}  // namespace
}  // namespace crisisd::core
