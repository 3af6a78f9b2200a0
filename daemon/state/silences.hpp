#pragma once
// Silences set through the admin API, so a restart does not unmute a rule someone muted.
// Stored as meta rows "silence/<rule>/<key>" = "<until µs> <who>" (schema version 1's layout).
// Owned by state::database; not thread-safe.
#include <cstddef>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "state/detail/meta.hpp"

namespace crisisd::state {

struct silence {
    std::string rule, key, who;
    core::timestamp until{};
};

class silence_store {
public:
    explicit silence_store(detail::meta_table& meta) : meta_(meta) {}

    // Replaces the silence of the same rule and key.
    bool save(const silence& s);
    // Silences still running at `now`, in rule/key order; rows this build cannot read are
    // counted in `unreadable` and skipped.
    std::vector<silence> running(core::timestamp now, std::size_t& unreadable);
    // Drops silences that ended before `now` (the retention sweep).
    std::size_t forget_ended(core::timestamp now);
    // Moves every running silence's end by `delta` (the timeline stepped); false on a refused write.
    bool shift(core::duration delta, core::timestamp now);

private:
    detail::meta_table& meta_;
};

}  // namespace crisisd::state
