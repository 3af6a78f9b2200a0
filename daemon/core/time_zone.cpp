#include "core/time_zone.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace crisisd::core {

namespace {

using namespace std::chrono;

// ---- POSIX TZ rule pieces ---------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// A number of at most `max_digits` digits.
std::optional<int> number(std::string_view& s, int max_digits) {
    int v = 0;
    int digits = 0;
    while (!s.empty() && is_digit(s.front()) && digits < max_digits) {
        v = v * 10 + (s.front() - '0');
        s.remove_prefix(1);
        ++digits;
    }
    if (digits == 0 || (!s.empty() && is_digit(s.front()))) return std::nullopt;
    return v;
}

// "CET", or "<+0330>" (returned without the brackets): at least three characters.
std::optional<std::string> zone_name(std::string_view& s) {
    std::string out;
    if (!s.empty() && s.front() == '<') {
        s.remove_prefix(1);
        while (!s.empty() && s.front() != '>') {
            const char c = s.front();
            if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-') return std::nullopt;
            out += c;
            s.remove_prefix(1);
        }
        if (s.empty()) return std::nullopt;
        s.remove_prefix(1);
    } else {
        while (!s.empty() && is_alpha(s.front())) {
            out += s.front();
            s.remove_prefix(1);
        }
    }
    if (out.size() < 3) return std::nullopt;
    return out;
}

// [+|-]hh[:mm[:ss]] with hours up to `max_hours`, in seconds.
std::optional<std::int32_t> clock_value(std::string_view& s, int max_hours) {
    int sign = 1;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        if (s.front() == '-') sign = -1;
        s.remove_prefix(1);
    }
    auto h = number(s, 3);
    if (!h || *h > max_hours) return std::nullopt;
    std::int32_t total = *h * 3600;
    for (int unit : {60, 1}) {
        if (s.empty() || s.front() != ':') break;
        s.remove_prefix(1);
        auto v = number(s, 2);
        if (!v || *v > 59) return std::nullopt;
        total += *v * unit;
    }
    return sign * total;
}

std::optional<posix_rule::date> rule_date(std::string_view& s) {
    using form = posix_rule::date::form;
    posix_rule::date d;
    if (!s.empty() && s.front() == 'J') {
        s.remove_prefix(1);
        auto n = number(s, 3);
        if (!n || *n < 1 || *n > 365) return std::nullopt;
        d.kind = form::julian_no_leap;
        d.n = *n;
    } else if (!s.empty() && s.front() == 'M') {
        s.remove_prefix(1);
        auto m = number(s, 2);
        if (!m || *m < 1 || *m > 12 || s.empty() || s.front() != '.') return std::nullopt;
        s.remove_prefix(1);
        auto w = number(s, 1);
        if (!w || *w < 1 || *w > 5 || s.empty() || s.front() != '.') return std::nullopt;
        s.remove_prefix(1);
        auto wd = number(s, 1);
        if (!wd || *wd > 6) return std::nullopt;
        d.kind = form::month_week_day;
        d.month = *m;
        d.week = *w;
        d.weekday = *wd;
    } else {
        auto n = number(s, 3);
        if (!n || *n > 365) return std::nullopt;
        d.kind = form::zero_based;
        d.n = *n;
    }
    if (!s.empty() && s.front() == '/') {
        s.remove_prefix(1);
        auto t = clock_value(s, 167);
        if (!t) return std::nullopt;
        d.time = *t;
    }
    return d;
}

