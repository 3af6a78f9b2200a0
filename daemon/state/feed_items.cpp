#include "state/feed_items.hpp"

namespace crisisd::state {

feed_item_store::feed_item_store(detail::connection& c)
    : c_(c),
      polled_(c.db, "SELECT 1 FROM feed_sources WHERE source = ?1"),
      mark_(c.db, "INSERT OR IGNORE INTO feed_sources(source, first_polled_us) VALUES(?1, ?2)"),
      insert_(c.db, "INSERT OR IGNORE INTO feed_items(source, id, seen_us) VALUES(?1, ?2, ?3)"),
      forget_(c.db,
              "DELETE FROM feed_items WHERE source = ?1 AND rowid NOT IN "
              "(SELECT rowid FROM feed_items WHERE source = ?1 ORDER BY rowid DESC LIMIT ?2)"),
      count_(c.db, "SELECT COUNT(*) FROM feed_items WHERE source = ?1") {}

bool feed_item_store::polled(std::string_view source) {
    polled_.bind(1, source);
    const bool out = polled_.step() == SQLITE_ROW;
    polled_.reset();
    return out;
}

bool feed_item_store::mark_polled(std::string_view source, core::timestamp now) {
    mark_.bind(1, source).bind(2, detail::micros(now));
    return c_.run(mark_);
}

feed_item_store::remembered feed_item_store::remember(std::string_view source, std::string_view id, core::timestamp now) {
    insert_.bind(1, source).bind(2, id).bind(3, detail::micros(now));
    if (!c_.run(insert_)) return remembered::failed;
    return sqlite3_changes(c_.db) > 0 ? remembered::new_id : remembered::seen;
}

std::size_t feed_item_store::forget_oldest(std::string_view source, std::size_t keep) {
    forget_.bind(1, source).bind(2, static_cast<std::int64_t>(keep));
    if (!c_.run(forget_)) return 0;
    return static_cast<std::size_t>(sqlite3_changes(c_.db));
}

std::size_t feed_item_store::count(std::string_view source) {
    count_.bind(1, source);
    std::size_t out = 0;
    if (count_.step() == SQLITE_ROW) out = static_cast<std::size_t>(count_.integer(0));
    count_.reset();
    return out;
}

}  // namespace crisisd::state
