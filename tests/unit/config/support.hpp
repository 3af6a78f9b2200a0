#pragma once
// Helpers the config tests share: every problem of a load as text, a scratch directory for
// configs split over files, and small string tools for building and reading YAML.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace crisisd::config::testing {

namespace fs = std::filesystem;

inline std::string all_errors(const load_result& r) {
    std::string out;
    for (const auto& d : r.errors) out += d.to_string() + "\n";
    return out;
}

inline std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

inline std::string times(std::string_view s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

// A playbook of a loaded configuration by name (throws when there is none, failing the test).
inline const incident::playbook_settings& playbook(const load_result& r, const std::string& name) {
    for (const auto& p : r.config.playbooks)
        if (p.name == name) return p;
    throw std::runtime_error("no playbook " + name);
}

// A fresh directory per test (named after the suite and the test) for configs that need files
// around them; removed again afterwards.
class scratch {
public:
    scratch() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::path(::testing::TempDir()) /
               ("crisisd_config_" + std::string(info->test_suite_name()) + "_" + std::string(info->name()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~scratch() { fs::remove_all(dir_); }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;

    fs::path write(const std::string& name, const std::string& text) const {
        fs::path p = dir_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    const fs::path& dir() const { return dir_; }

private:
    fs::path dir_;
};

}  // namespace crisisd::config::testing
