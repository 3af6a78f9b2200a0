#pragma once
// simdjson helpers shared by the wire formats (private to parse/; includes simdjson).
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
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

// What the JSON wire formats do first with a frame: clear the mention and the dedup key,
// refuse an oversized frame before parsing it, and parse it from a padded copy. The format then
// reads its fields and fills key_.
class json_frame_parser : public frame_parser {
public:
    explicit json_frame_parser(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    std::string_view dedup_key() const override { return key_; }

protected:
    // Why the frame is rejected, or nullopt with the document in `root` (valid until the next
    // call).
    std::optional<reject_reason> begin(std::string_view frame, core::mention& out, simdjson::dom::element& root) {
        out.clear();
        key_.clear();
        if (frame.size() > max_bytes_) return reject_reason::oversized;
        if (auto e = json_.parse(frame, root)) return classify(e);
        return std::nullopt;
    }

    // begin() for the formats whose frames are always a JSON object.
    std::optional<reject_reason> begin_object(std::string_view frame, core::mention& out, simdjson::dom::object& obj) {
        simdjson::dom::element root;
        if (auto r = begin(frame, out, root)) return r;
        if (root.get_object().get(obj) != simdjson::SUCCESS) return reject_reason::malformed_json;
        return std::nullopt;
    }

    std::string key_;

private:
    std::size_t max_bytes_;
    padded_parser json_;
};

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
std::unique_ptr<frame_parser> make_item(const parser_settings& settings);
std::unique_ptr<frame_parser> make_x(const parser_settings& settings);

}  // namespace crisisd::parse::detail
