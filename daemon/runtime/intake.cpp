#include "runtime/intake.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace crisisd::runtime {

lane::lane(state::database& store, const lane_settings& s, std::unique_ptr<parse::frame_parser> p, frame_buffer* q,
           source_probe& probe)
    : store_(store), name_(s.name), parser_(std::move(p)), queue_(q), probe_(probe), trusted_(s.trusted),
      limiter_(s.max_rate) {}

void lane::advance(std::int64_t position) {
    if (!resume_ || position <= 0) return;
    resume_->advance(position);
    if (resume_->should_persist()) save_position();
}

void lane::save_position() {
    if (!resume_ || resume_->position() <= 0) return;
    store_.cursors().save(name_, resume_->position());
    resume_->persisted();
}

intake::intake(state::database& store, detection& det, const clock& clock, executor& ex, intake_events& events)
    : store_(store), det_(det), clock_(clock), ex_(ex), events_(events) {}

intake::~intake() { save_positions(); }

void intake::save_positions() {
    for (auto& l : lanes_) l->save_position();
}

lane& intake::add(const lane_settings& s, std::unique_ptr<parse::frame_parser> parser, frame_buffer* queue,
                  source_probe& probe) {
    lanes_.push_back(std::unique_ptr<lane>(new lane(store_, s, std::move(parser), queue, probe)));
    return *lanes_.back();
}

void intake::resume_jetstream(lane& l, ingest::jetstream_resume resume) {
    l.resume_.emplace(std::move(resume));
    const auto saved = store_.cursors().load(l.name_);
    if (!saved.found) return;
    if (!saved.position) {
        core::log_warning("source " + l.name_ + ": ignoring unreadable saved cursor");
        return;
    }
    l.replayed_up_to_ = *saved.position;
    l.resume_->restore(l.replayed_up_to_);
    core::log_info("source " + l.name_ + ": resuming after time_us " + std::to_string(l.replayed_up_to_));
}

void intake::remove(lane& l) { l.save_position(); }

std::string_view intake::offer(lane& l, std::string_view frame) {
    if (stopping_) return "shutting_down";
    events_.frames_arriving();
    const auto arrival = clock_.monotonic();
    l.probe_.received(arrival);
    auto reason = process(l, frame, arrival, clock_.now());
    report_processed();
    return reason;
}

void intake::enqueue(lane& l, std::string_view frame) { enqueue(l, std::span<const std::string_view>(&frame, 1)); }

void intake::enqueue(lane& l, std::span<const std::string_view> frames) {
    if (stopping_ || frames.empty()) return;
    const auto arrival = clock_.monotonic();
    auto& q = *l.queue_;
    const auto tag = arrival.time_since_epoch().count();
    // Counted once for the batch: per frame, the metrics counter's atomic update was ~2% of
    // crisisd's CPU time on the mixed benchmark stream (perf, cpu-clock samples).
    l.probe_.received_batch(arrival, frames.size());
    for (const auto frame : frames) {
        auto pushed = q.push(frame, tag);
        if (pushed == frame_buffer::push_result::full) {
            // Only a source without flow control gets here; "block" still loses nothing: the
            // oldest frame goes through the pipeline now to make room.
            process_front(l, clock_.now());
            pushed = q.push(frame, tag);
        }
        if (pushed == frame_buffer::push_result::queued_dropped_oldest) l.probe_.dropped();
    }
    if (!l.ready_) {
        l.ready_ = true;
        ready_.push_back(&l);
    }
    post_drain();
}

void intake::post_drain() {
    if (drain_posted_ || waiting_for_router_) return;
    drain_posted_ = true;
    ex_.post([this] {
        drain_posted_ = false;
        drain();
    });
}

void intake::process_front(lane& l, core::timestamp now) {
    auto& q = *l.queue_;
    process(l, q.front(), clock::monotonic_time(clock::monotonic_time::duration(q.front_tag())), now);
    q.pop();
}

