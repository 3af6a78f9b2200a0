#pragma once
// Parser for the `generic` wire format: one canonical mention per JSON object (DESIGN.md).
// Owns a reusable simdjson parser and padded buffer, so steady-state parsing allocates only
// when a mention's strings outgrow the capacity the target mention already has.
// Not thread-safe: one parser per pipeline thread.
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "core/mention.hpp"
#include "parse/reject.hpp"

namespace crisisd::parse {

class generic_parser {
public:
    explicit generic_parser(std::size_t max_bytes = 1 << 20);
    ~generic_parser();
    generic_parser(generic_parser&&) noexcept;
    generic_parser& operator=(generic_parser&&) noexcept;

    // Fills `out` (cleared first) from one JSON object. Returns nullopt on success, else why the
    // frame was rejected; `out` is unspecified then.
    std::optional<reject_reason> parse(std::string_view frame, core::mention& out);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::parse
