#include "state/handover.hpp"

#include "core/log.hpp"
#include "incident/codec.hpp"
#include "state/database.hpp"
#include "state/incidents.hpp"

namespace crisisd::state {

namespace {
constexpr const char* replica_key = "cluster_replica";
}

handover_store::handover_store(detail::connection& c, detail::meta_table& meta, incident_store& incidents)
    : c_(c), meta_(meta), incidents_(incidents),
      pending_(c.db, "SELECT COUNT(*) FROM actions WHERE state = 'pending'"),
      kill_pending_(c.db, "UPDATE actions SET state = 'dead', done_us = ?1, last_error = ?2 WHERE state = 'pending'"),
      open_(c.db, "SELECT id FROM incidents WHERE resolved_us IS NULL ORDER BY id") {}

std::optional<std::string> handover_store::cluster_replica() { return meta_.get(replica_key); }

bool handover_store::mark_cluster_replica(std::string_view name) { return meta_.set(replica_key, name); }
bool handover_store::clear_cluster_replica() { return meta_.erase(replica_key); }

std::string handover_store::single_node_state::describe() const {
    std::string out;
    if (!open_incidents.empty()) {
        out = std::to_string(open_incidents.size()) + " open incident(s) (";
        for (std::size_t i = 0; i < open_incidents.size() && i < 10; ++i)
            out += (i ? ", #" : "#") + std::to_string(open_incidents[i]);
        if (open_incidents.size() > 10) out += ", …";
        out += ")";
    }
    if (undelivered > 0) {
        if (!out.empty()) out += " and ";
        out += std::to_string(undelivered) + " undelivered action(s)";
    }
    return out.empty() ? "nothing open or undelivered" : out;
}

handover_store::single_node_state handover_store::single_node() {
    single_node_state s;
    while (open_.step() == SQLITE_ROW) s.open_incidents.push_back(static_cast<std::uint64_t>(open_.integer(0)));
    open_.reset();
    if (pending_.step() == SQLITE_ROW) s.undelivered = static_cast<std::size_t>(pending_.integer(0));
    pending_.reset();
    return s;
}

bool handover_store::discard(core::timestamp now, std::string_view who, std::string_view why) {
    kill_pending_.bind(1, detail::micros(now)).bind(2, why);
    bool ok = c_.run(kill_pending_);
    // Open incidents only: resolved ones at or after `now` are none, so live() returns exactly those.
    auto open = incidents_.live(now + std::chrono::hours(24 * 365 * 100));
    for (auto& inc : open.incidents) {
        if (inc.state == incident::incident_state::resolved) continue;
        inc.state = incident::incident_state::resolved;
        inc.resolved_at = now;
        for (auto& step : inc.steps)
            if (step.state == incident::step_state::scheduled || step.state == incident::step_state::awaiting_approval)
                step.state = incident::step_state::skipped;
        inc.history.push_back({now, std::string(who), "resolved: " + std::string(why)});
        ok = incidents_.save(inc) && ok;
    }
    return ok;
}

handover_result take_over(database& db, std::string_view replica, bool discard, core::timestamp now) {
    handover_result r;
    auto& h = db.handover();
    const auto marked = h.cluster_replica();
    if (replica.empty()) {
        if (marked && !h.clear_cluster_replica()) {
            r.failed = true;
            r.message = "state database " + db.path() + ": cannot clear its cluster mark (" + db.last_error() + ")";
        }
        return r;
    }
    if (marked) return r;
    const auto left = h.single_node();
    if (!left.empty()) {
        if (!discard) {
            r.refused = true;
            r.message = "state database " + db.path() + " holds " + left.describe() +
                        " of a single node, which cluster mode would lose (a replica keeps incidents and the outbox in "
                        "JetStream). Run it without the cluster: section until they are delivered and resolved "
                        "(crisisd ctl list; crisisd ctl resolve ID), then start the replica again; or start the "
                        "replica once with `crisisd run --discard-local-state` to give them up (the actions become "
                        "dead letters, the incidents are resolved); or give the replica a new storage.path";
            return r;
        }
        const std::string why = "discarded when the database joined a cluster (--discard-local-state)";
        db.begin();
        h.discard(now, "crisisd", why);
        if (!db.commit()) {
            r.failed = true;
            r.message = "state database " + db.path() + ": cannot discard its single-node state (" + db.last_error() + ")";
            return r;
        }
        core::log_warning("state database " + db.path() + ": gave up " + left.describe() +
                          " of a single node (--discard-local-state): the actions are dead letters, the incidents resolved");
    }
    if (!h.mark_cluster_replica(replica)) {
        r.failed = true;
        r.message = "state database " + db.path() + ": cannot mark it as a cluster replica's (" + db.last_error() + ")";
    }
    return r;
}

}  // namespace crisisd::state
