#pragma once
// The outbox table: every outbound action is written here (in the same transaction as the
// incident it belongs to) before any attempt to send it, keyed by its idempotency key so a
// second copy of the same action is refused. The delivery loop (outbox/) reads due records,
// sends them and records the outcome here.
// Owned by state::database; not thread-safe: used from the daemon's event loop only.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

enum class record_state { pending, sent, dead };
std::string_view to_string(record_state s);  // the `state` column
std::optional<record_state> record_state_from_string(std::string_view s);

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

class action_store {
public:
    explicit action_store(detail::connection& c);

    // Every write says whether the database took it. A write it refused (disk full, I/O error,
    // locked past the busy timeout) changes nothing; database::last_error() says why, and
    // inside a transaction it makes database::commit() roll the whole transaction back.
    enum class enqueue_result { queued, duplicate, failed };
    // Inserts a pending record; duplicate when a record with this key exists (any state).
    enqueue_result enqueue(std::string_view key, std::uint64_t incident_id, std::string_view channel,
                           std::string_view kind, std::string_view payload, core::timestamp now);

    // Writes an action that must not be sent as a dead letter with `error` (an unexpected second
    // action with an existing key is recorded under a key of its own, so that it is seen).
    bool record_refused(std::string_view key, std::uint64_t incident_id, std::string_view channel, std::string_view kind,
                        std::string_view payload, core::timestamp now, std::string_view error);

    // Pending records due at `now`, oldest first, at most one per channel (the channel's oldest
    // pending record, so a failing action holds back later ones and order per channel holds).
    std::vector<record> due(core::timestamp now);
    // The earliest next_attempt of a channel's oldest pending record (later records of a channel
    // wait for it, so their own times do not matter).
    std::optional<core::timestamp> next_attempt();

    bool mark_sent(std::int64_t seq, core::timestamp now);
    bool mark_retry(std::int64_t seq, core::timestamp next, std::string_view error);
    bool mark_dead(std::int64_t seq, core::timestamp now, std::string_view error);
    // Records that an attempt is about to be sent, durably, so that after a crash mid-request the
    // next attempt knows an earlier one may have landed (record::started > record::attempts).
    bool mark_started(std::int64_t seq);

    // Records of `kind` on `channel` delivered at or after `since` (the statement cap).
    std::size_t count_sent_since(std::string_view channel, std::string_view kind, core::timestamp since);
    // Moves pending records' next attempts, and the delivery times of records done at or after
    // `done_since`, by `delta` (the timeline stepped: database::shift_times).
    bool shift(core::duration delta, core::timestamp done_since);
    // Dead letters, newest first, at most `limit`.
    std::vector<record> dead_letters(std::size_t limit);

    std::size_t count(record_state s);
    std::vector<record> for_incident(std::uint64_t incident_id);
    std::optional<record> find(std::string_view key);
    // Cluster mode (issue 15): a record as a partition's previous owner left it (state, attempts,
    // started), inserted, or written over the row with its key. The delivery loop then carries
    // it on as after a restart: an attempt started and not recorded is checked with the
    // destination first.
    bool adopt(const record& r);
    // Deletes the records of the partition's incidents (incident_id % base == partition): the
    // partition moved to another replica, whose state in JetStream is what counts.
    bool forget_partition(std::uint64_t base, int partition);

    // Why the last write failed (the database's, shared by every store).
    const std::string& last_error() const { return c_.last_error; }

private:
    detail::connection& c_;
    detail::statement insert_, insert_dead_, due_, next_, sent_, retry_, dead_, started_, sent_since_, shift_pending_,
        shift_done_, dead_list_, count_, by_incident_, by_key_;
};

}  // namespace crisisd::state