void intake::drain(std::size_t batch) {
    if (!ready_.empty()) events_.frames_arriving();
    // One reading of the time for the whole turn: every frame in it arrived before the turn
    // began, and a turn (at most drain_batch mentions, ~2 ms) is short beside the once-a-second
    // tick that the detector's windows and the incident deadlines move by. Read per mention it was ~1.3% of crisisd's CPU on the
    // mixed benchmark stream (perf, cpu-clock: clock_gettime through the vDSO).
    const core::timestamp now = clock_.now();
    std::size_t budget = batch;
    while (budget > 0 && !ready_.empty()) {
        // An even share per source and pass, so a deep queue waits its turn behind shallow ones.
        const std::size_t share = std::max<std::size_t>(budget / ready_.size(), 1);
        for (std::size_t i = 0; i < ready_.size() && budget > 0;) {
            auto& l = *ready_[i];
            for (std::size_t n = 0; n < share && budget > 0 && !l.queue_->empty(); ++n, --budget) {
                if (!accepting()) {
                    // The cluster's stream is behind: the frames stay queued (a full queue stops
                    // its source reading) and the thread goes back to the loop, which goes on
                    // serving the admin API, ticks and deliveries until the router has room.
                    report_processed();
                    wait_for_router();
                    return;
                }
                process_front(l, now);
            }
            if (l.queue_->empty()) {
                l.ready_ = false;
                ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
                ++i;
            }
        }
    }
    report_processed();
    if (!ready_.empty()) post_drain();
}

void intake::wait_for_router() {
    if (waiting_for_router_) return;
    waiting_for_router_ = true;
    // From the router's thread: back to the runtime's thread before anything is touched.
    router_->notify_when_room([this] {
        ex_.post([this] {
            waiting_for_router_ = false;
            auto waiters = std::move(router_waiters_);
            router_waiters_.clear();
            for (auto& fn : waiters) fn();
            if (!ready_.empty()) post_drain();
        });
    });
}

void intake::when_accepting(std::function<void()> fn) {
    if (accepting()) {
        ex_.post(std::move(fn));
        return;
    }
    router_waiters_.push_back(std::move(fn));
    wait_for_router();
}

void intake::report_processed() {
    if (unreported_ == 0) return;
    events_.mentions_processed(unreported_);
    unreported_ = 0;
}

std::string_view intake::process(lane& l, std::string_view frame, clock::monotonic_time arrival, core::timestamp now) {
    auto& m = scratch_;
    auto r = l.parser_->parse(frame, m);
    if (r.kind == parse::frame_kind::rejected) {
        l.probe_.rejected(parse::to_string(r.reason));
        return parse::to_string(r.reason);
    }
    return admit(l, m, r, l.parser_->dedup_key(), arrival, now);
}

std::string_view intake::offer_parsed(lane& l, core::mention& m, const parse::frame_result& r,
                                      std::string_view dedup_key) {
    if (stopping_) return "shutting_down";
    const auto arrival = clock_.monotonic();
    l.probe_.received(arrival);
    auto reason = admit(l, m, r, dedup_key, arrival, clock_.now());
    report_processed();
    return reason;
}

std::string_view intake::admit(lane& l, core::mention& m, const parse::frame_result& r, std::string_view dedup_key,
                               clock::monotonic_time arrival, core::timestamp now) {
    // A restart resumes a few seconds before the saved position; what it replays up to that
    // position was processed by the previous run.
    const bool replayed = r.position > 0 && r.position <= l.replayed_up_to_;
    if (r.kind == parse::frame_kind::ignored || replayed || !l.dedup_.first_time(dedup_key)) {
        l.probe_.skipped(r.kind == parse::frame_kind::ignored ? "ignored" : "duplicate");
        l.advance(r.position);
        return {};
    }
    if (r.kind == parse::frame_kind::deleted) {
        l.probe_.skipped("deleted");
        l.advance(r.position);
        return {};
    }
    // Identity comes from the source: its configured name, and its authors believed only
    // when the platform vouches for them or the source is trusted.
    m.source = l.name_;
    m.author_vouched = m.author_vouched || l.trusted_;
    if (!l.limiter_.admit(arrival)) {
        l.probe_.rejected(ingest::rate_limiter::reason);
        l.advance(r.position);
        return ingest::rate_limiter::reason;
    }
    if (router_) {
        router_->route(m, arrival);
        l.advance(r.position);
        return {};
    }
    det_.pipe->process(m, now, det_.step);
    ++unreported_;
    l.advance(r.position);
    if (!det_.step.empty()) events_.stepped(arrival);
    return {};
}

}  // namespace crisisd::runtime
