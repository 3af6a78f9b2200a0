#pragma once
// The state database: the one owner of everything crisisd keeps across restarts — the outbox
// (actions), incident snapshots, detector snapshots, silences, source cursors, the incident
// counter, the instance id and the audit log. One SQLite file (WAL, synchronous=FULL) with a
// schema version (PRAGMA user_version) and forward migrations; each table is reached through its
// typed store below, and nothing outside state/ writes SQL.
//
// open() refuses a database it cannot trust: one written by a newer crisisd, a file that is not
// a crisisd database, or one that fails SQLite's quick_check or misses tables its version has.
// Such a file is left untouched (it is only read), and never replaced by a fresh one, which
// would forget which statements were posted and post them again.
//
// Not thread-safe: used from the daemon's event loop only (a checkpoint thread of its own works
// on a connection of its own).
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "core/time.hpp"
#include "state/actions.hpp"
#include "state/audit.hpp"
#include "state/channel_tokens.hpp"
#include "state/counters.hpp"
#include "state/cursors.hpp"
#include "state/detector_snapshots.hpp"
#include "state/feed_items.hpp"
#include "state/handover.hpp"
#include "state/incidents.hpp"
#include "state/silences.hpp"

namespace crisisd::state {

// The schema this build writes. 1: the layout crisisd wrote before versions existed (which left
// user_version 0): actions, meta, incidents, instance, audit. 2: incidents carry resolved_us,
// indexed, for start-up and the retention sweep. 3: feed_items and feed_sources, what each feed
// source has seen (feed_items.hpp). 4: channel_tokens, credentials a platform rotates as they
// are used (channel_tokens.hpp). 5: silences and cursors in tables of their own, moved out of
// meta (silences.hpp, cursors.hpp).
constexpr int schema_version = 5;

enum class open_failure {
    // Could not be opened now (directory missing or not writable, permission, I/O, locked):
    // worth trying again, as after a mount or a permission fix.
    unavailable,
    // Written by a newer crisisd, corrupt, or not a crisisd database: a person must decide.
    refused,
};

struct open_error {
    open_failure kind = open_failure::unavailable;
    std::string message;  // names the file and what to do
};

class database {
public:
    // Opens the database at `path`, creating it (and its directory) when there is none, and
    // migrates it to schema_version. A new database is logged as such ("created a new state
    // database at PATH (instance …)"): where one was expected, state was lost.
    static std::variant<std::unique_ptr<database>, open_error> open(const std::string& path);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    const std::string& path() const;
    // This database's instance id: 128 random bits in hex, made when the database was created
    // and kept in it. It goes into every key a channel sends (notify::delivery::instance), so a
    // database created again (a new instance, whose incident numbers start again) can never be
    // answered with an old post for a new incident. Empty for a database written before
    // instance ids existed that already held actions: they keep the keys they were sent with.
    const std::string& instance_id() const;
    // Whether open() created the database (it was missing or empty).
    bool created() const;

    action_store& actions();
    incident_store& incidents();
    detector_snapshots& detectors();
    silence_store& silences();
    cursor_store& cursors();
    counters& counter();
    audit_log& audit();
    feed_item_store& feed_items();
    channel_token_store& channel_tokens();
    handover_store& handover();

    // Groups the writes made until commit() into one transaction (one fsync). Not nestable.
    // commit() is false when any write since begin() failed or the commit itself did: then
    // nothing of the transaction was kept.
    bool begin();
    bool commit();
    const std::string& last_error() const;

    // The retention sweep (storage.retention): incidents resolved before now - retention leave
    // with their finished actions and history, and silences that ended are dropped. The incident
    // counter is kept above every id that leaves, so numbers are never handed out again.
    struct swept {
        std::size_t incidents = 0, actions = 0, silences = 0;
    };
    swept sweep(core::timestamp now, core::duration retention);

    // The daemon's timeline stepped by `delta` (the wall clock was set; core::clock::take_step):
    // pending actions' next attempts, running silences, and the delivery times of actions done
    // in the two hours before `now` (the old timeline's; the hourly statement cap counts them)
    // move with it, so a retry does not wait an extra hour and a cap does not reset early.
    // One transaction; false when the database refused it (nothing moved).
    bool shift_times(core::duration delta, core::timestamp now);

    // The write-ahead log is checkpointed on a background thread after commits
    // (detail/checkpointer.hpp says why): how many checkpoints copied the whole log so far, and
    // the log's length in frames after the last commit.
    std::uint64_t full_checkpoints() const;
    int log_frames() const;

private:
    struct impl;
    explicit database(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::state
