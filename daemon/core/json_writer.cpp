#include "core/json_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <cmath>

namespace crisisd::core {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(i + 1) || !cont(i + 2)) return 0;
        if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
        if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        if (c == 0xF0 && b(i + 1) < 0x90) return 0;
        if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
        return 4;
    }
    return 0;
}

}  // namespace

// Bytes that go out as they are: printable ASCII but the quote and the backslash. Runs of them
// (and of valid UTF-8) are copied at once, not byte by byte: a webhook's comment text is mostly
// such a run, and appending it a char at a time was a quarter of the Facebook source's work.
constexpr auto plain_ascii = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return t;
}();

// Whether any of the 8 bytes in v needs a look: a control character, '"', '\\' or a byte of
// a multi-byte sequence (the classic "has a byte less than n" and "has a zero byte" tricks).
constexpr bool needs_look(std::uint64_t v) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    auto has_zero = [](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
    return ((v - 0x20 * ones) & ~v & highs) != 0 || has_zero(v ^ ('"' * ones)) || has_zero(v ^ ('\\' * ones)) ||
           (v & highs) != 0;
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0, run = 0;  // s[run, i) is copied as it is when something needs escaping
    while (i < s.size()) {
        if (i + 8 <= s.size()) {
            std::uint64_t v;
            std::memcpy(&v, s.data() + i, 8);
            if (!needs_look(v)) {
                i += 8;
                continue;
            }
        }
        auto c = static_cast<unsigned char>(s[i]);
        if (plain_ascii[c]) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (std::size_t n = utf8_sequence_length(s, i); n != 0) {
                i += n;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c >= 0x80) {
                    out += "\xEF\xBF\xBD";  // not valid UTF-8: U+FFFD
                } else {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xF];
                }
        }
        run = ++i;
    }
    out.append(s.data() + run, i - run);
    out += '"';
}

void json_writer::separate() {
    if (need_comma_) out_ += ',';
    need_comma_ = true;
}

json_writer& json_writer::begin_object() {
    separate();
    out_ += '{';
    need_comma_ = false;
    return *this;
}
json_writer& json_writer::end_object() {
    out_ += '}';
    need_comma_ = true;
    return *this;
}
json_writer& json_writer::begin_array() {
    separate();
    out_ += '[';
    need_comma_ = false;
    return *this;
}
json_writer& json_writer::end_array() {
    out_ += ']';
    need_comma_ = true;
    return *this;
}
json_writer& json_writer::key(std::string_view k) {
    separate();
    append_json_string(out_, k);
    out_ += ':';
    need_comma_ = false;
    return *this;
}
json_writer& json_writer::value(std::string_view s) {
    separate();
    append_json_string(out_, s);
    return *this;
}
json_writer& json_writer::value(double d) {
    separate();
    if (!std::isfinite(d)) {
        out_ += "null";
        return *this;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out_.append(buf, r.ptr);
    return *this;
}
json_writer& json_writer::value(std::int64_t i) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, i);
    out_.append(buf, r.ptr);
    return *this;
}
json_writer& json_writer::value(std::uint64_t i) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, i);
    out_.append(buf, r.ptr);
    return *this;
}
json_writer& json_writer::value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
}
json_writer& json_writer::null() {
    separate();
    out_ += "null";
    return *this;
}
json_writer& json_writer::raw(std::string_view json) {
    separate();
    out_.append(json);
    return *this;
}

char* put_fixed4(char* p, double v) {
    const double scaled = v * 10000.0;
    const double magnitude = std::fabs(scaled);
    const double fraction = magnitude - std::trunc(magnitude);
    if (!(std::fabs(v) <= 1.0) || std::fabs(fraction - 0.5) < 1e-6) {
        return std::to_chars(p, p + 32, v, std::chars_format::fixed, 4).ptr;
    }
    // Away from a tie, adding 0.5 and truncating is llround(|scaled|): |scaled| <= 10^4, so the
    // sum's rounding error (< 2^-38) cannot carry it across an integer.
    const auto n = static_cast<unsigned>(magnitude + 0.5);
    if (std::signbit(v)) *p++ = '-';  // to_chars keeps the sign of -0.00001 ("-0.0000")
    const unsigned decimals = n % 10000;
    p[0] = static_cast<char>('0' + n / 10000);
    p[1] = '.';
    p[2] = static_cast<char>('0' + decimals / 1000);
    p[3] = static_cast<char>('0' + decimals / 100 % 10);
    p[4] = static_cast<char>('0' + decimals / 10 % 10);
    p[5] = static_cast<char>('0' + decimals % 10);
    return p + 6;
}

}  // namespace crisisd::core