// Seconds since the epoch of 00:00 (UTC-based day count; the caller adds the local offset) of the
// day `d` names in year `y`.
std::int64_t day_start(int y, const posix_rule::date& d) {
    using form = posix_rule::date::form;
    const year yr{y};
    sys_days day;
    switch (d.kind) {
        case form::julian_no_leap:
            day = sys_days{yr / January / 1} + days{d.n - 1 + (yr.is_leap() && d.n >= 60 ? 1 : 0)};
            break;
        case form::zero_based:
            day = sys_days{yr / January / 1} + days{d.n};
            break;
        case form::month_week_day: {
            const sys_days first{yr / month{static_cast<unsigned>(d.month)} / 1};
            const unsigned first_weekday = weekday{first}.c_encoding();
            unsigned dom = 1 + (static_cast<unsigned>(d.weekday) + 7 - first_weekday) % 7 +
                           static_cast<unsigned>(d.week - 1) * 7;
            const unsigned month_days = static_cast<unsigned>(
                year_month_day_last{yr / month{static_cast<unsigned>(d.month)} / std::chrono::last}.day());
            while (dom > month_days) dom -= 7;
            day = first + days{dom - 1};
            break;
        }
    }
    return duration_cast<seconds>(day.time_since_epoch()).count();
}

// ---- TZif -----------------------------------------------------------------------------------

struct reader {
    std::string_view bytes;
    std::size_t at = 0;

    bool has(std::size_t n) const { return bytes.size() - at >= n; }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at++]);
        return v;
    }
    std::int64_t i64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at++]);
        return static_cast<std::int64_t>(v);
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(bytes[at++]); }
};

struct header {
    char version = 0;
    std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

    // Bytes of the data block that follows, with `time_size`-byte times.
    std::uint64_t data_size(std::uint64_t time_size) const {
        return std::uint64_t{timecnt} * time_size + timecnt + std::uint64_t{typecnt} * 6 + charcnt +
               std::uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
    }
};

std::optional<header> read_header(reader& r, std::string& why) {
    if (!r.has(44) || r.bytes.substr(r.at, 4) != "TZif") {
        why = "not a TZif file";
        return std::nullopt;
    }
    header h;
    h.version = r.bytes[r.at + 4];
    r.at += 20;
    h.isutcnt = r.u32();
    h.isstdcnt = r.u32();
    h.leapcnt = r.u32();
    h.timecnt = r.u32();
    h.typecnt = r.u32();
    h.charcnt = r.u32();
    return h;
}

}  // namespace

// ---- posix_rule -------------------------------------------------------------------------------

