#include "cluster/fair_share.hpp"

#include <algorithm>

namespace crisisd::cluster {
namespace {

std::vector<std::string> sorted_members(const std::vector<std::string>& members, std::string_view me) {
    std::vector<std::string> m = members;
    if (std::find(m.begin(), m.end(), me) == m.end()) m.emplace_back(me);
    std::sort(m.begin(), m.end());
    m.erase(std::unique(m.begin(), m.end()), m.end());
    return m;
}

int rank_of(const std::vector<std::string>& sorted, std::string_view me) {
    return static_cast<int>(std::find(sorted.begin(), sorted.end(), me) - sorted.begin());
}

}  // namespace

int fair_share(int partitions, const std::vector<std::string>& members, std::string_view me) {
    auto m = sorted_members(members, me);
    int n = static_cast<int>(m.size());
    int rank = rank_of(m, me);
    return partitions / n + (rank < partitions % n ? 1 : 0);
}

rebalance_plan plan_rebalance(const std::vector<std::string>& owners, const std::vector<std::string>& members,
                              std::string_view me) {
    rebalance_plan plan;
    int partitions = static_cast<int>(owners.size());
    if (partitions == 0) return plan;
    auto m = sorted_members(members, me);
    int n = static_cast<int>(m.size());
    int target = fair_share(partitions, m, me);
    int home = static_cast<int>(static_cast<long long>(rank_of(m, me)) * partitions / n);

    std::vector<int> mine, free;
    for (int i = 0; i < partitions; ++i) {
        int p = (home + i) % partitions;
        if (owners[p] == me) mine.push_back(p);
        else if (owners[p].empty()) free.push_back(p);
    }
    int have = static_cast<int>(mine.size());
    if (have > target) plan.release.assign(mine.rbegin(), mine.rbegin() + (have - target));
    else if (have < target)
        plan.acquire.assign(free.begin(), free.begin() + std::min<int>(target - have, static_cast<int>(free.size())));
    return plan;
}

}  // namespace crisisd::cluster
