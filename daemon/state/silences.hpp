#pragma once
// Silences set through the admin API, so a restart does not unmute a rule someone muted.
// Stored in the `silences` table (schema version 4), one row per rule and key; versions 1 to 3
// kept them as meta rows "silence/<rule>/<key>" = "<until µs> <who>", which migration 4 moves.
// Owned by state::database; not thread-safe.
#include <cstddef>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

struct silence {
    std::string rule, key, who;
    core::timestamp until{};
};

class silence_store {
public:
    explicit silence_store(detail::connection& c);

    // Replaces the silence of the same rule and key.
    bool save(const silence& s);
    // Silences still running at `now`, in rule/key order. (Rows that migration 4 could not read
    // stayed in meta, and it said so in the log.)
    std::vector<silence> running(core::timestamp now);
    // Drops silences that ended before `now` (the retention sweep).
    std::size_t forget_ended(core::timestamp now);
    // Moves every running silence's end by `delta` (the timeline stepped); false on a refused write.
    bool shift(core::duration delta, core::timestamp now);

private:
    detail::connection& c_;
    detail::statement save_, running_, forget_, shift_;
};

}  // namespace crisisd::state