std::optional<posix_rule> posix_rule::parse(std::string_view s) {
    posix_rule r;
    auto std_name = zone_name(s);
    if (!std_name) return std::nullopt;
    r.std_abbreviation_ = *std_name;
    auto std_offset = clock_value(s, 24);
    if (!std_offset) return std::nullopt;
    r.std_offset_ = -*std_offset;
    if (s.empty()) return r;

    auto dst_name = zone_name(s);
    if (!dst_name) return std::nullopt;
    r.has_dst_ = true;
    r.dst_abbreviation_ = *dst_name;
    r.dst_offset_ = r.std_offset_ + 3600;
    if (!s.empty() && s.front() != ',') {
        auto dst_offset = clock_value(s, 24);
        if (!dst_offset) return std::nullopt;
        r.dst_offset_ = -*dst_offset;
    }
    if (s.empty() || s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
    auto start = rule_date(s);
    if (!start || s.empty() || s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
    auto end = rule_date(s);
    if (!end || !s.empty()) return std::nullopt;
    r.start_ = *start;
    r.end_ = *end;
    return r;
}

zone_offset posix_rule::at(std::int64_t t) const {
    const zone_offset standard{seconds{std_offset_}, false, std_abbreviation_};
    if (!has_dst_) return standard;
    const zone_offset daylight{seconds{dst_offset_}, true, dst_abbreviation_};
    // The changes of the years around `t`, in UTC: daylight time starts at a local standard time
    // and ends at a local daylight time. Whatever changed last before `t` is in effect; this also
    // covers the southern hemisphere (end before start in a year) and daylight time all year
    // (a year's end and the next year's start fall on one instant: the start wins).
    const int y = static_cast<int>(year_month_day{floor<days>(sys_seconds{seconds{t + std_offset_}})}.year());
    std::array<std::pair<std::int64_t, bool>, 6> changes;
    std::size_t n = 0;
    for (int year = y - 1; year <= y + 1; ++year) {
        changes[n++] = {day_start(year, start_) + start_.time - std_offset_, true};
        changes[n++] = {day_start(year, end_) + end_.time - dst_offset_, false};
    }
    std::sort(changes.begin(), changes.end());
    bool dst = false;
    for (const auto& [when, starts] : changes) {
        if (when > t) break;
        dst = starts;
    }
    return dst ? daylight : standard;
}

// ---- time_zone --------------------------------------------------------------------------------

struct time_zone::data {
    std::string name;
    std::vector<std::int64_t> transitions;  // ascending, seconds since the epoch
    std::vector<std::uint8_t> type_after;   // the type in effect from each transition on
    std::vector<zone_offset> types;         // at least one
    std::optional<posix_rule> footer;       // after the last transition
    bool utc = false;
};

time_zone::time_zone() {
    static const std::shared_ptr<const data> utc = [] {
        auto d = std::make_shared<data>();
        d->name = "UTC";
        d->types.push_back(zone_offset{seconds{0}, false, "UTC"});
        d->footer = posix_rule::parse("UTC0");
        d->utc = true;
        return d;
    }();
    data_ = utc;
}

std::optional<time_zone> time_zone::from_tzif(std::string name, std::string_view bytes, std::string* why) {
    std::string problem;
    auto fail = [&](std::string reason) -> std::optional<time_zone> {
        if (why != nullptr) *why = std::move(reason);
        return std::nullopt;
    };
    reader r{bytes};
    auto v1 = read_header(r, problem);
    if (!v1) return fail(problem);
    if (v1->version < '2') return fail("a version 1 TZif file (needs version 2 or later)");
    // Version 2 and later repeat everything with 64-bit times after the version 1 block.
    const std::uint64_t skip = v1->data_size(4);
    if (bytes.size() - r.at < skip) return fail("a truncated TZif file");
    r.at += static_cast<std::size_t>(skip);
    auto h = read_header(r, problem);
    if (!h) return fail("a damaged TZif file (no second header)");
    if (h->leapcnt != 0) return fail("a zone counting leap seconds (a right/ zone): use the one without right/");
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
        return fail("a damaged TZif file (no local time types)");
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return fail("a damaged TZif file (indicator counts)");
    if (bytes.size() - r.at < h->data_size(8)) return fail("a truncated TZif file");

    auto d = std::make_shared<data>();
    d->name = std::move(name);
    d->transitions.reserve(h->timecnt);
    for (std::uint32_t i = 0; i < h->timecnt; ++i) {
        d->transitions.push_back(r.i64());
        if (i > 0 && d->transitions[i] <= d->transitions[i - 1])
            return fail("a damaged TZif file (transitions out of order)");
    }
    d->type_after.reserve(h->timecnt);
    for (std::uint32_t i = 0; i < h->timecnt; ++i) {
        d->type_after.push_back(r.u8());
        if (d->type_after.back() >= h->typecnt) return fail("a damaged TZif file (transition type)");
    }
    struct raw_type {
        std::int32_t offset;
        bool dst;
        std::uint8_t abbreviation;
    };
    std::vector<raw_type> raw;
    for (std::uint32_t i = 0; i < h->typecnt; ++i) {
        const auto offset = static_cast<std::int32_t>(r.u32());
        const bool dst = r.u8() != 0;
        const std::uint8_t index = r.u8();
        if (index >= h->charcnt || offset <= -25 * 3600 || offset >= 26 * 3600)
            return fail("a damaged TZif file (local time type)");
        raw.push_back(raw_type{offset, dst, index});
    }
    const std::string_view chars = bytes.substr(r.at, h->charcnt);
    r.at += h->charcnt + h->isstdcnt + h->isutcnt;
    for (const raw_type& t : raw) {
        const std::string_view rest = chars.substr(t.abbreviation);
        d->types.push_back(zone_offset{seconds{t.offset}, t.dst, std::string(rest.substr(0, rest.find('\0')))});
    }

    // The footer: "\n<POSIX TZ rule>\n"; an empty rule means none.
    if (r.at >= bytes.size() || bytes[r.at] != '\n') return fail("a damaged TZif file (no footer)");
    const std::size_t end = bytes.find('\n', r.at + 1);
    if (end == std::string_view::npos) return fail("a damaged TZif file (unterminated footer)");
    const std::string_view footer = bytes.substr(r.at + 1, end - r.at - 1);
    if (!footer.empty()) {
        d->footer = posix_rule::parse(footer);
        if (!d->footer) return fail("a TZif file with a rule this reader does not understand: " + std::string(footer));
    }

    const bool every_type_utc = std::all_of(d->types.begin(), d->types.end(), [](const zone_offset& t) {
        return t.utc_offset.count() == 0 && !t.dst;
    });
    const bool footer_utc = !d->footer || (!d->footer->has_dst() && d->footer->at(0).utc_offset.count() == 0);
    d->utc = every_type_utc && footer_utc;

    time_zone z;
    z.data_ = std::move(d);
    return z;
}

const std::string& time_zone::name() const { return data_->name; }

zone_offset time_zone::at(timestamp t) const {
    const data& d = *data_;
    const std::int64_t s = floor<seconds>(t).time_since_epoch().count();
    // Before the first transition the first type applies (RFC 8536 3.2); after the last, the
    // footer's rule, else the last transition's type.
    if (d.transitions.empty()) return d.footer ? d.footer->at(s) : d.types.front();
    if (s < d.transitions.front()) return d.types.front();
    if (s >= d.transitions.back() && d.footer) return d.footer->at(s);
    const auto next = std::upper_bound(d.transitions.begin(), d.transitions.end(), s);
    const auto i = static_cast<std::size_t>(std::distance(d.transitions.begin(), next)) - 1;
    return d.types[d.type_after[i]];
}

local_time<duration> time_zone::to_local(timestamp t) const {
    return local_time<duration>{t.time_since_epoch() + at(t).utc_offset};
}

bool time_zone::is_utc() const { return data_->utc; }

// ---- the zoneinfo directory -----------------------------------------------------------------

std::filesystem::path zoneinfo_dir() {
    const char* dir = std::getenv("TZDIR");
    return dir != nullptr && *dir != '\0' ? std::filesystem::path(dir) : std::filesystem::path("/usr/share/zoneinfo");
}

namespace {

bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = std::min(name.find('/', start), name.size());
        const std::string_view part = name.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        for (char c : part) {
            if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '+' && c != '-') return false;
        }
        if (slash == name.size()) return true;
        start = slash + 1;
    }
}

}  // namespace

