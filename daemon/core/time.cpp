#include "core/time.hpp"

#include <array>
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

bool expect(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::string format_rfc3339(timestamp t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss<duration> hms{t - day};
    auto ms = duration_cast<milliseconds>(hms.subseconds()).count();
    std::array<char, 40> buf{};
    int n;
    if (ms != 0) {
        n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()), static_cast<int>(ms));
    } else {
        n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()));
    }
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::optional<timestamp> parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    int y, mo, d, h, mi, sec;
    if (!read_digits(s, 4, y) || !expect(s, '-') || !read_digits(s, 2, mo) || !expect(s, '-') ||
        !read_digits(s, 2, d))
        return std::nullopt;
    if (s.empty() || (s.front() != 'T' && s.front() != 't' && s.front() != ' ')) return std::nullopt;
    s.remove_prefix(1);
    if (!read_digits(s, 2, h) || !expect(s, ':') || !read_digits(s, 2, mi) || !expect(s, ':') ||
        !read_digits(s, 2, sec))
        return std::nullopt;
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
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    timestamp t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + microseconds{micros};
    return t - minutes{offset_minutes};
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

}  // namespace crisisd::core
