#include "config/detail/templates.hpp"

namespace crisisd::config::detail {

std::vector<placeholder> find_placeholders(std::string_view text) {
    std::vector<placeholder> out;
    std::size_t i = 0;
    while ((i = text.find('{', i)) != std::string_view::npos) {
        std::size_t j = i + 1;
        while (j < text.size() && text[j] != '}' && text[j] != '{' && text[j] != '\n') ++j;
        if (j < text.size() && text[j] == '}') {
            out.push_back(placeholder{std::string(text.substr(i + 1, j - i - 1)), i});
            i = j + 1;
        } else {
            i = j;
        }
    }
    return out;
}

}  // namespace crisisd::config::detail
