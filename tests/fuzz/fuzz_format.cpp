// Fuzz target for a wire format that needs no settings but its name (jetstream, mastodon, x),
// given at build time as CRISISD_FUZZ_FORMAT: any bytes must give a result, never a crash, and
// a mention or a deletion must carry what the pipeline relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/frame_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto parser = [] {
        crisisd::parse::parser_settings s;
        s.format = CRISISD_FUZZ_FORMAT;
        s.max_bytes = 1 << 16;
        return crisisd::parse::make_parser(s);
    }();
    static crisisd::core::mention m;
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    auto r = parser->parse(frame, m);
    if (r.kind == crisisd::parse::frame_kind::mention && m.id.empty()) std::abort();
    if (r.kind == crisisd::parse::frame_kind::deleted && m.id.empty()) std::abort();
    return 0;
}
