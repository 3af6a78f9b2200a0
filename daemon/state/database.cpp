#include "state/database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>

#include "core/log.hpp"
#include "state/detail/checkpointer.hpp"
#include "state/detail/meta.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {
namespace {

// Schema version 1 exactly as crisisd created it before versions existed (user_version 0), so a
// database made today and one made then are the same thing. `started` was once added by ALTER
// TABLE, hence its place at the end.
constexpr const char* schema_1 = R"sql(
    CREATE TABLE IF NOT EXISTS actions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        incident_id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_us INTEGER NOT NULL,
        next_attempt_us INTEGER NOT NULL,
        done_us INTEGER,
        last_error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS actions_pending ON actions(state, channel, seq);
    CREATE INDEX IF NOT EXISTS actions_incident ON actions(incident_id);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS incidents (id INTEGER PRIMARY KEY, snapshot TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS instance (id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_us INTEGER NOT NULL,
        who TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
)sql";

// 1 → 2: the resolution time beside each snapshot, indexed, so start-up reads only live
// incidents and the retention sweep finds old ones without parsing every snapshot.
constexpr const char* migration_2 = R"sql(
    UPDATE incidents SET resolved_us = json_extract(snapshot, '$.resolved_at_us')
        WHERE json_valid(snapshot) AND json_extract(snapshot, '$.state') = 'resolved';
    CREATE INDEX IF NOT EXISTS incidents_resolved ON incidents(resolved_us);
)sql";

// 2 → 3: the feed source's memory of items it has seen and of feeds it has polled.
constexpr const char* migration_3 = R"sql(
    CREATE TABLE IF NOT EXISTS feed_items (
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        seen_us INTEGER NOT NULL,
        UNIQUE(source, id)
    );
    CREATE TABLE IF NOT EXISTS feed_sources (source TEXT PRIMARY KEY, first_polled_us INTEGER NOT NULL);
)sql";

// 3 → 4: credentials a platform rotates as they are used (X's refresh token), per channel.
constexpr const char* migration_4 = R"sql(
    CREATE TABLE IF NOT EXISTS channel_tokens (
        channel TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        origin TEXT NOT NULL,
        updated_us INTEGER NOT NULL
    );
)sql";

// 4 → 5: silences and cursors leave the generic meta table for tables of their own, typed, so
// the sweep and a clock step are one statement each instead of a parse of every meta row. The
// meta rows move: a silence "silence/<rule>/<key>" = "<until µs> <who>" (a rule name has no '/';
// a key may), a cursor "jetstream_cursor:<source>" = decimal time_us. A cursor that is not a
// number comes over without a position (as before, the source says it ignores it); a silence
// row that cannot be read stays in meta, counted in the log, as it was ignored before too.
constexpr const char* migration_5 = R"sql(
    CREATE TABLE IF NOT EXISTS silences (
        rule TEXT NOT NULL,
        key TEXT NOT NULL,
        until_us INTEGER NOT NULL,
        who TEXT NOT NULL,
        PRIMARY KEY (rule, key)
    );
    CREATE TABLE IF NOT EXISTS cursors (source TEXT PRIMARY KEY, position INTEGER);
    CREATE TEMP VIEW old_silences AS
        SELECT key AS meta_key,
               substr(key, 9, instr(substr(key, 9), '/') - 1) AS rule,
               substr(key, 9 + instr(substr(key, 9), '/')) AS silence_key,
               substr(value, 1, instr(value, ' ') - 1) AS until_text,
               substr(value, instr(value, ' ') + 1) AS who
        FROM meta WHERE substr(key, 1, 8) = 'silence/';
    INSERT OR IGNORE INTO silences(rule, key, until_us, who)
        SELECT rule, silence_key, CAST(until_text AS INTEGER), who FROM old_silences
        WHERE rule <> '' AND until_text <> '' AND until_text NOT GLOB '*[^0-9]*';
    DELETE FROM meta WHERE key IN (SELECT 'silence/' || s.rule || '/' || s.key FROM silences AS s);
    DROP VIEW old_silences;
    INSERT OR IGNORE INTO cursors(source, position)
        SELECT substr(key, 18),
               CASE WHEN value <> '' AND value NOT GLOB '*[^0-9]*' THEN CAST(value AS INTEGER) END
        FROM meta WHERE substr(key, 1, 17) = 'jetstream_cursor:';
    DELETE FROM meta WHERE substr(key, 1, 17) = 'jetstream_cursor:';
)sql";

