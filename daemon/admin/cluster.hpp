#pragma once
// What the admin API knows of the cluster (issue 15): who the peers are, which replica owns an
// incident's partition, and how peers' answers are merged into one view.
//
// How it fits (api.hpp has the endpoints):
// - A person's request reaches any replica with that person's own token and is authorised there,
//   by that replica's tokens file, exactly as on a single node.
// - That replica then talks to its peers with the cluster's peer token (cluster.peer_token), never
//   with the person's: a console token stays on the replica it was presented to. Peers accept the
//   peer token only on /api/v1/cluster/… and nothing else there: the owner's local incidents, one
//   incident, a command for an incident of a partition it owns, and a silence. The acting person's
//   name travels in the body and is written to the owner's history and audit as
//   "<name> (via <replica>)".
// - A forwarded command is applied only by the replica that holds the partition's lease at that
//   moment; one that does not answers 409 and forwards nothing further, so a command never loops.
//   Commands are idempotent where people retry them: a second ack or veto of the same step answers
//   "already done" and changes nothing, so a forward retried after a lost answer takes effect once.
//
// Thread-safety: cluster_access is called from the daemon's event loop only; the free functions
// are pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/routes.hpp"

namespace crisisd::admin {

// The types live below admin (cluster/routes.hpp) so that the runtime can answer them.
using peer = cluster::peer;
using incident_route = cluster::incident_route;
using cluster_access = cluster::routes;

// One peer's answer to a fanned-out request; status 0 when it did not answer.
struct peer_answer {
    std::string name;
    int status = 0;
    std::string body;
    std::string error;
};

// The whole cluster's incident list: this replica's `local` {"incidents":[…]} and each peer's,
// every incident marked with its replica ("replica"), newest opened first. `replicas` names who
// answered and with how many incidents; `unanswered` names every peer that did not, with why,
// so a missing replica is never mistaken for one without incidents. resolved_omitted is summed.
std::string merge_incident_lists(std::string_view self, std::string_view local, const std::vector<peer_answer>& peers);

// "<name> (via <replica>)": the acting name of a forwarded command, bounded like a token's name.
std::string forwarded_name(std::string_view who, std::string_view via);

}  // namespace crisisd::admin
