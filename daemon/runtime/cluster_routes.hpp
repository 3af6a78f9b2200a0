#pragma once
// The admin API's view of the cluster (cluster/routes.hpp), answered by this replica: the peers
// from the member directory, an incident's owner from its id's partition
// (cluster/incident_ids.hpp) and the leases this replica holds, the console feed sent through
// the directory's connection.
//
// Thread-safety: the daemon's event loop only, like the interface.
#include "cluster/routes.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/cluster_peers.hpp"

namespace crisisd::runtime {

class cluster_routes final : public cluster::routes {
public:
    cluster_routes(cluster_peers& peers, cluster_node& node) : peers_(peers), node_(node) {}

    std::string self_name() override { return peers_.name(); }
    std::vector<cluster::peer> peers() override;
    cluster::incident_route route(std::uint64_t id) override;
    void publish_feed(std::string message) override { peers_.publish_feed(message); }

private:
    cluster_peers& peers_;
    cluster_node& node_;
};

}  // namespace crisisd::runtime
