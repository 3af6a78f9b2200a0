#include "parse/generic.hpp"

#include <string>

#include "parse/detail/json.hpp"

namespace crisisd::parse {

// The DOM API is used rather than On Demand: Debian's simdjson picks On Demand's kernel at
// compile time (the portable fallback without -march), while the DOM parser dispatches at run
// time to the best kernel the CPU has, and it validates the whole document (trailing content,
// malformed unknown fields, UTF-8) which the generic format's contract wants anyway.
struct generic_parser::impl {
    detail::padded_parser json;
    std::size_t max_bytes;
};

generic_parser::generic_parser(std::size_t max_bytes) : impl_(std::make_unique<impl>()) {
    impl_->max_bytes = max_bytes;
}
generic_parser::~generic_parser() = default;
generic_parser::generic_parser(generic_parser&&) noexcept = default;
generic_parser& generic_parser::operator=(generic_parser&&) noexcept = default;

namespace {

// Reads a string field into target. Null leaves target empty; any other type is a bad field.
// Numbers are accepted for "id" because some producers send numeric ids.
std::optional<reject_reason> read_string(simdjson::dom::element v, std::string& target, bool allow_number) {
    switch (v.type()) {
        case simdjson::dom::element_type::STRING: target.assign(std::string_view(v)); return std::nullopt;
        case simdjson::dom::element_type::NULL_VALUE: return std::nullopt;
        case simdjson::dom::element_type::INT64:
            if (allow_number) {
                target = std::to_string(int64_t(v));
                return std::nullopt;
            }
            return reject_reason::bad_field;
        case simdjson::dom::element_type::UINT64:
            if (allow_number) {
                target = std::to_string(uint64_t(v));
                return std::nullopt;
            }
            return reject_reason::bad_field;
        default: return reject_reason::bad_field;
    }
}

// read_string() for a field only read during the parse: a view into the document, no copy (a
// timestamp is longer than std::string's inline buffer, so a copy was an allocation a mention).
std::optional<reject_reason> read_view(simdjson::dom::element v, std::string_view& target) {
    switch (v.type()) {
        case simdjson::dom::element_type::STRING: target = std::string_view(v); return std::nullopt;
        case simdjson::dom::element_type::NULL_VALUE: return std::nullopt;
        default: return reject_reason::bad_field;
    }
}

}  // namespace

std::optional<reject_reason> generic_parser::parse(std::string_view frame, core::mention& out) {
    out.clear();
    if (frame.size() > impl_->max_bytes) return reject_reason::oversized;
    simdjson::dom::element root;
    if (auto e = impl_->json.parse(frame, root)) return detail::classify(e);
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return reject_reason::malformed_json;

    std::string_view created_at;  // valid until the next parse
    bool has_text = false;
    for (auto [key, v] : obj) {
        std::optional<reject_reason> r;
        if (key == "id") r = read_string(v, out.id, true);
        else if (key == "text") {
            has_text = true;
            r = read_string(v, out.text, false);
        } else if (key == "source") r = read_string(v, out.network, false);
        else if (key == "author") r = read_string(v, out.author, false);
        else if (key == "lang") r = read_string(v, out.lang, false);
        else if (key == "url") r = read_string(v, out.url, false);
        else if (key == "created_at") r = read_view(v, created_at);
        else if (key == "html") {
            if (!v.is_bool()) return reject_reason::bad_field;
            out.html = bool(v);
        }
        if (r) return r;
    }
    if (out.id.empty()) return reject_reason::missing_id;
    // An empty text is a valid post (an image, a boost) and still counts as volume; an absent one
    // means the producer sent something that is not a mention at all.
    if (!has_text) return reject_reason::missing_text;
    if (!created_at.empty()) {
        out.created_at = core::parse_rfc3339(created_at);
        if (!out.created_at) return reject_reason::bad_field;
    }
    return std::nullopt;
}

}  // namespace crisisd::parse
