#include "incident/template.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace crisisd::incident {

std::vector<placeholder> find_placeholders(std::string_view tpl) {
    std::vector<placeholder> out;
    std::size_t i = 0;
    while ((i = tpl.find('{', i)) != std::string_view::npos) {
        std::size_t j = i + 1;
        while (j < tpl.size() && tpl[j] != '}' && tpl[j] != '{' && tpl[j] != '\n') ++j;
        if (j < tpl.size() && tpl[j] == '}') {
            out.push_back(placeholder{tpl.substr(i + 1, j - i - 1), i, j - i + 1});
            i = j + 1;
        } else {
            i = j;
        }
    }
    return out;
}

std::string render_template(std::string_view tpl, const field_lookup& field, std::vector<std::string>* unfilled) {
    std::string out;
    out.reserve(tpl.size() + 64);
    std::size_t i = 0;
    for (const placeholder& p : find_placeholders(tpl)) {
        out.append(tpl.substr(i, p.offset - i));
        std::optional<std::string> v = field(p.name);
        if (v && !v->empty()) {
            out.append(*v);
        } else {
            out.append(tpl.substr(p.offset, p.size));
            if (unfilled != nullptr) unfilled->emplace_back(p.name);
        }
        i = p.offset + p.size;
    }
    out.append(tpl.substr(i));
    return out;
}

namespace {

// "14:30" or "2026-11-26 14:30" from a local time, plus " UTC" in UTC.
std::string wall_clock(std::chrono::local_time<core::duration> local, bool with_date, const core::time_zone& zone) {
    using namespace std::chrono;
    const auto day = floor<days>(local);
    const hh_mm_ss<core::duration> hms(local - day);
    char buf[40];
    int n;
    if (with_date) {
        const year_month_day ymd{day};
        n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    } else {
        n = std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()));
    }
    std::string out(buf, static_cast<std::size_t>(n));
    if (zone.is_utc()) out += " UTC";
    return out;
}

}  // namespace

std::string next_update_text(core::timestamp posted, core::duration interval, const core::time_zone& zone) {
    const auto at = std::chrono::ceil<std::chrono::minutes>(posted + interval);
    return wall_clock(zone.to_local(at), false, zone);
}

std::string started_at_text(core::timestamp started, core::timestamp posted, const core::time_zone& zone) {
    using namespace std::chrono;
    const auto local = zone.to_local(floor<minutes>(started));
    const bool same_day = floor<days>(local) == floor<days>(zone.to_local(posted));
    return wall_clock(local, !same_day, zone);
}

std::optional<std::string> longest_engine_field(std::string_view name, const core::time_zone& zone) {
    using namespace std::chrono;
    // Four-digit years only; the last minute of a day has every digit at its widest, and the
    // forms are fixed-width ASCII, so one instant gives the longest of each.
    const local_time<core::duration> last{local_days{year{9999} / December / 31} + hours(23) + minutes(59)};
    if (name == "incident_id") return std::to_string(std::numeric_limits<std::uint64_t>::max());
    if (name == "started_at") return wall_clock(last, true, zone);
    if (name == "next_update") return wall_clock(last, false, zone);
    return std::nullopt;
}

std::optional<std::string> configured_topic(const playbook_settings* playbook, std::string_view key) {
    if (playbook == nullptr) return std::nullopt;
    if (!playbook->topics) return std::string(key);
    for (const auto& t : *playbook->topics)
        if (t == key) return t;
    return std::nullopt;
}

}  // namespace crisisd::incident
