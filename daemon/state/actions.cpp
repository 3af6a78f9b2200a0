#include "state/actions.hpp"

namespace crisisd::state {
namespace {

using detail::from_micros;
using detail::micros;

#define CRISISD_RECORD_COLUMNS                                                                                   \
    "seq, key, incident_id, channel, kind, payload, state, attempts, created_us, next_attempt_us, done_us, " \
    "last_error, started"

record read_record(const detail::statement& s) {
    record r;
    r.seq = s.integer(0);
    r.key = s.text(1);
    r.incident_id = static_cast<std::uint64_t>(s.integer(2));
    r.channel = s.text(3);
    r.kind = s.text(4);
    r.payload = s.text(5);
    auto st = s.text(6);
    r.state = record_state_from_string(st).value_or(record_state::pending);
    r.attempts = static_cast<int>(s.integer(7));
    r.created_at = from_micros(s.integer(8));
    r.next_attempt = from_micros(s.integer(9));
    if (!s.is_null(10)) r.done_at = from_micros(s.integer(10));
    r.last_error = s.text(11);
    r.started = static_cast<int>(s.integer(12));
    return r;
}

std::vector<record> read_all(detail::statement& s) {
    std::vector<record> out;
    while (s.step() == SQLITE_ROW) out.push_back(read_record(s));
    s.reset();
    return out;
}

std::size_t read_count(detail::statement& s) {
    std::size_t n = 0;
    if (s.step() == SQLITE_ROW) n = static_cast<std::size_t>(s.integer(0));
    s.reset();
    return n;
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

std::optional<record_state> record_state_from_string(std::string_view s) {
    for (auto st : {record_state::pending, record_state::sent, record_state::dead})
        if (to_string(st) == s) return st;
    return std::nullopt;
}

action_store::action_store(detail::connection& c)
    : c_(c),
      insert_(c.db,
              "INSERT OR IGNORE INTO actions(key, incident_id, channel, kind, payload, created_us, next_attempt_us) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"),
      insert_dead_(c.db,
                   "INSERT INTO actions(key, incident_id, channel, kind, payload, state, created_us, next_attempt_us, "
                   "done_us, last_error) VALUES(?1, ?2, ?3, ?4, ?5, 'dead', ?6, ?6, ?6, ?7)"),
      due_(c.db, "SELECT " CRISISD_RECORD_COLUMNS
                 " FROM actions a WHERE state = 'pending' AND seq = (SELECT MIN(seq) FROM actions b "
                 "WHERE b.state = 'pending' AND b.channel = a.channel) AND next_attempt_us <= ?1 ORDER BY seq"),
      next_(c.db,
            "SELECT MIN(next_attempt_us) FROM actions a WHERE state = 'pending' AND seq = "
            "(SELECT MIN(seq) FROM actions b WHERE b.state = 'pending' AND b.channel = a.channel)"),
      sent_(c.db,
            "UPDATE actions SET state = 'sent', attempts = attempts + 1, done_us = ?2, last_error = '' WHERE seq = ?1"),
      retry_(c.db, "UPDATE actions SET attempts = attempts + 1, next_attempt_us = ?2, last_error = ?3 WHERE seq = ?1"),
      dead_(c.db,
            "UPDATE actions SET state = 'dead', attempts = attempts + 1, done_us = ?2, last_error = ?3 WHERE seq = ?1"),
      started_(c.db, "UPDATE actions SET started = attempts + 1 WHERE seq = ?1"),
      sent_since_(c.db,
                  "SELECT COUNT(*) FROM actions WHERE channel = ?1 AND kind = ?2 AND state = 'sent' AND done_us >= ?3"),
      shift_pending_(c.db, "UPDATE actions SET next_attempt_us = next_attempt_us + ?1 WHERE state = 'pending'"),
      shift_done_(c.db, "UPDATE actions SET done_us = done_us + ?1 WHERE done_us >= ?2"),
      dead_list_(c.db, "SELECT " CRISISD_RECORD_COLUMNS
                       " FROM actions WHERE state = 'dead' ORDER BY done_us DESC, seq DESC LIMIT ?1"),
      count_(c.db, "SELECT COUNT(*) FROM actions WHERE state = ?1"),
      by_incident_(c.db, "SELECT " CRISISD_RECORD_COLUMNS " FROM actions WHERE incident_id = ?1 ORDER BY seq"),
      by_key_(c.db, "SELECT " CRISISD_RECORD_COLUMNS " FROM actions WHERE key = ?1") {}

#undef CRISISD_RECORD_COLUMNS

bool action_store::record_refused(std::string_view key, std::uint64_t incident_id, std::string_view channel,
                                  std::string_view kind, std::string_view payload, core::timestamp now,
                                  std::string_view error) {
    insert_dead_.bind(1, key).bind(2, static_cast<std::int64_t>(incident_id)).bind(3, channel).bind(4, kind);
    insert_dead_.bind(5, payload).bind(6, micros(now)).bind(7, error);
    return c_.run(insert_dead_);
}

action_store::enqueue_result action_store::enqueue(std::string_view key, std::uint64_t incident_id,
                                                   std::string_view channel, std::string_view kind,
                                                   std::string_view payload, core::timestamp now) {
    insert_.bind(1, key).bind(2, static_cast<std::int64_t>(incident_id)).bind(3, channel).bind(4, kind);
    insert_.bind(5, payload).bind(6, micros(now));
    if (!c_.run(insert_)) return enqueue_result::failed;
    return sqlite3_changes(c_.db) == 1 ? enqueue_result::queued : enqueue_result::duplicate;
}

std::vector<record> action_store::due(core::timestamp now) {
    due_.bind(1, micros(now));
    return read_all(due_);
}

std::optional<core::timestamp> action_store::next_attempt() {
    std::optional<core::timestamp> out;
    if (next_.step() == SQLITE_ROW && !next_.is_null(0)) out = from_micros(next_.integer(0));
    next_.reset();
    return out;
}

bool action_store::mark_sent(std::int64_t seq, core::timestamp now) {
    sent_.bind(1, seq).bind(2, micros(now));
    return c_.run(sent_);
}

bool action_store::mark_retry(std::int64_t seq, core::timestamp next, std::string_view error) {
    retry_.bind(1, seq).bind(2, micros(next)).bind(3, error);
    return c_.run(retry_);
}

bool action_store::mark_dead(std::int64_t seq, core::timestamp now, std::string_view error) {
    dead_.bind(1, seq).bind(2, micros(now)).bind(3, error);
    return c_.run(dead_);
}

bool action_store::mark_started(std::int64_t seq) {
    started_.bind(1, seq);
    return c_.run(started_);
}

std::size_t action_store::count_sent_since(std::string_view channel, std::string_view kind, core::timestamp since) {
    sent_since_.bind(1, channel).bind(2, kind).bind(3, micros(since));
    return read_count(sent_since_);
}

bool action_store::shift(core::duration delta, core::timestamp done_since) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(delta).count();
    shift_pending_.bind(1, us);
    shift_done_.bind(1, us).bind(2, micros(done_since));
    const bool pending = c_.run(shift_pending_);
    return c_.run(shift_done_) && pending;
}

std::vector<record> action_store::dead_letters(std::size_t limit) {
    dead_list_.bind(1, static_cast<std::int64_t>(limit));
    return read_all(dead_list_);
}

std::size_t action_store::count(record_state st) {
    count_.bind(1, to_string(st));
    return read_count(count_);
}

std::vector<record> action_store::for_incident(std::uint64_t incident_id) {
    by_incident_.bind(1, static_cast<std::int64_t>(incident_id));
    return read_all(by_incident_);
}

std::optional<record> action_store::find(std::string_view key) {
    by_key_.bind(1, key);
    std::optional<record> out;
    if (by_key_.step() == SQLITE_ROW) out = read_record(by_key_);
    by_key_.reset();
    return out;
}

bool action_store::adopt(const record& r) {
    // Rare (a partition taken over): prepared per call rather than kept.
    detail::statement up(c_.db,
                         "INSERT INTO actions(key, incident_id, channel, kind, payload, state, attempts, created_us, "
                         "next_attempt_us, done_us, last_error, started) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?12) ON CONFLICT(key) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, "
                         "next_attempt_us = excluded.next_attempt_us, done_us = excluded.done_us, "
                         "last_error = excluded.last_error, started = excluded.started");
    up.bind(1, r.key).bind(2, static_cast<std::int64_t>(r.incident_id)).bind(3, r.channel).bind(4, r.kind);
    up.bind(5, r.payload).bind(6, to_string(r.state)).bind(7, std::int64_t{r.attempts}).bind(8, micros(r.created_at));
    up.bind(9, micros(r.next_attempt));
    if (r.done_at) up.bind(10, micros(*r.done_at));
    else up.bind_null(10);
    up.bind(11, r.last_error).bind(12, std::int64_t{r.started});
    return c_.run(up);
}

bool action_store::forget_partition(std::uint64_t base, int partition) {
    detail::statement del(c_.db, "DELETE FROM actions WHERE incident_id % ?1 = ?2");
    del.bind(1, static_cast<std::int64_t>(base)).bind(2, std::int64_t{partition});
    return c_.run(del);
}

}  // namespace crisisd::state
