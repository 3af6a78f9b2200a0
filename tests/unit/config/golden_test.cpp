// Golden tests: every tests/data/config/bad/NAME.yaml is loaded and its diagnostics must equal
// NAME.expected line for line. File names are printed relative to tests/data/config so the
// expectations do not depend on where the checkout lives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "support.hpp"

namespace {

using crisisd::config::testing::read;

namespace fs = std::filesystem;

const fs::path data_dir = fs::path(CRISISD_TEST_DATA) / "config";

std::vector<std::string> bad_cases() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(data_dir / "bad")) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
            names.push_back(entry.path().stem().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string relative_to_data(std::string text) {
    const std::string prefix = data_dir.string() + "/";
    for (std::size_t at; (at = text.find(prefix)) != std::string::npos;) text.erase(at, prefix.size());
    return text;
}

class golden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        ::unsetenv("CRISISD_TEST_UNSET_VARIABLE");
        ::unsetenv("CRISISD_TEST_UNSET_URL");
        ::unsetenv("TZDIR");  // messages name /usr/share/zoneinfo
    }
};

TEST_P(golden, diagnostics_match_expected_file) {
    const fs::path yaml = data_dir / "bad" / (GetParam() + ".yaml");
    const fs::path expected = data_dir / "bad" / (GetParam() + ".expected");
    ASSERT_TRUE(fs::exists(expected)) << "missing " << expected;

    const auto result = crisisd::config::load_file(yaml);
    std::string actual;
    for (const auto& d : result.errors) actual += relative_to_data(d.to_string()) + "\n";

    EXPECT_FALSE(result.ok());
    EXPECT_EQ(actual, read(expected));
}

INSTANTIATE_TEST_SUITE_P(bad_config, golden, ::testing::ValuesIn(bad_cases()),
                         [](const auto& test) { return test.param; });

}  // namespace
