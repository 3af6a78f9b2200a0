#include "outbox/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <stdexcept>

#include "core/log.hpp"

namespace crisisd::outbox {
namespace {

std::int64_t micros(core::timestamp t) { return t.time_since_epoch().count(); }
core::timestamp from_micros(std::int64_t v) { return core::timestamp{core::duration{v}}; }

// A prepared statement, reset after each use. Errors in steady-state statements are bugs or a
// broken disk; they are logged, and the caller sees "nothing changed".
class statement {
public:
    statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
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
    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() {
        int rc = sqlite3_step(stmt_);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT)
            core::log_error(std::string("outbox: sqlite: ") + sqlite3_errmsg(db_));
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

constexpr const char* record_columns =
    "seq, key, incident_id, channel, kind, payload, state, attempts, created_us, next_attempt_us, done_us, last_error, "
    "started";

record read_record(const statement& s) {
    record r;
    r.seq = s.integer(0);
    r.key = s.text(1);
    r.incident_id = static_cast<std::uint64_t>(s.integer(2));
    r.channel = s.text(3);
    r.kind = s.text(4);
    r.payload = s.text(5);
    auto st = s.text(6);
    r.state = st == "sent" ? record_state::sent : st == "dead" ? record_state::dead : record_state::pending;
    r.attempts = static_cast<int>(s.integer(7));
    r.created_at = from_micros(s.integer(8));
    r.next_attempt = from_micros(s.integer(9));
    if (!s.is_null(10)) r.done_at = from_micros(s.integer(10));
    r.last_error = s.text(11);
    r.started = static_cast<int>(s.integer(12));
    return r;
}

}  // namespace

std::string_view to_string(record_state s) {
    switch (s) {
        case record_state::pending: return "pending";
        case record_state::sent: return "sent";
        case record_state::dead: return "dead";
    }
    return "pending";
}

namespace {

// Checkpoints the write-ahead log into the database on its own thread and connection, so the
// thread that commits actions never waits for one, and the log stays short: after each full
// checkpoint SQLite starts the log again from its beginning, overwriting blocks the file already
// has. That matters for the time to the first page: an fsync that only overwrites costs ~0.1 ms
// on ext4, one that grows the file (a journal commit for the new size) ~3 ms, measured with
// `dd oflag=dsync` on this project's CI disk. The log file is kept across restarts
// (SQLITE_FCNTL_PERSIST_WAL) for the same reason.
class checkpointer {
public:
    explicit checkpointer(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
            core::log_warning("state database: no background checkpoints (" +
                              std::string(db_ ? sqlite3_errmsg(db_) : "out of memory") + "); SQLite checkpoints inline");
            sqlite3_close(db_);
            db_ = nullptr;
            return;
        }
        sqlite3_busy_timeout(db_, 5000);
        // A connection learns that the database is in WAL mode when it first reads it; until
        // then a checkpoint request is a no-op.
        sqlite3_exec(db_, "PRAGMA schema_version", nullptr, nullptr, nullptr);
        thread_ = std::thread([this] { run(); });
    }
    ~checkpointer() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
        if (db_) sqlite3_close(db_);
    }
    bool running() const { return db_ != nullptr; }
    // Checkpoints that copied the whole log: the next commit starts it again from the top.
    std::uint64_t complete() const { return complete_.load(std::memory_order_relaxed); }
    // After every commit (WAL hook), with the frames now in the log.
    void committed(int frames) {
        log_frames_ = frames;
        nudge();
    }
    int log_frames() const { return log_frames_; }  // committing thread only
    void nudge() {
        {
            std::lock_guard lock(mutex_);
            pending_ = true;
        }
        wake_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return pending_ || stop_; });
            if (stop_) return;
            // Let a burst of commits (an incident's actions, then their results) finish first,
            // so the checkpoint does not hold the log while they want to restart it; but under
            // a steady stream of commits, checkpoint at least every 100 ms.
            const auto latest = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
            while (pending_ && !stop_ && std::chrono::steady_clock::now() < latest) {
                pending_ = false;
                wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return pending_ || stop_; });
            }
            pending_ = false;
            if (stop_) return;
            lock.unlock();
            int log = -1, copied = -1;
            if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK &&
                log >= 0 && log == copied)
                complete_.fetch_add(1, std::memory_order_relaxed);
            lock.lock();
        }
    }

    sqlite3* db_ = nullptr;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = false;
    bool stop_ = false;
    int log_frames_ = 0;
    std::atomic<std::uint64_t> complete_{0};
};

}  // namespace

