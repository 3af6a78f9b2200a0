#include "parse/generic.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include "parse/detail/json.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace crisisd::parse {

// The DOM API is used rather than On Demand: Debian's simdjson picks On Demand's kernel at
// compile time (the portable fallback without -march), while the DOM parser dispatches at run
// time to the best kernel the CPU has, and it validates the whole document (trailing content,
// malformed unknown fields, UTF-8) which the generic format's contract wants anyway.
//
// Most frames take the flat reader below instead; the DOM is the reference for every frame it
// does not read to the end.
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

// What a frame's fields give besides the mention's strings, read by finish().
struct read_state {
    std::string_view created_at;  // a view into the frame or the document: valid until the next parse
    bool has_text = false;
};

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

// The reference reading: the whole frame through simdjson's DOM, every field in document order.
std::optional<reject_reason> read_dom(detail::padded_parser& json, std::string_view frame, core::mention& out,
                                      read_state& st) {
    simdjson::dom::element root;
    if (auto e = json.parse(frame, root)) return detail::classify(e);
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return reject_reason::malformed_json;
    for (auto [key, v] : obj) {
        std::optional<reject_reason> r;
        if (key == "id") r = read_string(v, out.id, true);
        else if (key == "text") {
            st.has_text = true;
            r = read_string(v, out.text, false);
        } else if (key == "source") r = read_string(v, out.network, false);
        else if (key == "author") r = read_string(v, out.author, false);
        else if (key == "lang") r = read_string(v, out.lang, false);
        else if (key == "url") r = read_string(v, out.url, false);
        else if (key == "created_at") r = read_view(v, st.created_at);
        else if (key == "html") {
            if (!v.is_bool()) return reject_reason::bad_field;
            out.html = bool(v);
        }
        if (r) return r;
    }
    return std::nullopt;
}

