#include "state/audit.hpp"

namespace crisisd::state {

audit_log::audit_log(detail::connection& c)
    : c_(c),
      insert_(c.db, "INSERT INTO audit(at_us, who, address, action, target, outcome) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
      list_(c.db, "SELECT seq, at_us, who, address, action, target, outcome FROM audit ORDER BY seq DESC LIMIT ?1"),
      trim_(c.db, "DELETE FROM audit WHERE seq <= ?1") {}

bool audit_log::append(core::timestamp at, std::string_view who, std::string_view address, std::string_view action,
                       std::string_view target, std::string_view outcome) {
    insert_.bind(1, detail::micros(at)).bind(2, who).bind(3, address).bind(4, action).bind(5, target).bind(6, outcome);
    if (!c_.run(insert_)) return false;
    // Trimmed in steps of a thousand rather than on every insert.
    const auto seq = sqlite3_last_insert_rowid(c_.db);
    if (seq % 1000 == 0 && seq > max_records) {
        trim_.bind(1, seq - max_records);
        c_.run(trim_);
    }
    return true;
}

std::vector<audit_record> audit_log::newest(std::size_t limit) {
    std::vector<audit_record> out;
    list_.bind(1, static_cast<std::int64_t>(limit));
    while (list_.step() == SQLITE_ROW)
        out.push_back({list_.integer(0), detail::from_micros(list_.integer(1)), list_.text(2), list_.text(3),
                       list_.text(4), list_.text(5), list_.text(6)});
    list_.reset();
    return out;
}

}  // namespace crisisd::state
