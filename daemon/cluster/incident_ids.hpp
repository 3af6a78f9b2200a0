#pragma once
// Incident ids in cluster mode. A replica's own counter cannot name incidents across replicas:
// two owners would both call their first incident 1, and a command for incident N could not tell
// which replica to reach. So a cluster incident id carries its partition in its last four decimal
// digits: id = sequence * 10000 + partition, the sequence counting per partition (kept with the
// partition's state, so a new owner goes on where the old one stopped). Decimal rather than bits
// so people reading "incident 120007" in a page or the console can still see partition 7's 12th.
// 10000 covers the largest partition count settings::validate allows (4096).
//
// Thread-safety: pure functions.
#include <cstdint>

namespace crisisd::cluster {

inline constexpr std::uint64_t incident_id_partition_base = 10000;

constexpr std::uint64_t incident_id(std::uint64_t sequence, int partition) {
    return sequence * incident_id_partition_base + static_cast<std::uint64_t>(partition);
}

constexpr int partition_of_incident(std::uint64_t id) {
    return static_cast<int>(id % incident_id_partition_base);
}

constexpr std::uint64_t sequence_of_incident(std::uint64_t id) {
    return id / incident_id_partition_base;
}

}  // namespace crisisd::cluster