// The flat reader: a hand-written pass for the shape nearly every generic frame has, one object
// whose values are strings, true, false or null, strings with at most the one-letter escapes.
// It reads such a frame straight into the mention, without the DOM's padded copy, tape and
// string buffer. On the mixed benchmark stream (~410-byte frames, callgrind of a release
// `crisisd run`) a frame's whole parse with the DOM cost 3,517 instructions (padded copy, stage
// 1, stage 2, the field loop and its copies, the timestamp), with this reader 2,000 (of them
// ~275 simdjson's UTF-8 check and ~225 the timestamp): 1,517 fewer, ~9% of the mention's cost.
// (Valgrind runs simdjson's AVX2 kernels; timed on this machine, where the DOM runs its AVX-512
// ones, a frame took 148 ns against the DOM's 214: the gain in time is smaller than in
// instructions, but it is one.)
//
// It only ever accepts: anything it does not read with certainty (a number, a nested value, a
// \u escape, a control character, a key with an escape, a wrongly typed known field, invalid
// UTF-8, trailing bytes, a truncated frame) makes it give up, and the caller reads the frame
// again through the DOM, which then decides, with its own error. So a frame it accepts is one
// the DOM accepts too, with the same fields (generic_test and the generic fuzz target compare
// the two readings).
//
// Its steps take and return the read position rather than keep it in an object: a position in
// memory is read again after every store of a string's bytes (a char store may alias it), which
// cost ~10% more instructions.
namespace flat {

enum class field { id, text, source, author, lang, url, created_at, html, other };

// JSON's whitespace. Generated JSON has mostly none: one compare says so.
inline const char* skip_space(const char* p, const char* end) {
    while (p < end && static_cast<unsigned char>(*p) <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        ++p;
    return p;
}

// The first '"' or '\\' from p on, or null at the frame's end or at a control character (which
// JSON forbids unescaped: the DOM gives the error).
inline const char* find_quote_or_escape(const char* p, const char* end) {
#if defined(__SSE2__)
    // Sixteen bytes a step: strings are most of a frame's bytes.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1f);
    for (; end - p >= 16; p += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // v <= 0x1f unsigned: max(v, 0x1f) == 0x1f.
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                         _mm_cmpeq_epi8(_mm_max_epu8(v, control), control));
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (mask != 0) {
            const char* at = p + std::countr_zero(mask);
            return static_cast<unsigned char>(*at) < 0x20 ? nullptr : at;
        }
    }
#endif
    for (; p < end; ++p) {
        const auto b = static_cast<unsigned char>(*p);
        if (b == '"' || b == '\\') return p;
        if (b < 0x20) return nullptr;
    }
    return nullptr;
}

struct key_result {
    field f;
    const char* p;  // past the closing quote; null: give up
};

// The key after its opening quote. The canonical keys are compared with their closing quote in
// place (cheaper than a scan for the quote); a key with an escape is left to the DOM.
inline key_result key(const char* p, const char* end) {
    const auto left = static_cast<std::size_t>(end - p);
    const auto is = [&](std::string_view k) { return left >= k.size() && std::memcmp(p, k.data(), k.size()) == 0; };
    if (left != 0) {
        switch (*p) {
            case 'i': if (is("id\"")) return {field::id, p + 3}; break;
            case 't': if (is("text\"")) return {field::text, p + 5}; break;
            case 's': if (is("source\"")) return {field::source, p + 7}; break;
            case 'a': if (is("author\"")) return {field::author, p + 7}; break;
            case 'l': if (is("lang\"")) return {field::lang, p + 5}; break;
            case 'u': if (is("url\"")) return {field::url, p + 4}; break;
            case 'c': if (is("created_at\"")) return {field::created_at, p + 11}; break;
            case 'h': if (is("html\"")) return {field::html, p + 5}; break;
            default: break;
        }
    }
    const char* e = find_quote_or_escape(p, end);
    if (e == nullptr || *e != '"') return {field::other, nullptr};
    return {field::other, e + 1};
}

// The string after its opening quote, unescaped into target (skipped when target is null);
// returns the position past its closing quote, or null to give up.
inline const char* string(const char* p, const char* end, std::string* target) {
    const char* e = find_quote_or_escape(p, end);
    if (e == nullptr) return nullptr;
    if (*e == '"') {  // no escape: most strings
        if (target != nullptr) target->assign(p, static_cast<std::size_t>(e - p));
        return e + 1;
    }
    if (target != nullptr) target->clear();
    for (;;) {
        // A backslash at e: the one-letter escapes are read here, \u goes to the DOM.
        if (end - e < 2) return nullptr;
        char unescaped = 0;
        switch (e[1]) {
            case '"': unescaped = '"'; break;
            case '\\': unescaped = '\\'; break;
            case '/': unescaped = '/'; break;
            case 'b': unescaped = '\b'; break;
            case 'f': unescaped = '\f'; break;
            case 'n': unescaped = '\n'; break;
            case 'r': unescaped = '\r'; break;
            case 't': unescaped = '\t'; break;
            default: return nullptr;
        }
        if (target != nullptr) {
            target->append(p, static_cast<std::size_t>(e - p));
            target->push_back(unescaped);
        }
        p = e + 2;
        e = find_quote_or_escape(p, end);
        if (e == nullptr) return nullptr;
        if (*e == '"') {
            if (target != nullptr) target->append(p, static_cast<std::size_t>(e - p));
            return e + 1;
        }
    }
}

inline const char* literal(const char* p, const char* end, std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return nullptr;
    return p + word.size();  // what follows must be a comma, '}' or space: read() checks
}

// The value at p (not at the frame's end) of field f; returns the position past it, or null.
inline const char* value(const char* p, const char* end, field f, core::mention& out, read_state& st) {
    std::string* target = nullptr;
    switch (f) {
        case field::id: target = &out.id; break;
        case field::text:
            st.has_text = true;
            target = &out.text;
            break;
        case field::source: target = &out.network; break;
        case field::author: target = &out.author; break;
        case field::lang: target = &out.lang; break;
        case field::url: target = &out.url; break;
        default: break;
    }
    const char c = *p;
    if (c == '"') {
        if (f == field::html) return nullptr;  // the DOM's bad_field
        if (f == field::created_at) {
            // A view into the frame: a timestamp has no escapes (one with them goes to the DOM).
            const char* e = find_quote_or_escape(p + 1, end);
            if (e == nullptr || *e != '"') return nullptr;
            st.created_at = std::string_view(p + 1, static_cast<std::size_t>(e - p - 1));
            return e + 1;
        }
        return string(p + 1, end, target);
    }
    if (c == 'n') return f == field::html ? nullptr : literal(p, end, "null");
    if (c == 't' || c == 'f') {
        // A boolean is a bad field everywhere but "html": the DOM says so.
        if (f != field::html && f != field::other) return nullptr;
        const char* after = literal(p, end, c == 't' ? std::string_view("true") : std::string_view("false"));
        if (after != nullptr && f == field::html) out.html = c == 't';
        return after;
    }
    return nullptr;  // numbers, objects, arrays: the DOM reads them
}

// The position past `c` and the whitespace before it, or null when another character comes.
inline const char* after(const char* p, const char* end, char c) {
    if (p != end && *p == c) return p + 1;  // no whitespace: the usual case, one compare
    p = skip_space(p, end);
    return p != end && *p == c ? p + 1 : nullptr;
}

// True when the frame was read to its end; `out` and `st` then hold what read_dom() gives.
bool read(std::string_view frame, core::mention& out, read_state& st) {
    const char* p = frame.data();
    const char* const end = p + frame.size();
    if ((p = after(p, end, '{')) == nullptr) return false;
    p = skip_space(p, end);
    if (p != end && *p == '}') return skip_space(p + 1, end) == end;
    for (;;) {
        if (p == end || *p != '"') return false;
        const key_result k = key(p + 1, end);
        if (k.p == nullptr || (p = after(k.p, end, ':')) == nullptr) return false;
        p = skip_space(p, end);
        if (p == end || (p = value(p, end, k.f, out, st)) == nullptr) return false;
        if (const char* next = after(p, end, ','); next != nullptr) {
            p = skip_space(next, end);
            continue;
        }
        return (p = after(p, end, '}')) != nullptr && skip_space(p, end) == end;
    }
}

}  // namespace flat

