#pragma once
// Logging: one line per event on stderr. Under journald (JOURNAL_STREAM set) each line starts
// with a "<N>" syslog priority so the journal keeps severities; otherwise lines are for people.
#include <string_view>

namespace crisisd::core {

enum class log_level { debug = 7, info = 6, notice = 5, warning = 4, error = 3 };

void set_log_threshold(log_level most_verbose);
void log(log_level level, std::string_view message);

inline void log_info(std::string_view m) { log(log_level::info, m); }
inline void log_warning(std::string_view m) { log(log_level::warning, m); }
inline void log_error(std::string_view m) { log(log_level::error, m); }

}  // namespace crisisd::core