struct store::impl {
    sqlite3* db = nullptr;
    std::unique_ptr<checkpointer> checkpoints;  // after db: stops before db closes
    std::unique_ptr<statement> rollback;
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
    std::unique_ptr<statement> insert, due, next, sent, retry, dead, count, by_incident, by_key, meta_get, meta_set;
    std::unique_ptr<statement> meta_prefix, started, sent_since, dead_list, begin, commit, incident_save, incident_load;
    std::unique_ptr<statement> insert_dead;
    std::string instance;
    bool created = false;
    std::unique_ptr<statement> audit_insert, audit_list, audit_trim;
    ~impl() {
        insert_dead.reset();
        audit_insert.reset();
        audit_list.reset();
        audit_trim.reset();
        meta_prefix.reset();
        started.reset();
        sent_since.reset();
        dead_list.reset();
        begin.reset();
        commit.reset();
        rollback.reset();
        incident_save.reset();
        incident_load.reset();
        insert.reset();
        due.reset();
        next.reset();
        sent.reset();
        retry.reset();
        dead.reset();
        count.reset();
        by_incident.reset();
        by_key.reset();
        meta_get.reset();
        meta_set.reset();
        checkpoints.reset();
        if (db) sqlite3_close(db);
    }
};

// After every commit (WAL hook): hand the checkpoint to the background thread. Should it fall
// far behind, checkpoint inline rather than let the log grow without bound.
namespace {
int after_commit(void* context, sqlite3* db, const char* schema, int frames) {
    static_cast<checkpointer*>(context)->committed(frames);
    if (frames > 10000) sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
}
}  // namespace

