#pragma once
// What a replica reports of its place in the cluster (issue 15), as /metrics shows it
// (crisisd_cluster_*): its leases as the lease thread last saw them and its partitioned intake.
// A plain value, read by admin/metrics and filled by runtime/cluster_node.
#include <cstdint>
#include <vector>

namespace crisisd::cluster {

struct replica_figures {
    int owned = 0;
    int partitions = 0;
    std::vector<int> owned_partitions;
    int members = 0;
    double lease_remaining_seconds = 0;
    bool connected = false;
    long renew_failures = 0;  // running totals
    long acquisitions = 0;
    long losses = 0;
    // The partitioned intake (all 0 in the lease diagnostic).
    long publish_queue = 0;  // matched mentions waiting to be published
    long published = 0;      // running totals
    long publish_failures = 0;
    long publish_dropped = 0;
    long duplicates = 0;                    // mentions an owner dropped as processed before (running total)
    std::vector<std::uint64_t> stream_lag;  // per partition: messages stored behind what its owner here fetched
    long takeovers = 0;                     // partitions taken up with the state an earlier owner left (running total)
    // Partition state against the servers' max_payload (runtime/cluster_node.hpp).
    double max_payload_bytes = 0;
    double state_largest_bytes = 0;   // the largest state value last made for an owned partition
    int state_too_large = 0;          // owned partitions whose state the servers refuse (they send nothing)
    long state_compacted_writes = 0;  // running total
};

}  // namespace crisisd::cluster
