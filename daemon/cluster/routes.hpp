#pragma once
// Where the admin API sends what concerns one incident in cluster mode (issue 15): the peers, and
// which replica owns an incident's partition. An interface here, below both of its sides: the
// admin API asks it (admin/cluster.hpp says how requests travel), the runtime answers it from the
// member directory and the leases (runtime/cluster_routes.hpp).
//
// Thread-safety: called from the daemon's event loop only.
#include <cstdint>
#include <string>
#include <vector>

namespace crisisd::cluster {

struct peer {
    std::string name;
    std::string url;   // its admin API's base URL ("http://10.0.0.2:9464"), without the trailing '/'
};

// Where a command or read for one incident goes.
struct incident_route {
    enum class kind { here, peer, nobody };
    kind where = kind::here;
    peer to;            // for peer
    int partition = 0;  // the incident's partition (cluster::partition_of_incident)
};

class routes {
public:
    virtual ~routes() = default;
    virtual std::string self_name() = 0;
    // The live members other than this replica, as the directory saw them in its last round.
    virtual std::vector<peer> peers() = 0;
    // The owner of incident `id`'s partition: this replica, a peer, or nobody (free, or unknown yet).
    virtual incident_route route(std::uint64_t id) = 0;
    // Sends one message of the console feed to every peer (admin/cluster_feed.hpp), at most once
    // and without waiting. The default sends nothing.
    virtual void publish_feed(std::string) {}
};

}  // namespace crisisd::cluster
