#pragma once
// The `meta` key/value table (schema version 1): the storage of counters and detector snapshots
// (silences and cursors too, until schema version 4), each under its own key prefix that only its
// store knows. Private to state/.
// Not thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "state/detail/sqlite.hpp"

namespace crisisd::state::detail {

class meta_table {
public:
    explicit meta_table(connection& c)
        : c_(c),
          get_(c.db, "SELECT value FROM meta WHERE key = ?1"),
          set_(c.db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"),
          erase_(c.db, "DELETE FROM meta WHERE key = ?1"),
          prefix_(c.db, "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key") {}

    std::optional<std::string> get(std::string_view key) {
        get_.bind(1, key);
        std::optional<std::string> out;
        if (get_.step() == SQLITE_ROW) out = get_.text(0);
        get_.reset();
        return out;
    }
    bool set(std::string_view key, std::string_view value) {
        set_.bind(1, key).bind(2, value);
        return c_.run(set_);
    }
    bool erase(std::string_view key) {
        erase_.bind(1, key);
        return c_.run(erase_);
    }
    // Every entry whose key starts with `prefix`, in key order.
    std::vector<std::pair<std::string, std::string>> with_prefix(std::string_view prefix) {
        std::vector<std::pair<std::string, std::string>> out;
        prefix_.bind(1, prefix);
        while (prefix_.step() == SQLITE_ROW) out.emplace_back(prefix_.text(0), prefix_.text(1));
        prefix_.reset();
        return out;
    }

private:
    connection& c_;
    statement get_, set_, erase_, prefix_;
};

}  // namespace crisisd::state::detail
