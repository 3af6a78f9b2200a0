#pragma once
// Intake: frames from the sources → mentions → the pipeline. Per source it parses, drops what a
// reconnect or restart replays (the de-duplication window and the saved Jetstream cursor),
// applies the source's identity (its configured name, its authors believed only when vouched
// for) and its `max_rate` on the monotonic clock it is given, then steps the pipeline.
//
// Websocket and file sources put frames into a bounded queue of their own (frame_buffer); one
// drain, posted to the executor, feeds the single-threaded pipeline in batches and round-robin
// over the sources, so one busy stream cannot starve another and sockets and timers get a turn
// between batches. HTTP ingest (and replay) offer frames directly and get the reject reason back.
//
// Owns its lanes (a removed one is kept until intake goes: its transport may still call in); the
// database, clock, executor, events and the shared detection outlive it. Not thread-safe: the
// runtime's one thread calls everything.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/dedup_window.hpp"
#include "ingest/jetstream_resume.hpp"
#include "ingest/rate_limiter.hpp"
#include "parse/frame_parser.hpp"
#include "runtime/detection.hpp"
#include "runtime/driver.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

// The queue a source's frames wait in (ingest::frame_queue in run). The tag carries the
// arrival time (monotonic ticks).
class frame_buffer {
public:
    enum class push_result { queued, queued_dropped_oldest, full };
    virtual ~frame_buffer() = default;
    virtual push_result push(std::string_view frame, std::int64_t tag) = 0;
    virtual bool empty() const = 0;
    virtual std::string_view front() const = 0;
    virtual std::int64_t front_tag() const = 0;
    virtual void pop() = 0;
};

// One source's counters (the metrics' per-source meter in run). Called per frame.
class source_probe {
public:
    virtual ~source_probe() = default;
    virtual void received(clock::monotonic_time arrival) = 0;
    // `frames` frames arrived together (a socket read's batch): received() for each, unless the
    // probe counts them at once.
    virtual void received_batch(clock::monotonic_time arrival, std::size_t frames) {
        for (std::size_t i = 0; i < frames; ++i) received(arrival);
    }
    virtual void dropped() = 0;                        // lost to a full drop_oldest queue
    virtual void rejected(std::string_view reason) = 0;  // not a mention (bad frame, rate limit)
    virtual void skipped(std::string_view why) = 0;    // "ignored", "duplicate", "deleted"
};

class intake_events {
public:
    virtual ~intake_events() = default;
    // Mentions that went through the pipeline since the last call (batched per drain).
    virtual void mentions_processed(std::uint64_t n) = 0;
    // A mention left a step to handle; `arrival` is when its frame came in.
    virtual void stepped(clock::monotonic_time arrival) = 0;
    // Frames are about to be processed (an offered one, a drain batch): the live daemon holds the
    // step writer so what they step is committed together, right after (group commit).
    virtual void frames_arriving() {}
};

// Cluster mode (issue 15): where admitted mentions go instead of the pipeline; the partition's
// owner runs them through it (cluster_intake.hpp). Called on the runtime's thread.
class mention_router {
public:
    virtual ~mention_router() = default;
    virtual void route(const core::mention& m, clock::monotonic_time arrival) = 0;
    // False while route() would have to wait for room (a cluster front whose stream stores
    // mentions slower than they come): intake then leaves frames in their sources' queues, and
    // the sources stop reading, instead of holding the runtime's thread inside route().
    virtual bool has_room() const { return true; }
    // Calls `wake` once, from any thread, when has_room() may be true again (at once if it is
    // already). A later call replaces an earlier call's `wake` that has not run yet.
    virtual void notify_when_room(std::function<void()> wake) { wake(); }
};

struct lane_settings {
    std::string name;
    bool trusted = false;           // `trusted: true`: the authors its frames name are believed
    ingest::rate_limit max_rate;    // `max_rate`
};

// One source as intake sees it. The transport that feeds it is the caller's.
class lane {
public:
    const std::string& name() const { return name_; }
    // Jetstream only: the cursor, for the transport's reconnect URL.
    ingest::jetstream_resume* resume() { return resume_ ? &*resume_ : nullptr; }
    // Writes the cursor to the state database (on disconnect, removal and shutdown).
    void save_position();

private:
    friend class intake;
    lane(state::database& store, const lane_settings& s, std::unique_ptr<parse::frame_parser> p, frame_buffer* q,
         source_probe& probe);
    void advance(std::int64_t position);

