#pragma once
// What drives the runtime: a clock and an executor, given to it, so the same code runs live (the
// system or the demo's scaled clock, an Asio io_context), in replay (a simulated clock that
// follows the recording's event time, work run inline) and in tests (a manual clock).
// Implementations say their own thread-safety; the runtime calls them from its one thread.
#include <chrono>
#include <functional>
#include <optional>

#include "core/clock.hpp"

namespace crisisd::runtime {

// now() (core::clock) is event time: what incidents, windows and deadlines are measured in.
// monotonic() is for what must not jump with the wall clock: rate limits, latencies, how often
// detector state is saved. A simulated clock moves both together.
class clock : public core::clock {
public:
    using monotonic_time = std::chrono::steady_clock::time_point;
    virtual monotonic_time monotonic() const = 0;
};

// Runs work later on the runtime's thread, after what is already queued there.
class executor {
public:
    virtual ~executor() = default;
    virtual void post(std::function<void()> fn) = 0;
};

// core::clock's time, with the steady clock beside it: run and demo.
class live_clock final : public clock {
public:
    explicit live_clock(core::clock& time) : time_(time) {}
    core::timestamp now() const override { return time_.now(); }
    std::chrono::nanoseconds wall_delay(core::duration d) const override { return time_.wall_delay(d); }
    std::optional<core::duration> take_step() override { return time_.take_step(); }
    monotonic_time monotonic() const override { return std::chrono::steady_clock::now(); }

private:
    core::clock& time_;
};

// Time that moves only when told (replay and tests); the monotonic clock moves with it.
class simulated_clock final : public clock {
public:
    explicit simulated_clock(core::timestamp start = {}) : now_(start), origin_(start) {}
    core::timestamp now() const override { return now_; }
    monotonic_time monotonic() const override {
        return monotonic_time(std::chrono::duration_cast<monotonic_time::duration>(now_ - origin_));
    }
    void set(core::timestamp t) { now_ = t; }
    void advance(core::duration d) { now_ += d; }

private:
    core::timestamp now_;
    core::timestamp origin_;
};

// Runs posted work at once, on the caller's stack (replay has nothing else to interleave).
class inline_executor final : public executor {
public:
    void post(std::function<void()> fn) override { fn(); }
};

}  // namespace crisisd::runtime
