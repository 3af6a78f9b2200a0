#include "state/incidents.hpp"

#include "incident/codec.hpp"

namespace crisisd::state {

incident_store::incident_store(detail::connection& c)
    : c_(c),
      save_(c.db, "INSERT OR REPLACE INTO incidents(id, snapshot, resolved_us) VALUES(?1, ?2, ?3)"),
      live_(c.db, "SELECT snapshot FROM incidents WHERE resolved_us IS NULL OR resolved_us >= ?1 ORDER BY id"),
      count_(c.db, "SELECT COUNT(*) FROM incidents") {}

bool incident_store::save(const incident::incident& inc) {
    save_.bind(1, static_cast<std::int64_t>(inc.id)).bind(2, incident::incident_to_json(inc));
    if (inc.state == incident::incident_state::resolved && inc.resolved_at) save_.bind(3, detail::micros(*inc.resolved_at));
    else save_.bind_null(3);
    return c_.run(save_);
}

incident_store::loaded incident_store::live(core::timestamp resolved_since) {
    loaded out;
    live_.bind(1, detail::micros(resolved_since));
    while (live_.step() == SQLITE_ROW) {
        if (auto inc = incident::incident_from_json(live_.text(0))) out.incidents.push_back(std::move(*inc));
        else ++out.unreadable;
    }
    live_.reset();
    return out;
}

incident_store::forgotten incident_store::forget_resolved_before(core::timestamp resolved_before) {
    forgotten out;
    const auto cutoff = detail::micros(resolved_before);
    // Ids first (the index on resolved_us), then both tables by id in one transaction.
    static constexpr const char* doomed =
        "SELECT id FROM incidents i WHERE resolved_us < ?1 AND NOT EXISTS "
        "(SELECT 1 FROM actions a WHERE a.incident_id = i.id AND a.state = 'pending')";
    if (sqlite3_exec(c_.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return out;
    bool ok = true;
    try {
        detail::statement actions(c_.db, std::string("DELETE FROM actions WHERE incident_id IN (") + doomed + ")");
        actions.bind(1, cutoff);
        ok = c_.wrote(actions.step());
        out.actions = static_cast<std::size_t>(sqlite3_changes(c_.db));
        if (ok) {
            detail::statement incidents(c_.db, std::string("DELETE FROM incidents WHERE id IN (") + doomed + ")");
            incidents.bind(1, cutoff);
            ok = c_.wrote(incidents.step());
            out.incidents = static_cast<std::size_t>(sqlite3_changes(c_.db));
        }
    } catch (const std::exception& e) {
        c_.last_error = e.what();
        ok = false;
    }
    if (!ok || sqlite3_exec(c_.db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_exec(c_.db, "ROLLBACK", nullptr, nullptr, nullptr);
        return {};
    }
    return out;
}

std::size_t incident_store::count() {
    std::size_t n = 0;
    if (count_.step() == SQLITE_ROW) n = static_cast<std::size_t>(count_.integer(0));
    count_.reset();
    return n;
}

bool incident_store::forget_partition(std::uint64_t base, int partition) {
    detail::statement del(c_.db, "DELETE FROM incidents WHERE id % ?1 = ?2");
    del.bind(1, static_cast<std::int64_t>(base)).bind(2, std::int64_t{partition});
    return c_.run(del);
}

}  // namespace crisisd::state
