#include "runtime/housekeeping.hpp"

#include "core/log.hpp"

namespace crisisd::runtime {

housekeeping::housekeeping(state::database& store, detection& det, step_writer& writer, step_handler& steps,
                           const clock& clock, tick_events& events, housekeeping_settings settings)
    : store_(store), det_(det), writer_(writer), steps_(steps), clock_(clock), events_(events),
      settings_(settings), detector_saved_at_(clock.monotonic()), swept_at_(clock.monotonic()) {}

void housekeeping::rebase(core::duration delta, core::timestamp before) {
    const auto shown = core::format_duration(std::chrono::round<std::chrono::seconds>(delta < core::duration::zero() ? -delta : delta));
    core::log_warning(std::string("the wall clock was set ") + (delta < core::duration::zero() ? "back" : "forward") + " by " +
                      shown + "; detection windows, veto waits, escalations, silences and retries moved with it, "
                      "each keeping the time it had left");
    det_.pipe->shift(delta);
    if (!store_.shift_times(delta, before))
        core::log_error("state database: moving retry and silence times failed (" + store_.last_error() +
                        "); pending retries run on the old times");
    steps_.touch_live_steps();
    events_.clock_stepped(delta);
}

bool housekeeping::tick() {
    const auto now = clock_.now();
    auto& pipe = *det_.pipe;
    writer_.retry(pipe.incidents());
    pipe.tick(now, det_.step);
    events_.ticked(now, pipe);
    const auto mono = clock_.monotonic();
    const auto& s = settings_;
    if (s.save_detector_every && mono - detector_saved_at_ >= *s.save_detector_every) save_detector();
    if (s.sweep_every && mono - swept_at_ >= *s.sweep_every) sweep();
    const bool changed = !det_.step.empty();
    steps_.handle();
    return changed;
}

std::chrono::nanoseconds housekeeping::next_wait(std::chrono::nanoseconds every) const {
    auto wait = every;
    if (auto next = det_.pipe->next_deadline()) {
        const auto now = clock_.now();
        const auto until = *next > now ? clock_.wall_delay(*next - now) : std::chrono::nanoseconds::zero();
        wait = std::min(wait, until);
    }
    return wait;
}

void housekeeping::save_detector() {
    detector_saved_at_ = clock_.monotonic();
    store_.begin();
    store_.detectors().save(*det_.pipe);
    store_.commit();
}

void housekeeping::sweep() {
    swept_at_ = clock_.monotonic();
    const auto gone = store_.sweep(clock_.now(), settings_.retention);
    if (gone.incidents > 0 || gone.actions > 0)
        core::log_info("state database: " + std::to_string(gone.incidents) + " incident(s) resolved over " +
                       core::format_duration(settings_.retention) + " ago left it, with " + std::to_string(gone.actions) +
                       " action(s)");
}

}  // namespace crisisd::runtime
