#pragma once
// The incident counter: the next incident id, kept with the actions so that a restart never
// hands out a number an action already carries (idempotency keys are built from it). Stored as
// the meta row "next_incident_id" (schema version 1's layout). Owned by state::database; not
// thread-safe.
#include <cstdint>

#include "state/detail/meta.hpp"

namespace crisisd::state {

class counters {
public:
    counters(detail::connection& c, detail::meta_table& meta);

    struct next_incident {
        std::uint64_t id = 1;
        bool counter_missing = false;     // no saved counter, yet incidents or actions exist
        bool counter_unreadable = false;  // a saved counter this build cannot read
    };
    // The first incident id to hand out: above the saved counter and above every id an action
    // or incident snapshot carries, so a lost meta row cannot hand out a used number again.
    next_incident next_incident_id();
    bool save_next_incident_id(std::uint64_t id);
    // The highest incident id any action or incident snapshot carries (0 when none).
    std::uint64_t highest_incident_id();

private:
    detail::meta_table& meta_;
    detail::statement highest_;
};

}  // namespace crisisd::state
