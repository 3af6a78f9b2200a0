#pragma once
// Incident snapshots (the snapshot shape of incident/codec.hpp), so incidents, their history and their step
// timers survive a restart. Each row also carries the incident's resolution time (indexed), so
// start-up reads only live incidents and the retention sweep finds old ones without reading
// snapshots. Owned by state::database; not thread-safe.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/time.hpp"
#include "incident/engine.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

class incident_store {
public:
    explicit incident_store(detail::connection& c);

    // Replaces the snapshot with the same id.
    bool save(const incident::incident& inc);

    struct loaded {
        std::vector<incident::incident> incidents;  // by id
        std::size_t unreadable = 0;                 // snapshots this build cannot read (skipped)
    };
    // Open incidents, and resolved ones resolved at or after `resolved_since`.
    loaded live(core::timestamp resolved_since);

    struct forgotten {
        std::size_t incidents = 0;
        std::size_t actions = 0;
    };
    // The retention sweep: incidents resolved before `resolved_before` leave the database with
    // their finished (sent or dead) actions; their history is in the snapshot and goes with it.
    // A pending action keeps its incident until it is delivered or given up. One transaction;
    // must not be called inside database::begin().
    forgotten forget_resolved_before(core::timestamp resolved_before);

    std::size_t count();
    // Cluster mode (issue 15): deletes the snapshots of a partition's incidents (id % base ==
    // partition), which live in JetStream with the partition's owner.
    bool forget_partition(std::uint64_t base, int partition);

private:
    detail::connection& c_;
    detail::statement save_, live_, count_;
};

}  // namespace crisisd::state
