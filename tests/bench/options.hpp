#pragma once
// Command-line options of the load tools that run the real binary (soak, storm): every option is
// "--name value". A tool lists its options once, each with what to do with its value, and
// parse_options walks the arguments; an unknown option, a missing value or one the option refuses
// makes it return false, and the tool prints its usage. Used from main only (no shared state).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace crisisd::bench {

// A duration as the configuration writes one ("10m", "250ms"), longer than zero.
inline std::optional<std::chrono::milliseconds> parse_ms(const std::string& s) {
    auto d = crisisd::core::parse_duration(s);
    if (!d || d->count() <= 0) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

// Takes an option's value; false when the value is not one the option accepts.
using option_handler = std::function<bool(const std::string&)>;
using option_handlers = std::map<std::string, option_handler, std::less<>>;

inline bool parse_options(int argc, char** argv, const option_handlers& options) {
    for (int i = 1; i < argc; ++i) {
        const auto it = options.find(std::string_view(argv[i]));
        if (it == options.end() || i + 1 >= argc || !it->second(argv[++i])) return false;
    }
    return true;
}

inline option_handler duration_into(std::chrono::milliseconds& out) {
    return [&out](const std::string& v) {
        const auto d = parse_ms(v);
        if (d) out = *d;
        return d.has_value();
    };
}

// A whole number as atoi reads it, raised to `floor` (the number of threads must be one or more).
inline option_handler int_into(int& out, int floor = std::numeric_limits<int>::min()) {
    return [&out, floor](const std::string& v) {
        out = std::max(floor, std::atoi(v.c_str()));
        return true;
    };
}

inline option_handler number_into(double& out) {
    return [&out](const std::string& v) {
        out = std::atof(v.c_str());
        return true;
    };
}

template <typename Text>  // std::string or std::filesystem::path
option_handler text_into(Text& out) {
    return [&out](const std::string& v) {
        out = v;
        return true;
    };
}

}  // namespace crisisd::bench