constexpr std::array<const char*, 5> tables_1 = {"actions", "meta", "incidents", "instance", "audit"};
// What crisisd wrote before issue 11 lacked the instance and audit tables; version 1's
// migration adds them.
constexpr std::array<const char*, 3> tables_0 = {"actions", "meta", "incidents"};

const std::string what_to_do_corrupt =
    "crisisd will not start on it and will not replace it: a new database forgets which statements were "
    "posted and would post them again. Restore the file from a backup, or, knowing that, move it aside "
    "(with its -wal and -shm files) to start with an empty one";

open_error refused(const std::string& path, const std::string& why) {
    return {open_failure::refused, "state database " + path + " " + why + ". " + what_to_do_corrupt};
}

open_error unavailable(const std::string& path, const std::string& why) {
    return {open_failure::unavailable,
            "cannot open state database " + path + ": " + why +
                " (a missing mount or a permission problem?); crisisd exits with 75 so that systemd tries again"};
}

// Errors that say the file's contents are bad, as opposed to the file being out of reach now.
bool is_corruption(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || primary == SQLITE_FORMAT;
}

struct closer {
    sqlite3* db = nullptr;
    ~closer() {
        if (db) sqlite3_close(db);
    }
};

std::set<std::string> table_names(sqlite3* db, int& rc) {
    std::set<std::string> out;
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &s, nullptr);
    if (rc != SQLITE_OK) return out;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    sqlite3_finalize(s);
    return out;
}

std::optional<std::string> single_text(sqlite3* db, const char* sql, int& rc) {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    if (rc != SQLITE_OK) return std::nullopt;
    std::optional<std::string> out;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(s, 0);
        out = t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return out;
}

// Looks at an existing file without writing to it: is it a SQLite database, of a version this
// build knows, whole, with the tables its version has? Read-only, so a file refused here is left
// exactly as it was.
std::optional<open_error> inspect(const std::string& path, std::uintmax_t size) {
    {
        std::array<char, 16> header{};
        std::ifstream in(path, std::ios::binary);
        if (!in) return unavailable(path, "cannot read the file");
        in.read(header.data(), header.size());
        if (size < 100 || std::memcmp(header.data(), "SQLite format 3", 16) != 0)
            return refused(path, "is not a SQLite database (its header is wrong or cut short)");
    }
    closer c;
    int rc = sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READONLY, nullptr);
    auto fail = [&](const std::string& doing) -> open_error {
        const std::string msg = doing + ": " + (c.db ? sqlite3_errmsg(c.db) : "out of memory");
        return is_corruption(rc) ? refused(path, "is damaged (" + msg + ")") : unavailable(path, msg);
    };
    if (rc != SQLITE_OK) return fail("open");
    sqlite3_busy_timeout(c.db, 5000);
    auto version = single_text(c.db, "PRAGMA user_version", rc);
    if (rc != SQLITE_OK || !version) return fail("reading its schema version");
    const int v = std::atoi(version->c_str());
    if (v > schema_version)
        return open_error{open_failure::refused,
                          "state database " + path + " was written by a newer crisisd (schema version " +
                              std::to_string(v) + "; this crisisd knows versions up to " +
                              std::to_string(schema_version) +
                              "). crisisd will not start on it and will not replace it: run the newer crisisd "
                              "again, or restore a backup made by this version"};
    auto check = single_text(c.db, "PRAGMA quick_check(1)", rc);
    if (rc != SQLITE_OK) return fail("quick_check");
    if (check && *check != "ok") return refused(path, "is damaged (quick_check: " + *check + ")");
    const auto tables = table_names(c.db, rc);
    if (rc != SQLITE_OK) return fail("listing its tables");
    auto missing = [&](const auto& wanted) {
        std::string out;
        for (const char* t : wanted)
            if (!tables.contains(t)) out += (out.empty() ? "" : ", ") + std::string(t);
        return out;
    };
    if (v == 0) {
        // Before versions: empty (made by SQLite and never written), or crisisd's own tables.
        if (tables.empty()) return std::nullopt;
        const bool none_of_ours = std::none_of(tables_0.begin(), tables_0.end(), [&](const char* t) { return tables.contains(t); });
        if (none_of_ours) return refused(path, "is not a crisisd state database (it has none of crisisd's tables)");
        if (auto m = missing(tables_0); !m.empty()) return refused(path, "misses table(s) " + m);
        return std::nullopt;
    }
    if (auto m = missing(tables_1); !m.empty())
        return refused(path, "misses table(s) " + m + " that schema version " + std::to_string(v) + " has");
    if (v >= 2) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(c.db, "SELECT resolved_us FROM incidents LIMIT 0", -1, &s, nullptr) != SQLITE_OK) {
            sqlite3_finalize(s);
            return refused(path, "misses the column incidents.resolved_us that schema version " + std::to_string(v) +
                                     " has");
        }
        sqlite3_finalize(s);
    }
    if (v >= 3 && (!tables.contains("feed_items") || !tables.contains("feed_sources")))
        return refused(path, "misses the feed tables that schema version " + std::to_string(v) + " has");
    if (v >= 4 && !tables.contains("channel_tokens"))
        return refused(path, "misses the table channel_tokens that schema version " + std::to_string(v) + " has");
    if (v >= 5 && (!tables.contains("silences") || !tables.contains("cursors")))
        return refused(path, "misses the silences and cursors tables that schema version " + std::to_string(v) + " has");
    return std::nullopt;
}

