// Fuzz target for Meta webhook payloads (after the signature check): any bytes must give
// frames or a refusal, never a crash, and every frame must be a mention to the item parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/facebook.hpp"
#include "parse/frame_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto items = crisisd::parse::make_parser({"item", 1 << 20, {}, {}});
    static crisisd::core::mention m;
    auto changes = crisisd::parse::read_facebook_webhook(std::string_view(reinterpret_cast<const char*>(data), size),
                                                         1 << 20);
    if (changes.error && !changes.frames.empty()) std::abort();
    for (const auto& frame : changes.frames) {
        auto r = items->parse(frame, m);
        if (r.kind != crisisd::parse::frame_kind::mention || m.id.empty()) std::abort();
    }
    return 0;
}
