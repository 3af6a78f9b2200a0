#pragma once
// A pull source's resume point as its holders share it in cluster mode (issue 15): what the next
// holder needs so that a source which moved neither reads again what was processed nor skips
// what came while it moved. Stored by cluster/source_cursors.hpp, one entry per source.
//
// - A Jetstream websocket: the last processed time_us (the SQLite `cursors` row of one node).
// - A feed: whether it was ever polled (else its first poll is history), the ids of its latest
//   documents (what feed_items remembers on one node) and the last document's validators, so the
//   next holder's first request can be answered 304.
// - Other pull sources (X's stream, plain websockets) have no cursor; their entry only names the
//   holder, which fences a stale holder out as for the others. X's stream, moved, asks for
//   backfill_minutes on its first connection (duplicates are dropped by post id).
//
// A holder writes it only once the mentions it names are published to the mention stream (the
// front's queue has passed them): a holder killed in between leaves the older entry, and its
// successor reads those mentions again, which the stream drops as duplicates (Nats-Msg-Id).
//
// Thread-safety: a value; pure functions. cursor_hooks says where each hook runs.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::sources {

struct source_cursor {
    std::string holder;                 // the replica that wrote it (cluster.name), for logs
    std::int64_t position = 0;          // Jetstream: µs since the epoch; 0 none
    bool polled = false;                // feed: a poll was completed by some holder
    std::string etag, last_modified;    // feed: the last accepted document's validators
    std::vector<std::string> items;     // feed: remembered item ids, oldest first

    bool operator==(const source_cursor&) const = default;
};

// How the shared resume points reach the sources and the front (source_leases.hpp uses them,
// source_set::shared_cursors makes them). Each may be empty.
struct cursor_hooks {
    // Runtime thread: the source's resume point now, if it names only mentions already handed to
    // the front (nullopt: nothing to share yet, or not at this moment).
    std::function<std::optional<source_cursor>(const std::string& source)> collect;
    // Runtime thread, before the source starts here: where its last holder stopped.
    std::function<void(const std::string& source, const source_cursor& c)> import;
    // Stream messages the front has taken so far (runtime thread), and how many of the first of
    // them it has published (any thread). Empty: nothing is published (the lease diagnostic).
    std::function<std::uint64_t()> routed, settled;
    // Runtime thread: a resume point was written (crisisd_cluster_source_cursor_writes_total).
    std::function<void(const std::string& source)> written;
};

// Ids kept in one entry: far more than a feed lists at once, and small enough (with ids of a
// few hundred bytes at most) to stay well inside the servers' max_payload.
inline constexpr std::size_t shared_item_limit = 1000;

std::string encode_source_cursor(const source_cursor& c);
// nullopt when `json` is not a cursor this build reads (a holder then starts from its own records).
std::optional<source_cursor> decode_source_cursor(std::string_view json);

}  // namespace crisisd::sources
