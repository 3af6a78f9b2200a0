#pragma once
// Parser for the `generic` wire format: one canonical mention per JSON object (DESIGN.md).
// A flat object of strings, booleans and nulls is read by a hand-written pass; anything else
// goes through a reusable simdjson DOM parser and padded buffer, which is the reference for
// what a frame means. Steady-state parsing allocates only when a mention's strings outgrow the
// capacity the target mention already has.
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

    // parse() through simdjson's DOM alone: what parse() must give for every frame (the unit
    // tests and the fuzz target compare the two).
    std::optional<reject_reason> parse_reference(std::string_view frame, core::mention& out);
    // Whether parse() reads `frame` with its flat pass, without the DOM (for tests: a
    // comparison of the two readings means something only for frames the flat pass reads).
    static bool reads_flat(std::string_view frame);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::parse
