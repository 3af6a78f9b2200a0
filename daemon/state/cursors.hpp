#pragma once
// Where each resumable source stopped reading (a Jetstream source's time_us cursor), so a
// restart resumes there instead of missing or re-reading the stream. Stored in the `cursors`
// table (schema version 4), one row per source; versions 1 to 3 kept them as meta rows
// "jetstream_cursor:<source>" = decimal position, which migration 4 moves.
// Owned by state::database; not thread-safe.
#include <cstdint>
#include <optional>
#include <string_view>

#include "state/detail/sqlite.hpp"

namespace crisisd::state {

class cursor_store {
public:
    explicit cursor_store(detail::connection& c);

    struct saved {
        bool found = false;
        // Empty when found but unreadable: a meta row that was not a number comes through
        // migration 4 as a cursor without a position (NULL).
        std::optional<std::int64_t> position;
    };
    saved load(std::string_view source);
    bool save(std::string_view source, std::int64_t position);

private:
    detail::connection& c_;
    detail::statement load_, save_;
};

}  // namespace crisisd::state