std::optional<time_zone> load_time_zone(std::string_view name, const std::filesystem::path& dir,
                                        zone_load_error* error) {
    auto fail = [&](bool unknown, std::string reason) -> std::optional<time_zone> {
        if (error != nullptr) *error = zone_load_error{unknown, std::move(reason)};
        return std::nullopt;
    };
    if (name == "UTC" || name == "Etc/UTC") return time_zone();
    if (!valid_zone_name(name)) return fail(true, "not a time-zone name");
    const std::filesystem::path file = dir / std::filesystem::path(name);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return fail(true, "no time-zone database at " + dir.string());
    if (!std::filesystem::is_regular_file(file, ec)) return fail(true, "no such zone in " + dir.string());
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(false, "cannot read " + file.string() + ": " + std::strerror(errno));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string problem;
    auto zone = time_zone::from_tzif(std::string(name), bytes, &problem);
    if (!zone) return fail(false, file.string() + " is " + problem);
    return zone;
}

std::vector<std::string> list_time_zones(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string rel = it->path().lexically_relative(dir).generic_string();
        if (it->is_directory(ec)) {
            if (rel == "posix" || rel == "right") it.disable_recursion_pending();
            continue;
        }
        // Zone names have parts that start with a capital letter; zone.tab, tzdata.zi, leapseconds
        // and posixrules are the database's other files.
        bool zone = true;
        std::size_t start = 0;
        while (zone && start < rel.size()) {
            zone = rel[start] >= 'A' && rel[start] <= 'Z';
            const std::size_t slash = rel.find('/', start);
            if (slash == std::string::npos) break;
            start = slash + 1;
        }
        if (zone && rel.find(".tab") == std::string::npos) out.push_back(rel);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace crisisd::core
