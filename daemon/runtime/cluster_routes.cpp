#include "runtime/cluster_routes.hpp"

#include <algorithm>

#include "cluster/incident_ids.hpp"

namespace crisisd::runtime {

std::vector<cluster::peer> cluster_routes::peers() {
    std::vector<cluster::peer> out;
    for (const auto& m : peers_.members())
        if (m.name != peers_.name()) out.push_back({m.name, m.admin_url});
    return out;
}

cluster::incident_route cluster_routes::route(std::uint64_t id) {
    cluster::incident_route r;
    r.partition = cluster::partition_of_incident(id);
    const auto owned = node_.leases().owned_partitions;
    if (std::find(owned.begin(), owned.end(), r.partition) != owned.end()) return r;  // here
    r.where = cluster::incident_route::kind::nobody;
    const auto owner = peers_.owner(r.partition);
    if (!owner || *owner == peers_.name()) return r;  // free, or ours in the bucket but lapsed here
    if (auto m = peers_.find(*owner)) {
        r.where = cluster::incident_route::kind::peer;
        r.to = {m->name, m->admin_url};
    }
    return r;
}

}  // namespace crisisd::runtime
