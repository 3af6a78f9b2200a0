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
