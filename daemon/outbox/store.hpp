#pragma once
// The durable outbox: every outbound action is written here (SQLite, WAL, synchronous=FULL)
// before any attempt to send it, keyed by its idempotency key so a second copy of the same
// action is refused. The delivery loop reads due records, sends them and records the outcome.
// Also a small key/value table for daemon state that must survive restarts.
// Not thread-safe: used from the daemon's event loop only.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace crisisd::outbox {

enum class record_state { pending, sent, dead };
std::string_view to_string(record_state s);

struct record {
    std::int64_t seq = 0;  // insertion order; delivery order within a channel
    std::string key;       // idempotency key
    std::uint64_t incident_id = 0;
    std::string channel;
    std::string kind;     // notify | statement
    std::string payload;  // JSON document handed to the channel
    record_state state = record_state::pending;
    int attempts = 0;      // attempts whose outcome was recorded
    int started = 0;       // attempts begun (recorded before sending, for statements only)
    core::timestamp created_at{};
    core::timestamp next_attempt{};
    std::optional<core::timestamp> done_at;  // sent or dead
    std::string last_error;
};

// One line of the admin audit log (admin::audit_entry, stamped and numbered).
struct audit_record {
    std::int64_t seq = 0;
    core::timestamp at{};
    std::string who, address, action, target, outcome;
};

class store {
public:
    // Opens or creates the database (and its directory's file); error text on failure. A new
    // database is logged as such ("created a new state database at PATH (instance …)"): where
    // one was expected, state was lost.
    static std::variant<std::unique_ptr<store>, std::string> open(const std::string& path);
    ~store();

    // This database's instance id: 128 random bits in hex, made when the database was created
    // and kept in it. It goes into every key a channel sends (notify::delivery::instance), so a
    // database created again (a new instance, whose incident numbers start again) can never be
    // answered with an old post for a new incident. Empty for a database written before
    // instance ids existed that already held actions: they keep the keys they were sent with.
    const std::string& instance_id() const;
    // Whether open() created the database (it was missing or empty).
    bool created() const;
    // The highest incident id any action or incident snapshot carries (0 when none): incident
    // numbering continues above it whatever happened to the meta table.
    std::uint64_t highest_incident_id() const;

    // Every write says whether the database took it. A write it refused (disk full, I/O error,
    // locked past the busy timeout) changes nothing; last_error() says why, and inside a
    // transaction it makes commit() roll the whole transaction back.
    enum class enqueue_result { queued, duplicate, failed };
    // Inserts a pending record; duplicate when a record with this key exists (any state).
    enqueue_result enqueue(std::string_view key, std::uint64_t incident_id, std::string_view channel, std::string_view kind,
                 std::string_view payload, core::timestamp now);

    // Writes an action that must not be sent as a dead letter with `error` (an unexpected second
    // action with an existing key is recorded under a key of its own, so that it is seen).
    bool record_refused(std::string_view key, std::uint64_t incident_id, std::string_view channel, std::string_view kind,
                        std::string_view payload, core::timestamp now, std::string_view error);

    // Pending records due at `now`, oldest first, at most one per channel (the channel's oldest
    // pending record, so a failing action holds back later ones and order per channel holds).
    std::vector<record> due(core::timestamp now);
    // The earliest next_attempt of a channel's oldest pending record (later records of a channel
    // wait for it, so their own times do not matter).
    std::optional<core::timestamp> next_attempt() const;

    bool mark_sent(std::int64_t seq, core::timestamp now);
    bool mark_retry(std::int64_t seq, core::timestamp next, std::string_view error);
    bool mark_dead(std::int64_t seq, core::timestamp now, std::string_view error);
    // Records that an attempt is about to be sent, durably, so that after a crash mid-request the
    // next attempt knows an earlier one may have landed (record::started > record::attempts).
    bool mark_started(std::int64_t seq);

    // Records of `kind` on `channel` delivered at or after `since` (the statement cap).
    std::size_t count_sent_since(std::string_view channel, std::string_view kind, core::timestamp since) const;
    // Dead letters, newest first, at most `limit`.
    std::vector<record> dead_letters(std::size_t limit) const;

    // Groups the writes made until commit() into one transaction (one fsync). Not nestable.
    // commit() is false when any write since begin() failed or the commit itself did: then
    // nothing of the transaction was kept.
    bool begin();
    bool commit();
    const std::string& last_error() const;

    // Incident snapshots (JSON, see outbox/incident_snapshot.hpp), so incidents and their step
    // timers survive a restart. save_incident replaces the snapshot with the same id.
    bool save_incident(std::uint64_t id, std::string_view json);
    std::vector<std::string> load_incidents() const;

    // The write-ahead log is checkpointed on a background thread after commits (store.cpp says
    // why): how many checkpoints copied the whole log so far, and the log's length in frames
    // after the last commit (small again once a commit follows a full checkpoint).
    std::uint64_t full_checkpoints() const;
    int log_frames() const;

    std::size_t count(record_state s) const;
    std::vector<record> for_incident(std::uint64_t incident_id) const;
    std::optional<record> find(std::string_view key) const;

    std::optional<std::string> get_meta(std::string_view key) const;
    bool set_meta(std::string_view key, std::string_view value);
    // Every meta entry whose key starts with `prefix`, in key order.
    std::vector<std::pair<std::string, std::string>> meta_with_prefix(std::string_view prefix) const;

    // The admin audit log: commands, refused requests and reloads. Only the newest
    // max_audit_records are kept, so a long life (or a flood that got past the admin API's own
    // per-minute limit) cannot fill the disk.
    static constexpr std::int64_t max_audit_records = 100000;
    bool append_audit(core::timestamp at, std::string_view who, std::string_view address, std::string_view action,
                      std::string_view target, std::string_view outcome);
    // Newest first, at most `limit`.
    std::vector<audit_record> audit_log(std::size_t limit) const;

private:
    struct impl;
    explicit store(std::unique_ptr<impl> i);
    static std::string adopt_instance(impl& im, const std::string& path);
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::outbox
