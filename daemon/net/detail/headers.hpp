#pragma once
// Header lookup for the plain structs net/ hands out (client responses, server requests,
// websocket upgrades), which keep the headers as received: name/value pairs in arrival order.
#include <boost/beast/core/string.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crisisd::net::detail {

// The value of the first header called `name`, compared case-insensitively as HTTP field names
// are; "" when there is none.
inline std::string find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view name) {
    for (const auto& [key, value] : headers)
        if (boost::beast::iequals(key, name)) return value;
    return {};
}

}  // namespace crisisd::net::detail
