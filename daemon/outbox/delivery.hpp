#pragma once
// The delivery loop: takes due records from the outbox, hands each to its channel, and records
// the outcome — sent, retried later (exponential backoff with jitter, honouring Retry-After), or
// dead-lettered (refused for good, or failing for too long). One action per channel is in
// flight at a time, so actions reach each channel in the order they were written; channels do
// not wait for each other. Each channel's settings give its retry policy and its cap on public
// statements per rolling hour (over the cap a statement is dead-lettered with the reason). A
// statement whose payload says approval `required` but names no approver is never posted.
// Statements are marked started in the actions store before they are sent, so after a crash the next
// attempt is told (delivery::attempt > 1) that the first may have landed.
//
// Pages go out even while the state database refuses writes (disk full): the step writer hands
// each page it could not record to deliver_unrecorded(), which sends it from memory (in order on
// its channel, retried with the channel's policy while it stays unrecorded). A page is
// at-least-once (its idempotency key makes a second send harmless), so this trades a possible
// duplicate for not waiting on a disk. Statements never take this path: a statement is posted
// only once it is recorded. When the row is finally written, unrecorded_sent_at() tells the
// writer to record it as sent rather than send it again, and recorded() lets memory go of it.
// Runs on the daemon's event loop; not thread-safe.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "notify/channel.hpp"
#include "state/database.hpp"

namespace crisisd::outbox {

// The outbox's records are the state database's actions table (state/actions.hpp).
using record = state::record;
using record_state = state::record_state;
using retry_policy = notify::retry_settings;

// Observers for metrics and the timeline.
struct delivery_events {
    std::function<void(const record&, const notify::delivery_result&)> on_attempt;
    std::function<void(const record&)> on_sent;
    std::function<void(const record&, std::string_view why)> on_dead;
    // A statement refused without an attempt (dead-lettered with `why`): it claims approval
    // `required` but names no approver, or its approval record is unreadable.
    std::function<void(const record&, std::string_view why)> on_refused;
    // Cluster mode (issue 15): asked right before a record is handed to its channel (after a
    // statement's attempt is marked started); it answers through `done`, once, from any thread
    // (the loop resumes on its own executor). false holds the record, unsent, and asks again a
    // second later. Unset: every record may be sent.
    std::function<void(const record&, std::function<void(bool)> done)> fence;
    // Cluster mode (issue 15): asked after the fence, for a statement on a channel with a cap
    // (statements_per_hour, passed in), whether the cap of the whole cluster has room: send; hold
    // (unsent, asked again a second later: the shared count could not be read); or skip, which
    // dead-letters it as the local cap does. Answered like the fence. Unset: only the local cap counts.
    enum class cap_verdict { send, hold, skip };
    std::function<void(const record&, int cap, std::function<void(cap_verdict)> done)> shared_cap;
    // Cluster mode: the instance destinations see in keys (notify::platform_key) instead of the
    // state database's own, so whichever replica sends an action sends it under the same key and
    // the destination's idempotency check recognises a predecessor's attempt. Empty: the database's.
    std::string instance;
};

class delivery_loop {
public:
    delivery_loop(boost::asio::any_io_executor ex, state::database& s, std::map<std::string, notify::channel*> channels,
                  const core::clock& clock, delivery_events events);
    ~delivery_loop();

    void start();
    // New records were written: look again now instead of at the next scheduled attempt.
    void wake();
    void stop();
    // No delivery in flight and nothing due now.
    bool idle() const;
    std::size_t in_flight() const;
    // Statements refused for want of a recorded approval since start.
    std::uint64_t refused() const;

    // A page (kind notify) whose row the database refused: delivered from memory now (`rec`
    // has no seq). Statements are refused here: they are never sent before they are recorded.
    void deliver_unrecorded(record rec);
    // When the unrecorded page with this key was delivered from memory; nullopt when it was not
    // (yet): its row is then written pending and delivered as any other.
    std::optional<core::timestamp> unrecorded_sent_at(const std::string& key) const;
    // The page's row is written now: memory lets go of it. A delivery still in flight records
    // its outcome on the row when it ends (its channel is busy meanwhile, so the row waits).
    void recorded(const std::string& key);
    std::size_t unrecorded_pages() const;  // held in memory now

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::outbox
