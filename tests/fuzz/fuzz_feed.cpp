// Fuzz target for feed documents (RSS 2.0, Atom): any bytes must give a document or a refusal,
// never a crash or an entity expansion, and every item must fit the limits it was read under.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parse/feed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    crisisd::parse::feed_limits limits;
    limits.max_bytes = 1 << 20;
    limits.max_items = 64;
    limits.max_field_bytes = 4096;
    auto doc = crisisd::parse::read_feed(std::string_view(reinterpret_cast<const char*>(data), size), limits);
    if (doc.error != crisisd::parse::feed_error::none && !doc.items.empty()) std::abort();
    if (doc.items.size() > limits.max_items) std::abort();
    for (const auto& item : doc.items)
        for (const auto* s : {&item.id, &item.title, &item.body, &item.link, &item.author})
            if (s->size() > limits.max_field_bytes) std::abort();
    return 0;
}
