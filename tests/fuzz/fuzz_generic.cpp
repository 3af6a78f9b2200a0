// Fuzz target for the generic wire format: any bytes must give a result, never a crash, and a
// mention must satisfy what the pipeline relies on. The canonical object's flat reader must
// agree with simdjson's DOM reading of the same bytes: the same rejection or the same mention.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/frame_parser.hpp"
#include "parse/generic.hpp"

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

bool same(const crisisd::core::mention& a, const crisisd::core::mention& b) {
    return a.id == b.id && a.text == b.text && a.network == b.network && a.author == b.author && a.lang == b.lang &&
           a.url == b.url && a.created_at == b.created_at && a.html == b.html;
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
    static crisisd::parse::generic_parser generic(1 << 16);
    static crisisd::core::mention fast, reference;
    const auto a = generic.parse(frame, fast);
    const auto b = generic.parse_reference(frame, reference);
    if (a != b || (!a && !same(fast, reference))) std::abort();
    return 0;
}
