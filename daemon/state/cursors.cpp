#include "state/cursors.hpp"

#include <charconv>
#include <string>

namespace crisisd::state {
namespace {
std::string key(std::string_view source) { return "jetstream_cursor:" + std::string(source); }
}  // namespace

cursor_store::saved cursor_store::load(std::string_view source) {
    saved out;
    auto v = meta_.get(key(source));
    if (!v) return out;
    out.found = true;
    std::int64_t p = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), p);
    if (ec == std::errc{} && end == v->data() + v->size()) out.position = p;
    return out;
}

bool cursor_store::save(std::string_view source, std::int64_t position) {
    return meta_.set(key(source), std::to_string(position));
}

}  // namespace crisisd::state
