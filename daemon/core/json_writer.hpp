#pragma once
// A small append-only JSON writer for the hot path: no DOM, no allocation beyond the output
// string. Strings are escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD so the output is
// always valid JSON (Boost.JSON 1.81's serializer copies invalid bytes through).
//
// Off the hot path — channel payloads, admin answers, ctl, config — crisisd writes JSON with
// Boost.JSON (object + serialize). This writer stays where it was measured to matter: the
// per-mention line of `crisisd score`, 6.8k instructions a line here against 9.2k with Boost.JSON
// (callgrind, tests/bench/json_output_bench), which would also print 0.588 as 5.88E-1 where the
// score output has fixed decimals. (A PagerDuty body costs 22k here and 16k with Boost.JSON: off
// the hot path the library is no slower.) The incident codec (incident/codec.hpp) and the incident
// view (report/) write with it too: not for speed, but because its numbers (shortest round-trip,
// never 7.5E-1) are what channels, webhook receivers and reports have always been sent.
#include <cstdint>
#include <string>
#include <string_view>

namespace crisisd::core {

class json_writer {
public:
    explicit json_writer(std::string& out) : out_(out) {}

    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view k);
    json_writer& value(std::string_view s);
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(double d);
    json_writer& value(std::int64_t i);
    json_writer& value(std::uint64_t i);
    json_writer& value(int i) { return value(static_cast<std::int64_t>(i)); }
    json_writer& value(bool b);
    json_writer& null();
    // Inserts already-serialised JSON verbatim.
    json_writer& raw(std::string_view json);

    template <class T>
    json_writer& member(std::string_view k, T&& v) {
        key(k);
        return value(std::forward<T>(v));
    }

private:
    void separate();
    std::string& out_;
    bool need_comma_ = false;
};

// Appends s to out as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

// Writes `v` exactly as std::to_chars(fixed, 4) does, several times faster: scores lie in [-1, 1],
// so v * 10^4 rounded to an integer gives the digits unless it sits next to a .5 tie, where the
// library (which rounds the exact binary value) decides. Profiling `crisisd score`, whose scores
// have four decimals, showed the general-purpose conversion at about a tenth of all instructions.
// Returns the end of the digits; `p` needs room for 32 characters.
char* put_fixed4(char* p, double v);

}  // namespace crisisd::core
