#include "config/detail/conditions.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace crisisd::config::detail {

namespace {

using detect::comparison;
using detect::metric;

constexpr std::array<std::pair<std::string_view, metric>, 8> metrics{{
    {"count", metric::count},
    {"negative_count", metric::negative_count},
    {"negative_ratio", metric::negative_ratio},
    {"mean_compound", metric::mean_compound},
    {"unique_authors", metric::unique_authors},
    {"rate", metric::rate},
    {"volume_ratio", metric::volume_ratio},
    {"zscore", metric::zscore},
}};

// Longest first, so "<=" is not read as "<" followed by "=".
constexpr std::array<std::pair<std::string_view, comparison>, 6> operators{{
    {"<=", comparison::le},
    {">=", comparison::ge},
    {"==", comparison::eq},
    {"!=", comparison::ne},
    {"<", comparison::lt},
    {">", comparison::gt},
}};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
bool is_operator_char(char c) { return c == '<' || c == '>' || c == '=' || c == '!'; }

std::string quote_value(std::string_view s) { return "\"" + std::string(s) + "\""; }

parsed_condition fail(std::size_t at, std::string message) {
    parsed_condition out;
    out.error_offset = at;
    out.error = std::move(message);
    return out;
}

}  // namespace

std::optional<detect::metric> metric_by_name(std::string_view name) {
    for (const auto& [n, m] : metrics) {
        if (n == name) return m;
    }
    return std::nullopt;
}

const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& [n, m] : metrics) v.emplace_back(n);
        return v;
    }();
    return names;
}

parsed_condition parse_condition(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t metric_at = i;
    while (i < text.size() && is_word(text[i])) ++i;
    const std::string_view name = text.substr(metric_at, i - metric_at);
    if (name.empty()) {
        return fail(metric_at, "condition " + quote_value(text) +
                                   " must read like \"negative_count >= 20\": <metric> <operator> <number>");
    }
    const auto which = metric_by_name(name);
    if (!which) {
        std::string list;
        for (const auto& n : metric_names()) list += (list.empty() ? "" : ", ") + n;
        return fail(metric_at, "unknown metric '" + std::string(name) + "' in condition " +
                                   quote_value(text) + " (expected one of " + list + ")");
    }

    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t op_at = i;
    while (i < text.size() && is_operator_char(text[i])) ++i;
    const std::string_view op_text = text.substr(op_at, i - op_at);
    std::optional<comparison> op;
    for (const auto& [spelling, cmp] : operators) {
        if (spelling == op_text) op = cmp;
    }
    if (!op) {
        std::string shown_op = op_text.empty() ? std::string(text.substr(op_at, 1)) : std::string(op_text);
        if (shown_op.empty()) {
            return fail(op_at, "condition " + quote_value(text) + " needs an operator and a number after '" +
                                   std::string(name) + "'");
        }
        return fail(op_at, "unknown operator '" + shown_op + "' in condition " + quote_value(text) +
                               " (expected <, <=, >, >=, == or !=)");
    }

    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t number_at = i;
    std::size_t end = text.size();
    while (end > number_at && is_space(text[end - 1])) --end;
    const std::string_view number = text.substr(number_at, end - number_at);
    double threshold = 0;
    auto [stop, ec] = std::from_chars(number.data(), number.data() + number.size(), threshold);
    if (number.empty() || ec != std::errc{} || stop != number.data() + number.size() ||
        !std::isfinite(threshold)) {
        return fail(number_at, "condition " + quote_value(text) + " needs a number after '" +
                                   std::string(op_text) + "'");
    }

    parsed_condition out;
    out.condition = detect::condition{*which, *op, threshold};
    return out;
}

}  // namespace crisisd::config::detail
