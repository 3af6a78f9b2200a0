#include "state/cursors.hpp"

namespace crisisd::state {

cursor_store::cursor_store(detail::connection& c)
    : c_(c),
      load_(c.db, "SELECT position FROM cursors WHERE source = ?1"),
      save_(c.db, "INSERT OR REPLACE INTO cursors(source, position) VALUES(?1, ?2)") {}

cursor_store::saved cursor_store::load(std::string_view source) {
    saved out;
    load_.bind(1, source);
    if (load_.step() == SQLITE_ROW) {
        out.found = true;
        if (!load_.is_null(0)) out.position = load_.integer(0);
    }
    load_.reset();
    return out;
}

bool cursor_store::save(std::string_view source, std::int64_t position) {
    save_.bind(1, source).bind(2, position);
    return c_.run(save_);
}

}  // namespace crisisd::state
