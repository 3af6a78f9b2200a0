#pragma once
// What the state database tests share: a state database of the test's own (a folder under the
// temporary directory named for the process and the running test, so tests run side by side,
// emptied before and removed after the test) and open_ok, which opens a database there and
// records why when it cannot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "state/database.hpp"

namespace crisisd::testing {

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("crisisd-state-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    temp_db() {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    temp_db(const temp_db&) = delete;
    temp_db& operator=(const temp_db&) = delete;
    ~temp_db() { std::filesystem::remove_all(dir); }
    std::string path() const { return (dir / "state.db").string(); }
};

// The database at `path`; null (and a test failure saying why) when it does not open.
inline std::unique_ptr<state::database> open_ok(const std::string& path) {
    auto r = state::database::open(path);
    if (auto* e = std::get_if<state::open_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<state::database>>(r));
}

}  // namespace crisisd::testing
