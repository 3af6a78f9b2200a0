#pragma once
// Placeholders in statement templates: "{topic}". Private to config/; pure functions.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crisisd::config::detail {

struct placeholder {
    std::string name;         // between the braces, as written
    std::size_t offset = 0;   // byte offset of '{'
};

// Every "{…}" without nested braces or line breaks; a '{' with no closing '}' is plain text.
// The engine's scanner (incident/template.hpp), so config checks what the engine fills.
std::vector<placeholder> find_placeholders(std::string_view text);

}  // namespace crisisd::config::detail
