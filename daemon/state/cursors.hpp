#pragma once
// Where each resumable source stopped reading (a Jetstream source's time_us cursor), so a
// restart resumes there instead of missing or re-reading the stream. Stored as meta rows
// "jetstream_cursor:<source>" = decimal position (schema version 1's layout).
// Owned by state::database; not thread-safe.
#include <cstdint>
#include <optional>
#include <string_view>

#include "state/detail/meta.hpp"

namespace crisisd::state {

class cursor_store {
public:
    explicit cursor_store(detail::meta_table& meta) : meta_(meta) {}

    struct saved {
        bool found = false;
        std::optional<std::int64_t> position;  // empty when found but unreadable
    };
    saved load(std::string_view source);
    bool save(std::string_view source, std::int64_t position);

private:
    detail::meta_table& meta_;
};

}  // namespace crisisd::state
