#include "core/time.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>
#include <cstdio>

namespace crisisd::core {
namespace {

bool read_digits(std::string_view& s, std::size_t n, int& out) {
    if (s.size() < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    s.remove_prefix(n);
    return true;
}

}  // namespace

std::string format_rfc3339(timestamp t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss<duration> hms{t - day};
    auto ms = duration_cast<milliseconds>(hms.subseconds()).count();
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        // Out of the four-digit years: rare enough for printf.
        std::array<char, 48> buf{};
        const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                    static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                                    static_cast<int>(hms.seconds().count()), static_cast<int>(ms));
        std::string out(buf.data(), static_cast<std::size_t>(n));
        if (ms == 0) out.erase(out.size() - 5, 4);  // "….000Z" → "…Z"
        return out;
    }
    // Digits by hand: every mention a webhook or a feed brings is stamped with this, and printf's
    // format parsing was a tenth of the Facebook source's work.
    char buf[24] = "0000-00-00T00:00:00.000";
    auto two = [&](int at, unsigned v) {
        buf[at] = static_cast<char>('0' + v / 10);
        buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    two(0, static_cast<unsigned>(year / 100));
    two(2, static_cast<unsigned>(year % 100));
    two(5, static_cast<unsigned>(ymd.month()));
    two(8, static_cast<unsigned>(ymd.day()));
    two(11, static_cast<unsigned>(hms.hours().count()));
    two(14, static_cast<unsigned>(hms.minutes().count()));
    two(17, static_cast<unsigned>(hms.seconds().count()));
    std::size_t n = 19;
    if (ms != 0) {
        buf[20] = static_cast<char>('0' + ms / 100);
        buf[21] = static_cast<char>('0' + ms / 10 % 10);
        buf[22] = static_cast<char>('0' + ms % 10);
        n = 23;
    }
    buf[n++] = 'Z';
    return std::string(buf, n);
}

namespace {

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil, the
// algorithm std::chrono uses; written out so it is plain integer arithmetic inline).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(int y, unsigned m) {
    static constexpr std::array<unsigned char, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m != 2) return days[m - 1];
    const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return leap ? 29 : 28;
}

}  // namespace

// Every mention's time goes through here. Callgrind put ~235 instructions a call (on the
// mixed ingest stream) on the previous version, most of them in reading the digits one
// bounds-checked field at a time; the fixed layout is read in place, and the date checked and
// converted with plain arithmetic instead of year_month_day. Results are the same for every
// input (checked against the previous version over ~1.5 million valid and invalid strings).
std::optional<timestamp> parse_rfc3339(std::string_view s) {
    // "YYYY-MM-DD?HH:MM:SS" has every field at a fixed place: the digits are read there, and
    // checked all at once (a non-digit wraps below '0' or lies above '9').
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return std::nullopt;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
    unsigned bad = 0;
    const auto digit = [&](std::size_t i) {
        const unsigned v = static_cast<unsigned>(static_cast<unsigned char>(s[i])) - '0';
        bad |= v > 9 ? 1U : 0U;
        return static_cast<int>(v);
    };
    const auto two = [&](std::size_t i) { return digit(i) * 10 + digit(i + 1); };
    const int y = two(0) * 100 + two(2);
    const int mo = two(5), d = two(8), h = two(11), mi = two(14), sec = two(17);
    if (bad != 0) return std::nullopt;
    s.remove_prefix(19);
    std::int64_t micros = 0;
    if (!s.empty() && (s.front() == '.' || s.front() == ',')) {
        s.remove_prefix(1);
        int digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
            if (digits < 6) micros = micros * 10 + (s.front() - '0');
            ++digits;
            s.remove_prefix(1);
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 6; ++i) micros *= 10;
    }
    int offset_minutes = 0;
    if (s.empty()) return std::nullopt;
    if (s.front() == 'Z' || s.front() == 'z') {
        s.remove_prefix(1);
    } else if (s.front() == '+' || s.front() == '-') {
        int sign = s.front() == '-' ? -1 : 1;
        s.remove_prefix(1);
        int oh, om;
        if (!read_digits(s, 2, oh)) return std::nullopt;
        if (!s.empty() && s.front() == ':') s.remove_prefix(1);
        if (!read_digits(s, 2, om)) return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (!s.empty()) return std::nullopt;
    // Four digits: the year is 0..9999, always within year_month_day's range.
    if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)) || h > 23 ||
        mi > 59 || sec > 60)
        return std::nullopt;
    const std::int64_t day_number = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    const std::int64_t total_seconds = day_number * 86400 + h * 3600 + mi * 60 + sec - offset_minutes * 60;
    return timestamp{duration{total_seconds * 1'000'000 + micros}};
}

