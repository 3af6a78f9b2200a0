#pragma once
// The console's live feed across replicas (issue 15): what a replica tells its peers of its own
// incidents, and what it keeps and relays of theirs, so that a console opened on any replica
// shows every replica's incidents live (admin/feed.hpp sends them).
//
// Why a NATS subject and not the peers' event streams: each replica publishes what its own feed
// flushes once, on one subject (cluster/broadcast.hpp, through runtime/cluster_peers), and every
// replica relays what the others published. Nothing is sent over the admin API, so no stream
// per pair of replicas is held open, followed through membership changes or authenticated;
// the peer token stays what it is (it opens /api/v1/cluster/… and nothing else), and no
// person's request or token is involved. Delivery is at most once, which a live feed can
// afford: a replica publishes a full round of its live incidents every full_round_interval and
// whenever a peer says hello (at its start), which heals what a lost message left behind, and a
// console reads the list again whenever it reconnects.
//
// The messages (JSON, at most max_message_bytes each; a round's incidents go in several):
//   {"replica":R,"kind":"changes","incidents":[…],"removed":[ids]}  incidents as the feed
//        renders them, each with "replica":R; removed: ids R no longer holds (resolved and
//        forgotten, or its partition moved to another replica)
//   {"replica":R,"kind":"live","ids":[…]}   after a full round: every incident R holds unresolved
//   {"replica":R,"kind":"hello"}            a replica that just started asks for a full round
// Messages of one replica arrive in the order published, so a replica's mirror is never older
// than a message already relayed; across replicas there is no order, which is why a removal
// names its replica: while a partition moves, the new owner's copy may arrive before the old
// owner's removal, and the console keeps the copy (web/console/app.js).
//
// Thread-safety: none; the feed calls it from its flush (one thread at a time).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crisisd::admin {

// `incident` (a JSON object as the feed renders it) with "replica":`name` as its first member.
std::string with_replica(std::string_view incident, std::string_view name);

class cluster_feed {
public:
    static constexpr std::size_t max_message_bytes = 256 * 1024;   // well below NATS' 1 MiB default
    static constexpr std::size_t max_incidents_per_replica = 10000;

    explicit cluster_feed(std::string self);

    const std::string& self() const noexcept { return self_; }

    // This replica's messages. `incidents` are rendered with_replica(…, self()).
    std::vector<std::string> changes(const std::vector<std::string>& incidents, const std::vector<std::uint64_t>& removed) const;
    std::string live(const std::vector<std::uint64_t>& ids) const;
    std::string hello() const;

    // A message from the subject. Returns the body of a "changes" event to relay to consoles
    // ({"replica","incidents","removed"}, re-serialised from what was read), or nothing: the
    // message was this replica's own, malformed, or changed nothing a console shows (a full
    // round repeats unchanged incidents: they are not relayed again).
    // `full_round_asked` is set when a peer said hello.
    std::optional<std::string> take(std::string_view message, bool& full_round_asked);

    // Forgets every replica that `members` (the directory's live members, as seen at `now`) has
    // left out for absent_grace: one that left, or died and whose directory entry lapsed. The
    // grace covers a directory that has not seen a new replica yet while its messages arrive.
    // Returns the relay bodies of the forgotten incidents' removal.
    static constexpr std::chrono::seconds absent_grace{5};
    std::vector<std::string> keep_only(const std::vector<std::string>& members, std::chrono::steady_clock::time_point now);

    // Every peer's unresolved incidents, for the live list: one per id, none of `local_ids`
    // (this replica's own copy wins), and of two replicas holding one id (a partition moving)
    // the one `owner(id)` names, else either.
    std::vector<std::pair<std::uint64_t, std::string>> live_incidents(const std::vector<std::uint64_t>& local_ids,
                                            const std::function<std::optional<std::string>(std::uint64_t)>& owner) const;

    std::size_t held() const;   // incidents mirrored, over all peers

private:
    struct mirror {
        std::map<std::uint64_t, std::string> incidents;   // unresolved, by id, as relayed (with "replica")
        std::optional<std::chrono::steady_clock::time_point> absent_since;   // from the directory
    };
    std::string self_;
    std::map<std::string, mirror, std::less<>> peers_;
};

}  // namespace crisisd::admin