store::store(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
store::~store() = default;

std::variant<std::unique_ptr<store>, std::string> store::open(const std::string& path) {
    auto im = std::make_unique<impl>();
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    // A database that is not there (or empty) is about to be created: it gets a new instance id.
    im->created = std::filesystem::file_size(path, ec) == 0 || ec;
    if (sqlite3_open_v2(path.c_str(), &im->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = im->db ? sqlite3_errmsg(im->db) : "out of memory";
        return "cannot open state database " + path + ": " + msg;
    }
    sqlite3_busy_timeout(im->db, 5000);
    // WAL with synchronous=FULL: a committed action survives power loss, and the admin API can
    // read while the delivery loop writes.
    const char* schema = R"sql(
        PRAGMA journal_mode=WAL;
        PRAGMA synchronous=FULL;
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
    char* err = nullptr;
    if (sqlite3_exec(im->db, schema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        return "cannot initialise state database " + path + ": " + msg;
    }
    int persist_wal = 1;
    sqlite3_file_control(im->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
    im->checkpoints = std::make_unique<checkpointer>(path);
    if (im->checkpoints->running()) sqlite3_wal_hook(im->db, after_commit, im->checkpoints.get());
    // Databases written before `started` existed gain the column; the error for an existing
    // column is expected and ignored.
    sqlite3_exec(im->db, "ALTER TABLE actions ADD COLUMN started INTEGER NOT NULL DEFAULT 0", nullptr, nullptr, nullptr);
    try {
        im->insert = std::make_unique<statement>(
            im->db,
            "INSERT OR IGNORE INTO actions(key, incident_id, channel, kind, payload, created_us, next_attempt_us) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
        im->due = std::make_unique<statement>(
            im->db, (std::string("SELECT ") + record_columns +
                     " FROM actions a WHERE state = 'pending' AND seq = (SELECT MIN(seq) FROM actions b "
                     "WHERE b.state = 'pending' AND b.channel = a.channel) AND next_attempt_us <= ?1 ORDER BY seq")
                        .c_str());
        im->next = std::make_unique<statement>(im->db,
                                               "SELECT MIN(next_attempt_us) FROM actions a WHERE state = 'pending' AND seq = "
                                               "(SELECT MIN(seq) FROM actions b WHERE b.state = 'pending' AND "
                                               "b.channel = a.channel)");
        im->sent = std::make_unique<statement>(
            im->db, "UPDATE actions SET state = 'sent', attempts = attempts + 1, done_us = ?2, last_error = '' WHERE seq = ?1");
        im->retry = std::make_unique<statement>(
            im->db, "UPDATE actions SET attempts = attempts + 1, next_attempt_us = ?2, last_error = ?3 WHERE seq = ?1");
        im->dead = std::make_unique<statement>(
            im->db,
            "UPDATE actions SET state = 'dead', attempts = attempts + 1, done_us = ?2, last_error = ?3 WHERE seq = ?1");
        im->count = std::make_unique<statement>(im->db, "SELECT COUNT(*) FROM actions WHERE state = ?1");
        im->by_incident = std::make_unique<statement>(
            im->db, (std::string("SELECT ") + record_columns + " FROM actions WHERE incident_id = ?1 ORDER BY seq").c_str());
        im->by_key = std::make_unique<statement>(
            im->db, (std::string("SELECT ") + record_columns + " FROM actions WHERE key = ?1").c_str());
        im->meta_get = std::make_unique<statement>(im->db, "SELECT value FROM meta WHERE key = ?1");
        im->meta_set = std::make_unique<statement>(im->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
        im->meta_prefix = std::make_unique<statement>(
            im->db, "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key");
        im->started = std::make_unique<statement>(im->db, "UPDATE actions SET started = attempts + 1 WHERE seq = ?1");
        im->sent_since = std::make_unique<statement>(
            im->db,
            "SELECT COUNT(*) FROM actions WHERE channel = ?1 AND kind = ?2 AND state = 'sent' AND done_us >= ?3");
        im->dead_list = std::make_unique<statement>(
            im->db, (std::string("SELECT ") + record_columns +
                     " FROM actions WHERE state = 'dead' ORDER BY done_us DESC, seq DESC LIMIT ?1")
                        .c_str());
        im->begin = std::make_unique<statement>(im->db, "BEGIN IMMEDIATE");
        im->commit = std::make_unique<statement>(im->db, "COMMIT");
        im->rollback = std::make_unique<statement>(im->db, "ROLLBACK");
        im->incident_save =
            std::make_unique<statement>(im->db, "INSERT OR REPLACE INTO incidents(id, snapshot) VALUES(?1, ?2)");
        im->incident_load = std::make_unique<statement>(im->db, "SELECT snapshot FROM incidents ORDER BY id");
        im->insert_dead = std::make_unique<statement>(
            im->db,
            "INSERT INTO actions(key, incident_id, channel, kind, payload, state, created_us, next_attempt_us, done_us, "
            "last_error) VALUES(?1, ?2, ?3, ?4, ?5, 'dead', ?6, ?6, ?6, ?7)");
        if (auto problem = adopt_instance(*im, path); !problem.empty()) return problem;
        im->audit_insert = std::make_unique<statement>(
            im->db, "INSERT INTO audit(at_us, who, address, action, target, outcome) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
        im->audit_list = std::make_unique<statement>(
            im->db, "SELECT seq, at_us, who, address, action, target, outcome FROM audit ORDER BY seq DESC LIMIT ?1");
        im->audit_trim = std::make_unique<statement>(im->db, "DELETE FROM audit WHERE seq <= ?1");
    } catch (const std::exception& e) {
        return std::string("state database ") + path + ": " + e.what();
    }
    return std::unique_ptr<store>(new store(std::move(im)));
}

namespace {

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

// The instance id is made when the database is: a database that is deleted and created again
// is another instance, so its idempotency keys never meet those of the old one at a channel
// (see instance_id()). A database written before instance ids existed that already has actions
// keeps the empty id, so its actions keep the platform keys they were sent with.
std::string store::adopt_instance(impl& im, const std::string& path) {
    {
        statement get(im.db, "SELECT id FROM instance LIMIT 1");
        if (get.step() == SQLITE_ROW) {
            im.instance = get.text(0);
            im.created = false;  // a write-ahead log left behind brought the old database back
            return "";
        }
    }
    bool has_actions = false;
    {
        statement any(im.db, "SELECT 1 FROM actions LIMIT 1");
        has_actions = any.step() == SQLITE_ROW;
    }
    im.instance = has_actions ? std::string() : random_instance_id();
    statement put(im.db, "INSERT INTO instance(id) VALUES(?1)");
    put.bind(1, im.instance);
    if (put.step() != SQLITE_DONE) return "cannot initialise state database " + path + ": " + sqlite3_errmsg(im.db);
    if (im.created)
        core::log(core::log_level::notice,
                  "created a new state database at " + path + " (instance " + im.instance + ")");
    else if (has_actions)
        core::log(core::log_level::notice, "state database " + path +
                                               " predates instance ids; its idempotency keys stay as they were");
    else
        core::log(core::log_level::notice, "state database " + path + " had no instance id; it is instance " + im.instance);
    return "";
}

const std::string& store::instance_id() const { return impl_->instance; }
bool store::created() const { return impl_->created; }

std::uint64_t store::highest_incident_id() const {
    statement s(impl_->db, "SELECT MAX(m) FROM (SELECT MAX(incident_id) AS m FROM actions UNION ALL "
                           "SELECT MAX(id) FROM incidents)");
    std::uint64_t out = 0;
    if (s.step() == SQLITE_ROW && !s.is_null(0)) out = static_cast<std::uint64_t>(s.integer(0));
    return out;
}

bool store::record_refused(std::string_view key, std::uint64_t incident_id, std::string_view channel,
                           std::string_view kind, std::string_view payload, core::timestamp now,
                           std::string_view error) {
    auto& s = *impl_->insert_dead;
    s.bind(1, key).bind(2, static_cast<std::int64_t>(incident_id)).bind(3, channel).bind(4, kind).bind(5, payload);
    s.bind(6, micros(now)).bind(7, error);
    return impl_->run(s);
}

store::enqueue_result store::enqueue(std::string_view key, std::uint64_t incident_id, std::string_view channel,
                                     std::string_view kind, std::string_view payload, core::timestamp now) {
    auto& s = *impl_->insert;
    s.bind(1, key).bind(2, static_cast<std::int64_t>(incident_id)).bind(3, channel).bind(4, kind).bind(5, payload);
    s.bind(6, micros(now));
    if (!impl_->run(s)) return enqueue_result::failed;
    return sqlite3_changes(impl_->db) == 1 ? enqueue_result::queued : enqueue_result::duplicate;
}

std::vector<record> store::due(core::timestamp now) {
    std::vector<record> out;
    auto& s = *impl_->due;
    s.bind(1, micros(now));
    while (s.step() == SQLITE_ROW) out.push_back(read_record(s));
    s.reset();
    return out;
}

std::optional<core::timestamp> store::next_attempt() const {
    auto& s = *impl_->next;
    std::optional<core::timestamp> out;
    if (s.step() == SQLITE_ROW && !s.is_null(0)) out = from_micros(s.integer(0));
    s.reset();
    return out;
}

bool store::mark_sent(std::int64_t seq, core::timestamp now) {
    auto& s = *impl_->sent;
    s.bind(1, seq).bind(2, micros(now));
    return impl_->run(s);
}

bool store::mark_retry(std::int64_t seq, core::timestamp next, std::string_view error) {
    auto& s = *impl_->retry;
    s.bind(1, seq).bind(2, micros(next)).bind(3, error);
    return impl_->run(s);
}

bool store::mark_dead(std::int64_t seq, core::timestamp now, std::string_view error) {
    auto& s = *impl_->dead;
    s.bind(1, seq).bind(2, micros(now)).bind(3, error);
    return impl_->run(s);
}

std::vector<std::pair<std::string, std::string>> store::meta_with_prefix(std::string_view prefix) const {
    std::vector<std::pair<std::string, std::string>> out;
    auto& s = *impl_->meta_prefix;
    s.bind(1, prefix);
    while (s.step() == SQLITE_ROW) out.emplace_back(s.text(0), s.text(1));
    s.reset();
    return out;
}

bool store::mark_started(std::int64_t seq) {
    auto& s = *impl_->started;
    s.bind(1, seq);
    return impl_->run(s);
}

std::size_t store::count_sent_since(std::string_view channel, std::string_view kind, core::timestamp since) const {
    auto& s = *impl_->sent_since;
    s.bind(1, channel).bind(2, kind).bind(3, micros(since));
    std::size_t n = 0;
    if (s.step() == SQLITE_ROW) n = static_cast<std::size_t>(s.integer(0));
    s.reset();
    return n;
}

std::vector<record> store::dead_letters(std::size_t limit) const {
    std::vector<record> out;
    auto& s = *impl_->dead_list;
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step() == SQLITE_ROW) out.push_back(read_record(s));
    s.reset();
    return out;
}

bool store::begin() {
    impl_->transaction_failed = false;
    if (!impl_->run(*impl_->begin)) return false;
    impl_->in_transaction = true;
    return true;
}

bool store::commit() {
    auto& im = *impl_;
    bool ok = !im.transaction_failed && im.run(*im.commit);
    im.in_transaction = false;
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may have rolled
    // it back already; either way none of it is kept.
    if (!ok && !sqlite3_get_autocommit(im.db)) {
        const std::string why = im.last_error;
        im.run(*im.rollback);
        im.last_error = why;
    }
    im.transaction_failed = false;
    return ok;
}

const std::string& store::last_error() const { return impl_->last_error; }

bool store::save_incident(std::uint64_t id, std::string_view json) {
    auto& s = *impl_->incident_save;
    s.bind(1, static_cast<std::int64_t>(id)).bind(2, json);
    return impl_->run(s);
}

std::vector<std::string> store::load_incidents() const {
    std::vector<std::string> out;
    auto& s = *impl_->incident_load;
    while (s.step() == SQLITE_ROW) out.push_back(s.text(0));
    s.reset();
    return out;
}

std::size_t store::count(record_state st) const {
    auto& s = *impl_->count;
    s.bind(1, to_string(st));
    std::size_t n = 0;
    if (s.step() == SQLITE_ROW) n = static_cast<std::size_t>(s.integer(0));
    s.reset();
    return n;
}

std::vector<record> store::for_incident(std::uint64_t incident_id) const {
    std::vector<record> out;
    auto& s = *impl_->by_incident;
    s.bind(1, static_cast<std::int64_t>(incident_id));
    while (s.step() == SQLITE_ROW) out.push_back(read_record(s));
    s.reset();
    return out;
}

std::optional<record> store::find(std::string_view key) const {
    auto& s = *impl_->by_key;
    s.bind(1, key);
    std::optional<record> out;
    if (s.step() == SQLITE_ROW) out = read_record(s);
    s.reset();
    return out;
}

std::optional<std::string> store::get_meta(std::string_view key) const {
    auto& s = *impl_->meta_get;
    s.bind(1, key);
    std::optional<std::string> out;
    if (s.step() == SQLITE_ROW) out = s.text(0);
    s.reset();
    return out;
}

bool store::set_meta(std::string_view key, std::string_view value) {
    auto& s = *impl_->meta_set;
    s.bind(1, key).bind(2, value);
    return impl_->run(s);
}

bool store::append_audit(core::timestamp at, std::string_view who, std::string_view address, std::string_view action,
                         std::string_view target, std::string_view outcome) {
    auto& s = *impl_->audit_insert;
    s.bind(1, micros(at)).bind(2, who).bind(3, address).bind(4, action).bind(5, target).bind(6, outcome);
    if (!impl_->run(s)) return false;
    // Trimmed in steps of a thousand rather than on every insert.
    const auto seq = sqlite3_last_insert_rowid(impl_->db);
    if (seq % 1000 == 0 && seq > max_audit_records) {
        auto& t = *impl_->audit_trim;
        t.bind(1, seq - max_audit_records);
        impl_->run(t);
    }
    return true;
}

std::vector<audit_record> store::audit_log(std::size_t limit) const {
    std::vector<audit_record> out;
    auto& s = *impl_->audit_list;
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step() == SQLITE_ROW)
        out.push_back({s.integer(0), from_micros(s.integer(1)), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    s.reset();
    return out;
}

std::uint64_t store::full_checkpoints() const { return impl_->checkpoints->complete(); }
int store::log_frames() const { return impl_->checkpoints->log_frames(); }

}  // namespace crisisd::outbox