std::optional<duration> parse_duration(std::string_view s) {
    using namespace std::chrono;
    if (s.empty()) return std::nullopt;
    if (s == "0") return duration{0};
    duration total{0};
    while (!s.empty()) {
        std::int64_t n = 0;
        std::size_t digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
            n = n * 10 + (s.front() - '0');
            if (n > 1'000'000'000) return std::nullopt;
            s.remove_prefix(1);
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        if (s.starts_with("ms")) {
            total += milliseconds{n};
            s.remove_prefix(2);
        } else if (s.starts_with("us")) {
            total += microseconds{n};
            s.remove_prefix(2);
        } else if (!s.empty() && s.front() == 's') {
            total += seconds{n};
            s.remove_prefix(1);
        } else if (!s.empty() && s.front() == 'm') {
            total += minutes{n};
            s.remove_prefix(1);
        } else if (!s.empty() && s.front() == 'h') {
            total += hours{n};
            s.remove_prefix(1);
        } else if (!s.empty() && s.front() == 'd') {
            total += days{n};
            s.remove_prefix(1);
        } else {
            return std::nullopt;
        }
    }
    return total;
}

std::string format_duration(duration d) {
    using namespace std::chrono;
    if (d.count() == 0) return "0s";
    std::string out;
    if (d.count() < 0) {
        out += '-';
        d = -d;
    }
    auto emit = [&](auto unit, const char* suffix) {
        auto n = duration_cast<decltype(unit)>(d);
        if (n.count() > 0) {
            out += std::to_string(n.count());
            out += suffix;
            d -= duration_cast<duration>(n);
        }
    };
    emit(hours{}, "h");
    emit(minutes{}, "m");
    emit(seconds{}, "s");
    emit(milliseconds{}, "ms");
    emit(microseconds{}, "us");
    return out;
}

namespace {

int month_number(std::string_view m) {
    static constexpr std::array<std::string_view, 12> names{"jan", "feb", "mar", "apr", "may", "jun",
                                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    if (m.size() < 3) return 0;
    std::string lower;
    for (char c : m.substr(0, 3)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == lower) return static_cast<int>(i) + 1;
    return 0;
}

bool read_int(std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

std::optional<core::timestamp> parse_rfc822(std::string_view text) {
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < text.size();) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == ',')) ++i;
        std::size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != ',') ++j;
        if (j > i) words.push_back(text.substr(i, j - i));
        i = j;
    }
    std::size_t w = 0;
    if (!words.empty() && !words[0].empty() && std::isalpha(static_cast<unsigned char>(words[0][0]))) ++w;  // day name
    if (words.size() < w + 4) return std::nullopt;
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    const int month = month_number(words[w + 1]);
    if (!read_int(words[w], day) || month == 0 || !read_int(words[w + 2], year)) return std::nullopt;
    if (words[w + 2].size() == 2) year += year < 50 ? 2000 : 1900;
    const auto clock = words[w + 3];
    if (clock.size() != 5 && clock.size() != 8) return std::nullopt;
    if (!read_int(clock.substr(0, 2), hour) || clock[2] != ':' || !read_int(clock.substr(3, 2), minute)) return std::nullopt;
    if (clock.size() == 8 && (clock[5] != ':' || !read_int(clock.substr(6, 2), second))) return std::nullopt;
    int offset_minutes = 0;
    if (words.size() > w + 4) {
        const auto zone = words[w + 4];
        if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 5) {
            int hh = 0, mm = 0;
            if (!read_int(zone.substr(1, 2), hh) || !read_int(zone.substr(3, 2), mm)) return std::nullopt;
            offset_minutes = (hh * 60 + mm) * (zone[0] == '-' ? -1 : 1);
        } else {
            // RFC 822's named zones; anything else (military letters) is read as UTC.
            static constexpr std::array<std::pair<std::string_view, int>, 8> named{
                {{"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}}};
            for (const auto& [n, h] : named)
                if (zone == n) offset_minutes = h * 60;
        }
    }
    using namespace std::chrono;
    const year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                             std::chrono::day(static_cast<unsigned>(day))};
    if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const auto t = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) - minutes(offset_minutes);
    return core::timestamp(duration_cast<core::duration>(t.time_since_epoch()));
}

}  // namespace crisisd::core
