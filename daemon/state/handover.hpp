#pragma once
// A state database meeting cluster mode (issue 15). A cluster replica keeps every partition's
// incidents and outbox in JetStream; what its own database holds of them are copies, dropped at
// start. A database that served a single node holds the only record of its open incidents and
// undelivered actions: a replica starting on it would lose them without a word. So a replica
// asks first: has this database served a cluster replica before (the meta row
// "cluster_replica", written the first time one starts on it), and if not, what single-node
// state would be lost. The daemon refuses to start on such state unless told to discard it
// (`crisisd run --discard-local-state`), which gives it up here, visibly: the actions become
// dead letters saying why, the incidents are resolved with a history entry.
//
// Owned by state::database; not thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "state/detail/meta.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

class incident_store;

class handover_store {
public:
    handover_store(detail::connection& c, detail::meta_table& meta, incident_store& incidents);

    // The replica name that first ran on this database in cluster mode, if one did.
    std::optional<std::string> cluster_replica();
    bool mark_cluster_replica(std::string_view name);
    // A single node started on it again: from now on it holds single-node state once more.
    bool clear_cluster_replica();

    struct single_node_state {
        std::vector<std::uint64_t> open_incidents;   // ids, ascending
        std::size_t undelivered = 0;                  // pending outbox records
        bool empty() const { return open_incidents.empty() && undelivered == 0; }
        // "2 open incident(s) (#4, #7) and 3 undelivered action(s)"
        std::string describe() const;
    };
    // What this database holds that cluster mode would not carry.
    single_node_state single_node();
    // Gives it up (one transaction): every pending action dead with `why` as its error, every open
    // incident resolved at `now` with a history entry by `who` saying `why`, its waiting steps
    // skipped. Inside database::begin()/commit(): false when a write failed.
    bool discard(core::timestamp now, std::string_view who, std::string_view why);

private:
    detail::connection& c_;
    detail::meta_table& meta_;
    incident_store& incidents_;
    detail::statement pending_, kill_pending_, open_;
};

class database;

// What a daemon starting on `db` does about it. A single node (`replica` empty) clears the mark.
// A cluster replica on a database no replica ran on before: with single-node state left, refused
// (`message` says what it holds and how to drain it) unless `discard`, which gives it up (logged);
// then the database is marked as a replica's. `failed`: the database refused a write.
struct handover_result {
    bool refused = false;
    bool failed = false;
    std::string message;
};
handover_result take_over(database& db, std::string_view replica, bool discard, core::timestamp now);

}  // namespace crisisd::state
