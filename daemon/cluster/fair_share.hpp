#pragma once
// Fair share of partitions between live replicas: which partitions this replica should try to
// take and which it should give up. Pure (no NATS, no time); partition_leases feeds it a snapshot
// of the lease bucket each round.
//
// Each replica works out the same targets from the same member list: with P partitions and N
// members sorted by name, the first P mod N members take ceil(P/N), the others floor(P/N). The
// targets add up to P exactly, so replicas with the same view never fight over a partition; with
// different views (a member just joined or just expired) they converge once the views agree.
// A member prefers the partitions of its "home range" (starting at rank * P / N, wrapping), so
// free partitions are tried in a different order by each replica (fewer lost create races) and
// steady state puts contiguous ranges on each member.
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::cluster {

// Partitions `me` should own; `members` need not be sorted and is assumed to contain `me`.
int fair_share(int partitions, const std::vector<std::string>& members, std::string_view me);

struct rebalance_plan {
    std::vector<int> acquire;   // free partitions to try, best first, at most the deficit
    std::vector<int> release;   // owned partitions to give up (surplus), least preferred first
};

// `owners[p]` is the name of partition p's owner, empty when p is free (absent or released).
// Partitions owned by others (live or not) are never planned: a dead member's leases expire and
// come back as free.
rebalance_plan plan_rebalance(const std::vector<std::string>& owners, const std::vector<std::string>& members,
                              std::string_view me);

}  // namespace crisisd::cluster
