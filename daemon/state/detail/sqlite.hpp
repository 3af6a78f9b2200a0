#pragma once
// What every store of the state database shares: the connection with its transaction state,
// and prepared statements. Private to state/. Not thread-safe (one owner, the daemon's thread).
#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "core/time.hpp"

namespace crisisd::state::detail {

// Times are stored as integer microseconds since the epoch, so a round trip is exact.
inline std::int64_t micros(core::timestamp t) { return t.time_since_epoch().count(); }
inline core::timestamp from_micros(std::int64_t v) { return core::timestamp{core::duration{v}}; }

// A prepared statement, reset after each use. Errors in steady-state statements are bugs or a
// broken disk; they are logged, and the caller sees "nothing changed".
class statement {
public:
    statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
    statement(sqlite3* db, const std::string& sql) : statement(db, sql.c_str()) {}
    ~statement() { sqlite3_finalize(stmt_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, std::string_view s) {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    statement& bind_null(int i) {
        sqlite3_bind_null(stmt_, i);
        return *this;
    }
    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() {
        int rc = sqlite3_step(stmt_);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT)
            core::log_error(std::string("state database: sqlite: ") + sqlite3_errmsg(db_));
        return rc;
    }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col) const {
        auto* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// The open database and whether the transaction in progress has lost a write.
struct connection {
    sqlite3* db = nullptr;
    bool in_transaction = false;
    bool transaction_failed = false;
    std::string last_error;

    // Whether a write step worked; a failure is remembered for last_error() and the open
    // transaction. (statement::step() has logged it.)
    bool wrote(int rc) {
        if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
        last_error = sqlite3_errmsg(db);
        if (in_transaction) transaction_failed = true;
        return false;
    }
    bool run(statement& s) {
        const int rc = s.step();
        s.reset();
        return wrote(rc);
    }
};

}  // namespace crisisd::state::detail
