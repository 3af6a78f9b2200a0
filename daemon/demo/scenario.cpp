#include "demo/scenario.hpp"

#include "parse/generic.hpp"

namespace crisisd::demo {

std::vector<post> load_scenario(std::string_view jsonl) {
    std::vector<post> out;
    parse::generic_parser parser;
    core::mention m;
    while (!jsonl.empty()) {
        auto nl = jsonl.find('\n');
        auto line = jsonl.substr(0, nl);
        jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
        if (line.empty()) continue;
        if (parser.parse(line, m) || !m.created_at) continue;
        out.push_back({m.network, m.id, m.author, m.lang, m.text, m.url, *m.created_at});
    }
    return out;
}

std::string xml_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace crisisd::demo
