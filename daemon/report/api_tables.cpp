#include "report/api_tables.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <array>

namespace crisisd::report {

namespace {

std::string text_of(const boost::json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return "-";
    if (v->is_string()) return std::string(v->get_string());
    return boost::json::serialize(*v);
}

// One row: six columns, the first five padded to their widths and the last as long as it is.
void append_row(std::string& out, const std::array<int, 5>& widths, const std::array<std::string, 6>& cells) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
        out += cells[i];
        const auto w = static_cast<std::size_t>(widths[i]);
        if (cells[i].size() < w) out.append(w - cells[i].size(), ' ');
        out += ' ';
    }
    out += cells[5];
    out += '\n';
}

std::string table(std::string_view api_json, std::string_view list_name, const std::array<int, 5>& widths,
                  const std::array<std::string, 6>& header, const std::array<std::string_view, 6>& keys) {
    boost::system::error_code ec;
    auto v = boost::json::parse(api_json, ec);
    const boost::json::array* list = nullptr;
    if (!ec && v.is_object())
        if (auto* l = v.get_object().if_contains(list_name); l && l->is_array()) list = &l->get_array();
    if (!list) return std::string(api_json) + "\n";
    std::string out;
    append_row(out, widths, header);
    for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const auto& o = item.get_object();
        std::array<std::string, 6> cells;
        for (std::size_t i = 0; i < keys.size(); ++i) cells[i] = text_of(o, keys[i]);
        append_row(out, widths, cells);
    }
    return out;
}

}  // namespace

std::string incident_table(std::string_view api_json) {
    return table(api_json, "incidents", {6, 13, 9, 24, 20}, {"ID", "STATE", "SEVERITY", "RULE", "KEY", "OPENED"},
                 {"id", "state", "severity", "rule", "key", "opened_at"});
}

std::string audit_table(std::string_view api_json) {
    return table(api_json, "audit", {20, 20, 16, 10, 28}, {"AT", "WHO", "ADDRESS", "ACTION", "TARGET", "OUTCOME"},
                 {"at", "who", "address", "action", "target", "outcome"});
}

}  // namespace crisisd::report