std::string exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return "";
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return msg;
}

// Brings the schema to schema_version, one transaction per step, each ending with its version.
std::string migrate(sqlite3* db) {
    int rc = SQLITE_OK;
    const auto v = single_text(db, "PRAGMA user_version", rc);
    int version = v ? std::atoi(v->c_str()) : 0;
    if (version == 0) {
        std::string problem = exec(db, "BEGIN IMMEDIATE");
        if (problem.empty()) problem = exec(db, schema_1);
        if (problem.empty()) {
            // A database written before `started` existed gains it; an existing column is fine.
            sqlite3_stmt* s = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT started FROM actions LIMIT 0", -1, &s, nullptr) != SQLITE_OK)
                problem = exec(db, "ALTER TABLE actions ADD COLUMN started INTEGER NOT NULL DEFAULT 0");
            sqlite3_finalize(s);
        }
        if (problem.empty()) problem = exec(db, "PRAGMA user_version = 1");
        if (problem.empty()) problem = exec(db, "COMMIT");
        if (!problem.empty()) {
            exec(db, "ROLLBACK");
            return "schema version 1: " + problem;
        }
        version = 1;
    }
    if (version == 1) {
        std::string problem = exec(db, "BEGIN IMMEDIATE");
        if (problem.empty()) {
            sqlite3_stmt* s = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT resolved_us FROM incidents LIMIT 0", -1, &s, nullptr) != SQLITE_OK)
                problem = exec(db, "ALTER TABLE incidents ADD COLUMN resolved_us INTEGER");
            sqlite3_finalize(s);
        }
        if (problem.empty()) problem = exec(db, migration_2);
        if (problem.empty()) problem = exec(db, "PRAGMA user_version = 2");
        if (problem.empty()) problem = exec(db, "COMMIT");
        if (!problem.empty()) {
            exec(db, "ROLLBACK");
            return "migrating to schema version 2: " + problem;
        }
        core::log_info("state database: migrated to schema version 2");
        version = 2;
    }
    if (version == 2) {
        std::string problem = exec(db, "BEGIN IMMEDIATE");
        if (problem.empty()) problem = exec(db, migration_3);
        if (problem.empty()) problem = exec(db, "PRAGMA user_version = 3");
        if (problem.empty()) problem = exec(db, "COMMIT");
        if (!problem.empty()) {
            exec(db, "ROLLBACK");
            return "migrating to schema version 3: " + problem;
        }
        core::log_info("state database: migrated to schema version 3");
        version = 3;
    }
    if (version == 3) {
        std::string problem = exec(db, "BEGIN IMMEDIATE");
        if (problem.empty()) problem = exec(db, migration_4);
        if (problem.empty()) problem = exec(db, "PRAGMA user_version = 4");
        if (problem.empty()) problem = exec(db, "COMMIT");
        if (!problem.empty()) {
            exec(db, "ROLLBACK");
            return "migrating to schema version 4: " + problem;
        }
        core::log_info("state database: migrated to schema version 4");
        version = 4;
    }
    if (version == 4) {
        std::string problem = exec(db, "BEGIN IMMEDIATE");
        if (problem.empty()) problem = exec(db, migration_5);
        std::optional<std::string> moved, left;
        if (problem.empty()) {
            moved = single_text(db, "SELECT (SELECT COUNT(*) FROM silences) || ' silence(s) and ' || "
                                    "(SELECT COUNT(*) FROM cursors) || ' cursor(s)'", rc);
            left = single_text(db, "SELECT COUNT(*) FROM meta WHERE substr(key, 1, 8) = 'silence/'", rc);
        }
        if (problem.empty()) problem = exec(db, "PRAGMA user_version = 5");
        if (problem.empty()) problem = exec(db, "COMMIT");
        if (!problem.empty()) {
            exec(db, "ROLLBACK");
            return "migrating to schema version 5: " + problem;
        }
        core::log_info("state database: migrated to schema version 5 (" + moved.value_or("?") +
                       " moved out of meta into tables of their own)");
        if (left && *left != "0")
            core::log_warning("state database: " + *left + " silence row(s) in meta could not be read; they stay there, ignored");
    }
    return "";
}

