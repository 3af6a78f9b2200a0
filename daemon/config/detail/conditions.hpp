#pragma once
// The condition language of rules: "<metric> <op> <number>", e.g. "negative_ratio >= 0.6".
// Metric names are kept here (not taken from detect/) so config does not link the detector;
// the table lists every detect::metric. Private to config/; pure functions.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/settings.hpp"

namespace crisisd::config::detail {

std::optional<detect::metric> metric_by_name(std::string_view name);
const std::vector<std::string>& metric_names();

struct parsed_condition {
    std::optional<detect::condition> condition;  // set on success
    std::size_t error_offset = 0;                // byte offset of the problem in the text
    std::string error;
};

parsed_condition parse_condition(std::string_view text);

}  // namespace crisisd::config::detail
