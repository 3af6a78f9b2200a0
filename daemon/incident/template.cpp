#include "incident/template.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace crisisd::incident {

std::string render_template(std::string_view tpl, const field_lookup& field) {
    std::string out;
    out.reserve(tpl.size() + 64);
    std::size_t i = 0;
    while (i < tpl.size()) {
        const std::size_t open = tpl.find('{', i);
        if (open == std::string_view::npos) break;
        const std::size_t close = tpl.find('}', open + 1);
        if (close == std::string_view::npos) break;
        out.append(tpl.substr(i, open - i));
        const std::string_view name = tpl.substr(open + 1, close - open - 1);
        if (std::optional<std::string> v = field(name)) {
            out.append(*v);
        } else {
            out.append(tpl.substr(open, close - open + 1));
        }
        i = close + 1;
    }
    out.append(tpl.substr(std::min(i, tpl.size())));
    return out;
}

std::string hh_mm_utc(core::timestamp t) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::hh_mm_ss<core::duration> hms(t - day);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return buf;
}

std::optional<std::string> longest_engine_field(std::string_view name) {
    using namespace std::chrono;
    // Four-digit years only; the last second of a day has every digit at its widest.
    const core::timestamp last = sys_days{year{9999} / December / 31} + hours(23) + minutes(59) + seconds(59);
    if (name == "incident_id") return std::to_string(std::numeric_limits<std::uint64_t>::max());
    if (name == "started_at") return core::format_rfc3339(last);
    if (name == "next_update") return hh_mm_utc(last);
    return std::nullopt;
}

}  // namespace crisisd::incident
