#pragma once
// Fencing: when an owner may still act on a partition. Pure arithmetic on the monotonic clock,
// time passed in, so it is unit-tested without NATS.
//
// Why the owner's deadline is safe: a lease is a key-value entry whose message the bucket drops
// `ttl` after the server stored it (the stream's max age). The server stores a renewal after we
// sent it, so the entry lives at least until send_time + ttl by the server's clock. The owner stops
// at send_time + ttl - margin by its own monotonic clock: the margin absorbs servers' clocks
// running fast against ours and the moments between a check and the act it guards. No other
// replica can create the entry before it is gone, so two owners never act at once as long as the
// clocks' disagreement over one ttl stays below the margin.
//
// Why an epoch: renewals rewrite the entry, so its revision changes every interval. The revision at
// which a replica *acquired* the lease names one uninterrupted ownership; work planned under epoch
// E (an action claimed, an outbox row written) may only be carried out while the same ownership
// lasts. A lease lost and taken again, even by the same replica, is a new epoch, and the runtime
// re-reads the partition's state before acting under it.
#include <chrono>
#include <cstdint>

namespace crisisd::cluster {

using mono_clock = std::chrono::steady_clock;
using mono_time = mono_clock::time_point;

// The last instant at which an owner whose renewal was sent at `sent` may act.
constexpr mono_time owner_deadline(mono_time sent, std::chrono::milliseconds ttl, std::chrono::milliseconds margin) {
    return sent + ttl - margin;
}

// One partition's lease as its owner sees it.
struct held_lease {
    std::uint64_t epoch = 0;      // revision of the write that acquired it
    std::uint64_t revision = 0;   // revision of the last successful write (compare-and-set base)
    mono_time sent{};             // when that write was sent
    mono_time deadline{};         // owner_deadline(sent, ...)
};

// May the holder of `lease` act now, for work planned under `epoch` (0: any epoch)?
constexpr bool may_act(const held_lease& lease, mono_time now, std::uint64_t epoch = 0) {
    return now < lease.deadline && (epoch == 0 || epoch == lease.epoch);
}

}  // namespace crisisd::cluster