std::string random_instance_id() {
    // 128 bits from the kernel's generator (std::random_device reads getrandom on Linux). Not a
    // secret: it only has to differ from every other database's, including this one's ancestors.
    std::random_device rd;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 4; ++i) {
        std::uint32_t v = rd();
        for (int b = 0; b < 8; ++b, v >>= 4) out += hex[v & 15];
    }
    return out;
}

}  // namespace

struct database::impl {
    std::string path;
    detail::connection conn;
    std::unique_ptr<detail::checkpointer> checkpoints;  // stops before the connection closes
    std::string instance;
    bool created = false;
    // Built once the schema is current; destroyed (statements finalized) before the connection.
    std::optional<detail::meta_table> meta;
    std::optional<action_store> actions;
    std::optional<incident_store> incidents;
    std::optional<detector_snapshots> detectors;
    std::optional<silence_store> silences;
    std::optional<cursor_store> cursors;
    std::optional<counters> counter;
    std::optional<audit_log> audit;
    std::optional<feed_item_store> feeds;
    std::optional<channel_token_store> tokens;
    std::optional<handover_store> handover;
    std::optional<detail::statement> begin, commit, rollback;

    ~impl() {
        begin.reset();
        commit.reset();
        rollback.reset();
        handover.reset();
        tokens.reset();
        feeds.reset();
        audit.reset();
        counter.reset();
        cursors.reset();
        silences.reset();
        detectors.reset();
        incidents.reset();
        actions.reset();
        meta.reset();
        checkpoints.reset();
        if (conn.db) sqlite3_close(conn.db);
    }

    // The instance id is made when the database is: a database that is deleted and created
    // again is another instance, so its idempotency keys never meet those of the old one at a
    // channel. A database written before instance ids existed that already has actions keeps
    // the empty id, so its actions keep the platform keys they were sent with.
    std::string adopt_instance() {
        {
            detail::statement get(conn.db, "SELECT id FROM instance LIMIT 1");
            if (get.step() == SQLITE_ROW) {
                instance = get.text(0);
                created = false;  // a write-ahead log left behind brought the old database back
                return "";
            }
        }
        bool has_actions = false;
        {
            detail::statement any(conn.db, "SELECT 1 FROM actions LIMIT 1");
            has_actions = any.step() == SQLITE_ROW;
        }
        instance = has_actions ? std::string() : random_instance_id();
        detail::statement put(conn.db, "INSERT INTO instance(id) VALUES(?1)");
        put.bind(1, instance);
        if (put.step() != SQLITE_DONE) return sqlite3_errmsg(conn.db);
        if (created)
            core::log(core::log_level::notice, "created a new state database at " + path + " (instance " + instance + ")");
        else if (has_actions)
            core::log(core::log_level::notice,
                      "state database " + path + " predates instance ids; its idempotency keys stay as they were");
        else
            core::log(core::log_level::notice, "state database " + path + " had no instance id; it is instance " + instance);
        return "";
    }
};

