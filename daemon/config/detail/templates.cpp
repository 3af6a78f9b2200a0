#include "config/detail/templates.hpp"

#include "incident/template.hpp"

namespace crisisd::config::detail {

std::vector<placeholder> find_placeholders(std::string_view text) {
    // The engine's own scanner: what is checked here is exactly what it fills.
    std::vector<placeholder> out;
    for (const auto& p : incident::find_placeholders(text)) {
        out.push_back(placeholder{std::string(p.name), p.offset});
    }
    return out;
}

}  // namespace crisisd::config::detail
