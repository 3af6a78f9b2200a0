#pragma once
// Loading and validating the crisisd configuration: YAML files → config::settings, or every
// problem found, each as a gcc-style diagnostic ("rules/outage.yaml:12:7: error: …").
//
// Paths written in the config (include globs, ${file:…} secrets, source/channel paths, ca_file,
// tokens_file, storage path) are relative to the directory of the file that names them. File
// names in diagnostics are printed as they were reached: the path given to load_file, joined
// with the relative include patterns, so running from the config directory gives short names.
//
// Stateless free functions; safe to call from any thread (they read the environment and files).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace crisisd::config {

struct diagnostic {
    std::string file;
    int line = 0;    // 1-based; 0 when the problem concerns the whole file
    int column = 0;  // 1-based, in characters (UTF-8 code points)
    std::string message;

    // "file:line:col: error: message", or "file: error: message" when there is no line.
    std::string to_string() const;
};

struct load_result {
    settings config;  // meaningful only when ok()
    std::vector<diagnostic> errors;

    bool ok() const { return errors.empty(); }
};

// Reads the file and every file its `include:` globs name (relative to the including file's
// directory; sorted, each once), merges their lists, validates everything, and returns ALL
// problems at once, sorted by file, line, column.
load_result load_file(const std::filesystem::path& path);

// Same from a string (tests, the demo's embedded config). `file_name` is used in diagnostics;
// includes and relative paths are resolved against base_dir (empty: the working directory).
load_result load_string(std::string_view yaml, std::string file_name,
                        const std::filesystem::path& base_dir = {});

}  // namespace crisisd::config