// What every reading ends with: the required fields and the timestamp.
std::optional<reject_reason> finish(core::mention& out, const read_state& st) {
    if (out.id.empty()) return reject_reason::missing_id;
    // An empty text is a valid post (an image, a boost) and still counts as volume; an absent one
    // means the producer sent something that is not a mention at all.
    if (!st.has_text) return reject_reason::missing_text;
    if (!st.created_at.empty()) {
        out.created_at = core::parse_rfc3339(st.created_at);
        if (!out.created_at) return reject_reason::bad_field;
    }
    return std::nullopt;
}

}  // namespace

std::optional<reject_reason> generic_parser::parse(std::string_view frame, core::mention& out) {
    out.clear();
    if (frame.size() > impl_->max_bytes) return reject_reason::oversized;
    read_state st;
    // The flat reader checks no UTF-8 itself: simdjson's validator (run-time dispatched, like
    // the DOM's kernel) does, over the whole frame, and an invalid frame goes to the DOM for its
    // error. (Checking only the strings with bytes >= 0x80, a call each, cost ~120 instructions
    // a mention more on the mixed stream: most texts have one.)
    if (!simdjson::validate_utf8(frame.data(), frame.size()) || !flat::read(frame, out, st)) {
        out.clear();
        st = read_state{};
        if (auto r = read_dom(impl_->json, frame, out, st)) return r;
    }
    return finish(out, st);
}

std::optional<reject_reason> generic_parser::parse_reference(std::string_view frame, core::mention& out) {
    out.clear();
    if (frame.size() > impl_->max_bytes) return reject_reason::oversized;
    read_state st;
    if (auto r = read_dom(impl_->json, frame, out, st)) return r;
    return finish(out, st);
}

bool generic_parser::reads_flat(std::string_view frame) {
    core::mention scratch;
    read_state st;
    return simdjson::validate_utf8(frame.data(), frame.size()) && flat::read(frame, scratch, st);
}

}  // namespace crisisd::parse
