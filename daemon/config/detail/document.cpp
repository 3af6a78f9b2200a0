#include "config/detail/document.hpp"

#include <algorithm>

namespace crisisd::config::detail {

document::document(std::string name, std::string text, std::filesystem::path dir)
    : name_(std::move(name)), text_(std::move(text)), dir_(std::move(dir)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
}

std::size_t document::line_of(std::size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    return static_cast<std::size_t>(it - line_starts_.begin()) - 1;
}

location document::at_byte(std::size_t pos) const {
    std::size_t line = line_of(pos);
    int column = 1;
    // Columns count code points, not bytes, so "Störung {x}" points at the brace an editor shows.
    for (std::size_t i = line_starts_[line]; i < pos && i < text_.size(); ++i) {
        if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return location{name_, static_cast<int>(line) + 1, column};
}

location document::at(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.line < 0) return location{name_, 1, 1};
    // yaml-cpp's pos is a byte offset into UTF-8 input; trust it only when it agrees with its
    // own line count (it would not for UTF-16 input or a BOM).
    if (mark.pos >= 0 && static_cast<std::size_t>(mark.pos) <= text_.size() &&
        line_of(static_cast<std::size_t>(mark.pos)) == static_cast<std::size_t>(mark.line)) {
        return at_byte(static_cast<std::size_t>(mark.pos));
    }
    return location{name_, mark.line + 1, mark.column + 1};
}

std::ptrdiff_t document::source_offset(const YAML::Node& scalar, std::size_t value_offset) const {
    const YAML::Mark mark = scalar.Mark();
    if (mark.is_null() || mark.pos < 0 || !scalar.IsScalar()) return -1;
    const std::string& value = scalar.Scalar();
    if (value_offset >= value.size()) return -1;
    std::size_t i = static_cast<std::size_t>(mark.pos);
    if (i >= text_.size() || line_of(i) != static_cast<std::size_t>(mark.line)) return -1;

    const char style = text_[i];
    if (style == '"' || style == '\'') {
        ++i;
        for (std::size_t v = 0; v < value_offset; ++v) {
            if (i >= text_.size() || text_[i] == '\n') return -1;  // folded lines: give up
            if (style == '\'' && text_[i] == '\'') {
                i += 2;  // '' is one quote
            } else if (style == '"' && text_[i] == '\\') {
                if (i + 1 >= text_.size()) return -1;
                // \x, \u, \U expand to a varying number of bytes; only single-byte escapes map 1:1.
                const char e = text_[i + 1];
                if (e == 'x' || e == 'u' || e == 'U' || e == 'N' || e == '_' || e == 'L' ||
                    e == 'P' || e == '\n') {
                    return -1;
                }
                i += 2;
            } else {
                ++i;
            }
        }
    } else if (style == '|') {
        // Literal block: value line k is source line (header + 1 + k), shifted by the indentation.
        std::size_t header_line = line_of(i);
        for (std::size_t j = i + 1; j < text_.size() && text_[j] != '\n' && text_[j] != '#'; ++j) {
            if (text_[j] >= '1' && text_[j] <= '9') return -1;  // explicit indentation indicator
        }
        std::size_t k = 0;
        std::size_t line_begin = 0;
        for (std::size_t v = 0; v < value_offset; ++v) {
            if (value[v] == '\n') {
                ++k;
                line_begin = v + 1;
            }
        }
        std::size_t indent = std::string::npos;
        for (std::size_t l = header_line + 1; l < line_starts_.size(); ++l) {
            std::size_t p = line_starts_[l];
            std::size_t n = 0;
            while (p + n < text_.size() && text_[p + n] == ' ') ++n;
            if (p + n < text_.size() && text_[p + n] != '\n' && text_[p + n] != '\r') {
                indent = n;
                break;
            }
        }
        std::size_t line = header_line + 1 + k;
        if (indent == std::string::npos || line >= line_starts_.size()) return -1;
        i = line_starts_[line] + indent + (value_offset - line_begin);
    } else if (style == '>') {
        return -1;
    } else {
        for (std::size_t v = 0; v < value_offset; ++v, ++i) {
            if (i >= text_.size() || text_[i] == '\n') return -1;
        }
    }
    // Safety net for anything the walk above did not model: the byte must be the one we meant.
    if (i >= text_.size() || text_[i] != value[value_offset]) return -1;
    return static_cast<std::ptrdiff_t>(i);
}

location document::inside(const YAML::Node& scalar, std::size_t value_offset) const {
    std::ptrdiff_t pos = source_offset(scalar, value_offset);
    if (pos < 0) return at(scalar);
    return at_byte(static_cast<std::size_t>(pos));
}

}  // namespace crisisd::config::detail
