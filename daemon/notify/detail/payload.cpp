#include "notify/detail/payload.hpp"

#include <charconv>

namespace crisisd::notify::detail {

std::string describe_response(int status, std::string_view body) {
    std::string out = "HTTP " + std::to_string(status);
    if (!body.empty()) {
        out += ": ";
        out += body.substr(0, 200);
    }
    return out;
}

std::optional<core::duration> parse_retry_after(std::string_view v) {
    unsigned long seconds = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || v.empty()) return std::nullopt;
    return std::chrono::seconds(std::min<unsigned long>(seconds, 3600));
}

}  // namespace crisisd::notify::detail
