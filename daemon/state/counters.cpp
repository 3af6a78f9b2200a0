#include "state/counters.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace crisisd::state {

namespace {
constexpr const char* next_key = "next_incident_id";
}

counters::counters(detail::connection& c, detail::meta_table& meta)
    : meta_(meta),
      highest_(c.db,
               "SELECT MAX(m) FROM (SELECT MAX(incident_id) AS m FROM actions UNION ALL SELECT MAX(id) FROM incidents)") {}

std::uint64_t counters::highest_incident_id() {
    std::uint64_t out = 0;
    if (highest_.step() == SQLITE_ROW && !highest_.is_null(0)) out = static_cast<std::uint64_t>(highest_.integer(0));
    highest_.reset();
    return out;
}

counters::next_incident counters::next_incident_id() {
    next_incident out;
    out.id = highest_incident_id() + 1;
    const auto saved = meta_.get(next_key);
    if (!saved) {
        out.counter_missing = out.id > 1;
        return out;
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(saved->data(), saved->data() + saved->size(), v);
    if (ec != std::errc{} || end != saved->data() + saved->size()) out.counter_unreadable = true;
    else out.id = std::max(out.id, v);
    return out;
}

bool counters::save_next_incident_id(std::uint64_t id) { return meta_.set(next_key, std::to_string(id)); }

}  // namespace crisisd::state
