#include "parse/frame_parser.hpp"

#include <array>
#include <optional>

#include "parse/detail/json.hpp"
#include "parse/generic.hpp"

namespace crisisd::parse {

const std::vector<std::string_view>& known_formats() {
    static const std::vector<std::string_view> formats{"generic", "jetstream", "mastodon", "x", "item"};
    return formats;
}

bool format_vouches_for_authors(std::string_view format) {
    return format == "jetstream" || format == "mastodon" || format == "x" || format == "item";
}

const std::vector<std::string_view>& mappable_fields() {
    static const std::vector<std::string_view> fields{"id", "text", "created_at", "source", "author", "lang", "url"};
    return fields;
}

std::unique_ptr<frame_parser> make_parser(const parser_settings& settings) {
    if (settings.format == "generic") return detail::make_generic(settings);
    if (settings.format == "jetstream") return detail::make_jetstream(settings);
    if (settings.format == "mastodon") return detail::make_mastodon(settings);
    if (settings.format == "item") return detail::make_item(settings);
    if (settings.format == "x") return detail::make_x(settings);
    return nullptr;
}

namespace detail {

// The canonical format as generic_parser reads it (a fast single pass over the object). As
// format "item" its frames are written by crisisd itself from a platform's document (a feed's
// item, a Facebook change): the platform named the author, so the author is vouched for.
class canonical_parser final : public frame_parser {
public:
    explicit canonical_parser(std::size_t max_bytes, bool vouched = false) : parser_(max_bytes), vouched_(vouched) {}
    frame_result parse(std::string_view frame, core::mention& out) override {
        key_.clear();
        if (auto r = parser_.parse(frame, out)) return frame_result::reject(*r);
        key_ = out.id;
        out.author_vouched = vouched_ && !out.author.empty();
        return frame_result::make(frame_kind::mention);
    }
    std::string_view dedup_key() const override { return key_; }

private:
    generic_parser parser_;
    bool vouched_;
    std::string key_;
};

namespace {

// Producers with their own shape: each field read through a JSON Pointer.
class mapped_parser final : public json_frame_parser {
public:
    explicit mapped_parser(const parser_settings& s) : json_frame_parser(s.max_bytes), only_when_(s.only_when) {
        const auto& names = mappable_fields();
        for (std::size_t i = 0; i < names.size(); ++i) pointers_[i] = "/" + std::string(names[i]);
        for (const auto& [field, pointer] : s.field_map) {
            for (std::size_t i = 0; i < names.size(); ++i)
                if (names[i] == field) pointers_[i] = pointer;
        }
    }

    frame_result parse(std::string_view frame, core::mention& out) override {
        simdjson::dom::element root;
        if (auto r = begin(frame, out, root)) return frame_result::reject(*r);
        for (const auto& [pointer, expected] : only_when_) {
            std::string_view actual;
            if (root.at_pointer(pointer).get(actual) != simdjson::SUCCESS || actual != expected)
                return frame_result::make(frame_kind::ignored);
        }
        std::string created_at;
        bool has_text = false;
        std::string* targets[] = {&out.id, &out.text, &created_at, &out.network, &out.author, &out.lang, &out.url};
        for (std::size_t i = 0; i < pointers_.size(); ++i) {
            simdjson::dom::element v;
            if (root.at_pointer(pointers_[i]).get(v) != simdjson::SUCCESS) continue;  // absent
            if (i == 1) has_text = true;
            switch (v.type()) {
                case simdjson::dom::element_type::STRING: targets[i]->assign(std::string_view(v)); break;
                case simdjson::dom::element_type::NULL_VALUE: break;
                case simdjson::dom::element_type::INT64:
                    if (i != 0) return frame_result::reject(reject_reason::bad_field);
                    out.id = std::to_string(std::int64_t(v));
                    break;
                case simdjson::dom::element_type::UINT64:
                    if (i != 0) return frame_result::reject(reject_reason::bad_field);
                    out.id = std::to_string(std::uint64_t(v));
                    break;
                default: return frame_result::reject(reject_reason::bad_field);
            }
        }
        if (out.id.empty()) return frame_result::reject(reject_reason::missing_id);
        if (!has_text) return frame_result::reject(reject_reason::missing_text);
        if (!created_at.empty()) {
            out.created_at = core::parse_rfc3339(created_at);
            if (!out.created_at) return frame_result::reject(reject_reason::bad_field);
        }
        key_ = out.id;
        return frame_result::make(frame_kind::mention);
    }

private:
    std::vector<std::pair<std::string, std::string>> only_when_;
    std::array<std::string, 7> pointers_;  // in mappable_fields() order
};

}  // namespace

std::unique_ptr<frame_parser> make_item(const parser_settings& settings) {
    return std::make_unique<canonical_parser>(settings.max_bytes, true);
}

std::unique_ptr<frame_parser> make_generic(const parser_settings& settings) {
    if (settings.field_map.empty() && settings.only_when.empty())
        return std::make_unique<canonical_parser>(settings.max_bytes);
    return std::make_unique<mapped_parser>(settings);
}

}  // namespace detail
}  // namespace crisisd::parse
