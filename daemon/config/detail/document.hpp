#pragma once
// One loaded config file: its name as shown in diagnostics, its text, and the directory its
// relative paths are resolved against. Turns yaml-cpp marks (0-based, byte columns) into 1-based
// line/column locations counted in characters, and can point inside a scalar's value.
// Private to config/; immutable after construction.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace crisisd::config::detail {

struct location {
    std::string file;
    int line = 0;  // 1-based; 0: the whole file
    int column = 0;
};

class document {
public:
    document(std::string name, std::string text, std::filesystem::path dir);

    const std::string& name() const { return name_; }
    const std::string& text() const { return text_; }
    const std::filesystem::path& dir() const { return dir_; }

    location at(const YAML::Mark& mark) const;
    location at(const YAML::Node& node) const { return at(node.Mark()); }

    // Where byte `value_offset` of a scalar's value sits in the source, for single-line plain
    // and quoted scalars and literal (|) blocks; the scalar's own position otherwise.
    location inside(const YAML::Node& scalar, std::size_t value_offset) const;

    location whole_file() const { return location{name_, 0, 0}; }

private:
    location at_byte(std::size_t pos) const;
    std::size_t line_of(std::size_t pos) const;  // 0-based
    std::ptrdiff_t source_offset(const YAML::Node& scalar, std::size_t value_offset) const;

    std::string name_;
    std::string text_;
    std::filesystem::path dir_;
    std::vector<std::size_t> line_starts_;
};

}  // namespace crisisd::config::detail
