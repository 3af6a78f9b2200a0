#pragma once
// Statement caps across the cluster (issue 15): a channel's statements_per_hour holds for the
// whole cluster, not for each partition's owner apart.
//
// Design, and why:
// - One key-value entry per channel (bucket `crisisd_statement_caps` or the namespace's, nats_names, history 1, max age 2 h, so
//   a channel that posts nothing for two hours leaves no entry behind) holding the send times, in
//   unix seconds, of the statements posted in the last hour. A replica about to post reads the
//   entry, drops times older than an hour, and when fewer than the cap remain writes them back
//   with its own time added, by compare-and-set on the revision it read. A conflict is another
//   replica's reservation: it reads again (a few times; then it gives up and the statement waits).
// - A rolling hour rather than a counter per clock hour: the single-node cap counts the statements
//   of the last rolling hour (outbox/delivery.cpp), and a counter per clock hour would let twice the
//   cap through around each full hour. The cap is at most 1000 (the config's bound), so the entry
//   stays small.
// - A slot is taken before the post and kept whatever the post's outcome: over-counting a failed
//   post errs on the side of posting less, which is what the cap is for. Each slot carries a
//   digest of the statement's idempotency key, so a retried attempt (after a timeout, a restart,
//   or by the partition's next owner) finds its own slot instead of taking a second one: with a
//   cap of one, the retry of a statement whose first attempt failed must still go out.
// - Keys are "c.<channel>" with the channel name reduced to [A-Za-z0-9_-] (other bytes as '_'),
//   since a key token may not carry dots or spaces; two channels whose names differ only there
//   would share a cap (the config's names are the operator's own, and this only errs low).
//
// Thread-safety: reserve() blocks on NATS (call it off the event loop); it may run on several
// threads. The pure functions are thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster {

namespace detail {
class kv_bucket;
}

// One statement's slot: when it was taken (unix seconds) and the digest of its idempotency key.
struct cap_slot {
    std::int64_t at = 0;
    std::string statement;   // slot_id(): 16 hex digits
    bool operator==(const cap_slot&) const = default;
};

// The slots kept in an entry's value ("t1:id1 t2:id2 …"); unreadable parts are skipped.
std::vector<cap_slot> parse_send_times(std::string_view value);
std::string send_times_value(const std::vector<cap_slot>& slots);
// The slot id of a statement's idempotency key (FNV-1a, hex): fixed size whatever the key holds.
std::string slot_id(std::string_view idempotency_key);
// Drops slots taken an hour or more before `now`; then true when `statement` holds a slot
// already, or when fewer than `cap` remain (adding its slot); false leaves `slots` pruned only.
bool take_slot(std::vector<cap_slot>& slots, std::int64_t now, int cap, const std::string& statement);
// The bucket key of a channel's cap.
std::string cap_key(std::string_view channel);

enum class cap_outcome { reserved, over_cap, unavailable };

class statement_caps {
public:
    static std::unique_ptr<statement_caps> open(nats_connection& conn, const std::string& bucket, int replicas,
                                                std::string& error);
    ~statement_caps();
    statement_caps(const statement_caps&) = delete;
    statement_caps& operator=(const statement_caps&) = delete;

    // Takes one of `channel`'s `cap` slots of the rolling hour ending at `now` (unix seconds) for
    // the statement with `idempotency_key`, or finds the one it took before. Blocking: up to a few
    // request timeouts.
    cap_outcome reserve(std::string_view channel, int cap, std::int64_t now, std::string_view idempotency_key,
                        std::string& error);

private:
    explicit statement_caps(std::unique_ptr<detail::kv_bucket> b);
    std::unique_ptr<detail::kv_bucket> bucket_;
};

}  // namespace crisisd::cluster
