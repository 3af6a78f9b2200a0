#include "state/silences.hpp"

namespace crisisd::state {

silence_store::silence_store(detail::connection& c)
    : c_(c),
      save_(c.db, "INSERT OR REPLACE INTO silences(rule, key, until_us, who) VALUES(?1, ?2, ?3, ?4)"),
      running_(c.db, "SELECT rule, key, until_us, who FROM silences WHERE until_us > ?1 ORDER BY rule, key"),
      forget_(c.db, "DELETE FROM silences WHERE until_us <= ?1"),
      shift_(c.db, "UPDATE silences SET until_us = until_us + ?1 WHERE until_us > ?2") {}

bool silence_store::save(const silence& s) {
    save_.bind(1, s.rule).bind(2, s.key).bind(3, detail::micros(s.until)).bind(4, s.who);
    return c_.run(save_);
}

std::vector<silence> silence_store::running(core::timestamp now) {
    std::vector<silence> out;
    running_.bind(1, detail::micros(now));
    while (running_.step() == SQLITE_ROW)
        out.push_back(silence{running_.text(0), running_.text(1), running_.text(3), detail::from_micros(running_.integer(2))});
    running_.reset();
    return out;
}

std::size_t silence_store::forget_ended(core::timestamp now) {
    forget_.bind(1, detail::micros(now));
    if (!c_.run(forget_)) return 0;
    return static_cast<std::size_t>(sqlite3_changes(c_.db));
}

bool silence_store::shift(core::duration delta, core::timestamp now) {
    shift_.bind(1, detail::micros(core::timestamp{} + delta)).bind(2, detail::micros(now));
    return c_.run(shift_);
}

}  // namespace crisisd::state
