#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <charconv>

using crisisd::core::json_writer;

TEST(json_writer, writes_nested_values_with_commas) {
    std::string out;
    json_writer w(out);
    w.begin_object().member("id", "m-1").member("n", 3).key("xs").begin_array().value(1).value(true).null().end_array();
    w.end_object();
    EXPECT_EQ(out, R"({"id":"m-1","n":3,"xs":[1,true,null]})");
}

TEST(json_writer, escapes_control_characters_and_quotes) {
    std::string out;
    json_writer(out).value(std::string_view("a\"b\\c\n\x01", 7));
    EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(json_writer, replaces_invalid_utf8_so_output_stays_valid) {
    std::string out;
    json_writer(out).value(std::string_view("ok \xC3\xA4 bad \xFF\xC3 end"));
    EXPECT_EQ(out, "\"ok \xC3\xA4 bad \xEF\xBF\xBD\xEF\xBF\xBD end\"");
}

// `crisisd score`'s fast path prints what the library prints, ties and signs included.
TEST(put_fixed4, matches_to_chars_fixed_four) {
    auto expect_same = [](double v) {
        char fast[32], slow[32];
        std::string_view a(fast, static_cast<std::size_t>(crisisd::core::put_fixed4(fast, v) - fast));
        std::string_view b(slow, static_cast<std::size_t>(std::to_chars(slow, slow + 32, v, std::chars_format::fixed, 4).ptr - slow));
        EXPECT_EQ(a, b) << v;
    };
    for (int i = -20000; i <= 20000; ++i) expect_same(i / 19999.0);
    for (double v : {0.0, -0.0, -0.00001, 0.00005, -0.00005, 0.12345, 1.0, -1.0, 1.5, 123.456}) expect_same(v);
}

// Runs of plain text are copied whole: what needs escaping still is, wherever it falls in a run.
TEST(json_writer, escapes_at_the_edges_of_plain_runs) {
    std::string out;
    json_writer(out).value(std::string_view("\"Störung\" in Linz\t\xE2\x80\x93 \\ok\x7F\x1F"));
    EXPECT_EQ(out, "\"\\\"Störung\\\" in Linz\\t\xE2\x80\x93 \\\\ok\x7F\\u001f\"");
    out.clear();
    json_writer(out).value(std::string_view(""));
    EXPECT_EQ(out, "\"\"");
}