    state::database& store_;
    std::string name_;
    std::unique_ptr<parse::frame_parser> parser_;
    frame_buffer* queue_;  // null: frames are offered directly
    source_probe& probe_;
    bool trusted_;
    ingest::rate_limiter limiter_;
    ingest::dedup_window dedup_{16384};
    std::optional<ingest::jetstream_resume> resume_;
    std::int64_t replayed_up_to_ = 0;  // positions at or below this were processed before a restart
    bool ready_ = false;               // listed in intake::ready_
};

class intake {
public:
    intake(state::database& store, detection& det, const clock& clock, executor& ex, intake_events& events);
    ~intake();

    // Adds a source. `queue` (may be null: frames offered directly) and `probe` outlive the lane;
    // `parser` may be null for a lane fed only through offer_parsed().
    lane& add(const lane_settings& s, std::unique_ptr<parse::frame_parser> parser, frame_buffer* queue,
              source_probe& probe);
    // Makes a lane resume a Jetstream subscription, restoring its saved cursor.
    void resume_jetstream(lane& l, ingest::jetstream_resume resume);
    // Takes a lane out of the drain, saving its cursor; it stays allocated until intake goes.
    void remove(lane& l);

    // A queued source's frame: into its queue, drained later. Ignored once stopping.
    void enqueue(lane& l, std::string_view frame);
    // Frames that arrived together (one socket read), in order: one arrival time and one
    // drain request for all of them.
    void enqueue(lane& l, std::span<const std::string_view> frames);
    // A frame processed now: "" when taken (a mention, or a valid frame that is not one), else
    // the reject reason.
    std::string_view offer(lane& l, std::string_view frame);
    // A frame the caller parsed already (replay reads a mention's time before it is processed):
    // the rest of offer(). `dedup_key` as the parser gave it.
    std::string_view offer_parsed(lane& l, core::mention& m, const parse::frame_result& r, std::string_view dedup_key);
    // Cluster mode: admitted mentions go to `router` (which outlives intake) instead of the
    // pipeline, and are counted by the replica that processes them.
    void set_router(mention_router* router) { router_ = router; }
    // False while the router has no room: queued frames wait, and a source that offers frames
    // directly (HTTP ingest) should wait too, through when_accepting(), rather than offer.
    bool accepting() const { return router_ == nullptr || router_->has_room(); }
    // Runs `fn` on the runtime's thread once accepting() may be true again (at once, posted, if
    // it is). Each waiter is called once.
    void when_accepting(std::function<void()> fn);
    // Processes queued frames, round-robin, at most `batch` of them (the posted drain's turn).
    void drain(std::size_t batch = drain_batch);

    // From now on frames are refused ("shutting_down"); queued ones are still drained.
    void stop() { stopping_ = true; }
    bool stopping() const { return stopping_; }
    // Nothing queued.
    bool idle() const { return ready_.empty(); }
    void save_positions();

    static constexpr std::size_t drain_batch = 1024;

private:
    // `now`: the clock's time for the pipeline, read once per drain turn (see drain()).
    std::string_view process(lane& l, std::string_view frame, clock::monotonic_time arrival, core::timestamp now);
    std::string_view admit(lane& l, core::mention& m, const parse::frame_result& r, std::string_view dedup_key,
                           clock::monotonic_time arrival, core::timestamp now);
    void process_front(lane& l, core::timestamp now);
    void post_drain();
    // Asks the router to wake intake when it has room again (once per wait).
    void wait_for_router();
    void report_processed();

    state::database& store_;
    detection& det_;
    const clock& clock_;
    executor& ex_;
    intake_events& events_;
    std::vector<std::unique_ptr<lane>> lanes_;
    std::vector<lane*> ready_;  // lanes with queued frames
    core::mention scratch_;
    std::uint64_t unreported_ = 0;
    mention_router* router_ = nullptr;
    bool waiting_for_router_ = false;                    // a wake is asked for; drains hold till then
    std::vector<std::function<void()>> router_waiters_;  // when_accepting()'s callers
    bool drain_posted_ = false;
    bool stopping_ = false;
};

}  // namespace crisisd::runtime