database::database(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
database::~database() = default;

std::variant<std::unique_ptr<database>, open_error> database::open(const std::string& path) {
    namespace fs = std::filesystem;
    auto im = std::make_unique<impl>();
    im->path = path;
    std::error_code ec;
    const auto parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
        fs::create_directories(parent, ec);
        if (ec) return unavailable(path, "cannot create its directory: " + ec.message());
    }
    const bool exists = fs::exists(path, ec);
    if (ec) return unavailable(path, ec.message());
    const std::uintmax_t size = exists ? fs::file_size(path, ec) : 0;
    if (ec) return unavailable(path, ec.message());
    // A database that is not there (or empty) is about to be created: it gets a new instance id.
    im->created = size == 0;
    if (size > 0)
        if (auto problem = inspect(path, size)) return *problem;

    int rc = sqlite3_open_v2(path.c_str(), &im->conn.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = im->conn.db ? sqlite3_errmsg(im->conn.db) : "out of memory";
        return is_corruption(rc) ? refused(path, "is damaged (" + msg + ")") : unavailable(path, msg);
    }
    sqlite3_busy_timeout(im->conn.db, 5000);
    // WAL with synchronous=FULL: a committed action survives power loss, and the admin API can
    // read while the delivery loop writes.
    if (auto problem = exec(im->conn.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !problem.empty())
        return unavailable(path, problem);
    if (auto problem = migrate(im->conn.db); !problem.empty()) {
        rc = sqlite3_extended_errcode(im->conn.db);
        return is_corruption(rc) ? refused(path, "cannot be migrated (" + problem + ")") : unavailable(path, problem);
    }
    int persist_wal = 1;
    sqlite3_file_control(im->conn.db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
    im->checkpoints = std::make_unique<detail::checkpointer>(path);
    if (im->checkpoints->running()) sqlite3_wal_hook(im->conn.db, detail::after_commit, im->checkpoints.get());
    try {
        if (auto problem = im->adopt_instance(); !problem.empty()) return unavailable(path, problem);
        im->meta.emplace(im->conn);
        im->actions.emplace(im->conn);
        im->incidents.emplace(im->conn);
        im->detectors.emplace(*im->meta);
        im->silences.emplace(im->conn);
        im->cursors.emplace(im->conn);
        im->counter.emplace(im->conn, *im->meta);
        im->audit.emplace(im->conn);
        im->feeds.emplace(im->conn);
        im->tokens.emplace(im->conn);
        im->handover.emplace(im->conn, *im->meta, *im->incidents);
        im->begin.emplace(im->conn.db, "BEGIN IMMEDIATE");
        im->commit.emplace(im->conn.db, "COMMIT");
        im->rollback.emplace(im->conn.db, "ROLLBACK");
    } catch (const std::exception& e) {
        return unavailable(path, e.what());
    }
    return std::unique_ptr<database>(new database(std::move(im)));
}

const std::string& database::path() const { return impl_->path; }
const std::string& database::instance_id() const { return impl_->instance; }
bool database::created() const { return impl_->created; }

action_store& database::actions() { return *impl_->actions; }
incident_store& database::incidents() { return *impl_->incidents; }
detector_snapshots& database::detectors() { return *impl_->detectors; }
silence_store& database::silences() { return *impl_->silences; }
cursor_store& database::cursors() { return *impl_->cursors; }
handover_store& database::handover() { return *impl_->handover; }
counters& database::counter() { return *impl_->counter; }
audit_log& database::audit() { return *impl_->audit; }
feed_item_store& database::feed_items() { return *impl_->feeds; }
channel_token_store& database::channel_tokens() { return *impl_->tokens; }

bool database::begin() {
    auto& c = impl_->conn;
    c.transaction_failed = false;
    if (!c.run(*impl_->begin)) return false;
    c.in_transaction = true;
    return true;
}

bool database::commit() {
    auto& c = impl_->conn;
    bool ok = !c.transaction_failed && c.run(*impl_->commit);
    c.in_transaction = false;
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may have rolled
    // it back already; either way none of it is kept.
    if (!ok && !sqlite3_get_autocommit(c.db)) {
        const std::string why = c.last_error;
        c.run(*impl_->rollback);
        c.last_error = why;
    }
    c.transaction_failed = false;
    return ok;
}

const std::string& database::last_error() const { return impl_->conn.last_error; }

database::swept database::sweep(core::timestamp now, core::duration retention) {
    swept out;
    // Numbers that leave stay used: the counter is kept above them first.
    auto next = counter().next_incident_id();
    if (!next.counter_unreadable) counter().save_next_incident_id(next.id);
    const auto gone = incidents().forget_resolved_before(now - retention);
    out.incidents = gone.incidents;
    out.actions = gone.actions;
    out.silences = silences().forget_ended(now);
    return out;
}

std::uint64_t database::full_checkpoints() const { return impl_->checkpoints->complete(); }
bool database::shift_times(core::duration delta, core::timestamp now) {
    if (!begin()) return false;
    actions().shift(delta, now - std::chrono::hours(2));
    silences().shift(delta, now);
    return commit();
}

int database::log_frames() const { return impl_->checkpoints->log_frames(); }

}  // namespace crisisd::state
