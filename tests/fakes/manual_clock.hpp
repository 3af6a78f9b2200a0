#pragma once
// A clock tests move by hand: time stands still until advance() or set() is called.
#include "core/clock.hpp"

namespace crisisd::testing {

class manual_clock final : public core::clock {
public:
    explicit manual_clock(core::timestamp start = core::timestamp{}) : now_(start) {}
    core::timestamp now() const override { return now_; }
    void advance(core::duration d) { now_ += d; }
    void set(core::timestamp t) { now_ = t; }

private:
    core::timestamp now_;
};

}  // namespace crisisd::testing
