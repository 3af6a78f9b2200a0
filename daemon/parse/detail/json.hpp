#pragma once
// simdjson helpers shared by the wire formats (private to parse/; includes simdjson).
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parse/frame_parser.hpp"

namespace crisisd::parse::detail {

// A reusable DOM parser with its own padded input buffer: simdjson needs SIMDJSON_PADDING
// readable bytes past the end, which a websocket frame does not guarantee.
class padded_parser {
public:
    // Copies `text` into the buffer and parses it. The document (and every string_view taken
    // from it) lives until the next parse on this object.
    simdjson::error_code parse(std::string_view text, simdjson::dom::element& root) {
        if (buffer_.size() < text.size() + simdjson::SIMDJSON_PADDING)
            buffer_.resize(text.size() + simdjson::SIMDJSON_PADDING);
        text.copy(buffer_.data(), text.size());
        return parser_.parse(buffer_.data(), text.size(), false).get(root);
    }

private:
    simdjson::dom::parser parser_;
    std::string buffer_;
};

inline reject_reason classify(simdjson::error_code e) {
    return e == simdjson::UTF8_ERROR ? reject_reason::invalid_utf8 : reject_reason::malformed_json;
}

// A string member, or "" when absent, null, or of another type.
inline std::string_view string_or_empty(simdjson::dom::object obj, std::string_view key) {
    std::string_view v;
    if (obj[key].get(v) != simdjson::SUCCESS) return {};
    return v;
}

// BCP-47 "en-US" → "en": the primary subtag, lower-cased, which is what the language-specific
// scorers and rule filters key on.
inline void primary_language(std::string_view tag, std::string& out) {
    out.clear();
    for (char c : tag) {
        if (c == '-' || c == '_') break;
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
}

std::unique_ptr<frame_parser> make_generic(const parser_settings& settings);
std::unique_ptr<frame_parser> make_jetstream(const parser_settings& settings);
std::unique_ptr<frame_parser> make_mastodon(const parser_settings& settings);

}  // namespace crisisd::parse::detail
