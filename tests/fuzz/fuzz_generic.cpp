// Fuzz target for the generic wire format: any bytes must give a result, never a crash, and a
// mention must satisfy what the pipeline relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/frame_parser.hpp"

namespace {
std::unique_ptr<crisisd::parse::frame_parser> make(bool mapped) {
    crisisd::parse::parser_settings s;
    s.format = "generic";
    s.max_bytes = 1 << 16;
    if (mapped) {
        s.field_map = {{"text", "/data/body"}, {"id", "/data/id"}, {"lang", "/meta/0"}};
        s.only_when = {{"/kind", "post"}};
    }
    return crisisd::parse::make_parser(s);
}
}  // namespace

// Both shapes of the generic format: the canonical object and a JSON-Pointer field map.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto canonical = make(false);
    static auto mapped = make(true);
    static crisisd::core::mention m;
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    for (auto* parser : {canonical.get(), mapped.get()}) {
        auto r = parser->parse(frame, m);
        if (r.kind == crisisd::parse::frame_kind::mention && (m.id.empty() || parser->dedup_key() != m.id)) std::abort();
    }
    return 0;
}
