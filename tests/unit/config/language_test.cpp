// The small languages inside config values: conditions, template placeholders, secret references.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/detail/conditions.hpp"
#include "config/detail/secrets.hpp"
#include "config/detail/templates.hpp"

namespace {

namespace fs = std::filesystem;
using namespace crisisd::config::detail;
using crisisd::detect::comparison;
using crisisd::detect::metric;

TEST(config_conditions, every_detector_metric_has_a_name) {
    const auto& names = metric_names();
    ASSERT_EQ(names.size(), 8u);
    for (int i = 0; i <= static_cast<int>(metric::zscore); ++i) {
        const auto m = static_cast<metric>(i);
        bool found = false;
        for (const auto& n : names) found = found || metric_by_name(n) == m;
        EXPECT_TRUE(found) << "metric " << i << " has no name";
    }
    EXPECT_FALSE(metric_by_name("Count"));
}

TEST(config_conditions, parses_every_operator_with_and_without_spaces) {
    const std::pair<const char*, comparison> cases[] = {
        {"count < 1", comparison::lt},  {"count<=1", comparison::le},   {"count > 1", comparison::gt},
        {"count>=1", comparison::ge},   {"count == 1", comparison::eq}, {"count!=1", comparison::ne},
    };
    for (const auto& [text, op] : cases) {
        const auto c = parse_condition(text);
        ASSERT_TRUE(c.condition) << text << ": " << c.error;
        EXPECT_EQ(c.condition->op, op) << text;
        EXPECT_DOUBLE_EQ(c.condition->threshold, 1) << text;
    }
}

TEST(config_conditions, reads_negative_and_fractional_thresholds) {
    const auto c = parse_condition("  mean_compound <= -0.35  ");
    ASSERT_TRUE(c.condition) << c.error;
    EXPECT_EQ(c.condition->what, metric::mean_compound);
    EXPECT_DOUBLE_EQ(c.condition->threshold, -0.35);
}

TEST(config_conditions, points_at_the_offending_part) {
    EXPECT_EQ(parse_condition("volume_ratop >= 4").error_offset, 0u);
    EXPECT_EQ(parse_condition("count =< 4").error_offset, 6u);
    EXPECT_EQ(parse_condition("count >= 4x").error_offset, 9u);
    EXPECT_EQ(parse_condition("count >= nan").error_offset, 9u);
    EXPECT_FALSE(parse_condition("").condition);
}

TEST(config_templates, finds_placeholders_with_offsets) {
    const auto p = find_placeholders("Störung bei {topic}, Update {next_update}. {oops {x} }");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].name, "topic");
    EXPECT_EQ(p[0].offset, 13u);  // bytes: "ö" is two
    EXPECT_EQ(p[1].name, "next_update");
    EXPECT_EQ(p[2].name, "x");
    EXPECT_TRUE(find_placeholders("no braces, or an open { only").empty());
}

TEST(config_secrets, expands_environment_references) {
    ::setenv("CRISISD_TEST_SECRET", "s3", 1);
    const auto s = expand_secrets("Bearer ${env:CRISISD_TEST_SECRET}", {});
    EXPECT_TRUE(s.problems.empty());
    EXPECT_EQ(s.value, "Bearer s3");
    EXPECT_FALSE(s.only_reference);
    EXPECT_TRUE(expand_secrets("${env:CRISISD_TEST_SECRET}", {}).only_reference);
}

TEST(config_secrets, reads_files_relative_to_the_config_and_trims_newlines) {
    const fs::path dir = fs::path(::testing::TempDir()) / "crisisd_config_secret";
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "abc\n";
    const auto s = expand_secrets("${file:token}", dir);
    EXPECT_TRUE(s.problems.empty());
    EXPECT_EQ(s.value, "abc");
    fs::remove_all(dir);
}

TEST(config_secrets, reports_problems_without_revealing_values) {
    ::unsetenv("CRISISD_TEST_NOT_SET");
    const auto s = expand_secrets("x ${env:CRISISD_TEST_NOT_SET} ${nope:y} ${env:", {});
    ASSERT_EQ(s.problems.size(), 3u);
    EXPECT_EQ(s.problems[0].offset, 2u);
    EXPECT_EQ(s.problems[0].message, "environment variable 'CRISISD_TEST_NOT_SET' is not set");
    EXPECT_EQ(s.problems[1].offset, 30u);
    EXPECT_EQ(s.problems[2].offset, 40u);
}

}  // namespace
