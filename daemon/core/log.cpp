#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace crisisd::core {
namespace {

std::atomic<int> threshold{static_cast<int>(log_level::info)};

bool under_journald() {
    static const bool yes = std::getenv("JOURNAL_STREAM") != nullptr;
    return yes;
}

const char* level_name(log_level l) {
    switch (l) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::notice: return "notice";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "info";
}

}  // namespace

void set_log_threshold(log_level most_verbose) { threshold = static_cast<int>(most_verbose); }

void log(log_level level, std::string_view message) {
    if (static_cast<int>(level) > threshold.load(std::memory_order_relaxed)) return;
    std::string line;
    line.reserve(message.size() + 16);
    if (under_journald()) {
        line += '<';
        line += std::to_string(static_cast<int>(level));
        line += '>';
    } else {
        line += "crisisd ";
        line += level_name(level);
        line += ": ";
    }
    line.append(message);
    line += '\n';
    static std::mutex m;
    std::lock_guard lock(m);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace crisisd::core
