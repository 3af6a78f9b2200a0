#pragma once
// What the runtime's tests share: a state database in a temp directory of its own per test, and
// an engine holding open incidents, as a restart would restore them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "incident/engine.hpp"
#include "state/database.hpp"

namespace crisisd::runtime_test {

inline const core::timestamp t0 = core::timestamp{} + std::chrono::hours(24 * 20000);

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("crisisd-runtime-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    temp_db() { std::filesystem::remove_all(dir); }
    ~temp_db() { std::filesystem::remove_all(dir); }
    std::string path() const { return (dir / "state.db").string(); }
};

inline std::unique_ptr<state::database> open(const std::string& path) {
    auto r = state::database::open(path);
    if (auto* e = std::get_if<state::open_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<state::database>>(r));
}

// An engine holding open incidents 1..n (restored, as after a restart, with no playbook steps).
inline incident::engine engine_with(std::uint64_t n) {
    incident::engine eng(incident::engine_settings{});
    std::vector<incident::incident> saved;
    for (std::uint64_t id = 1; id <= n; ++id) {
        incident::incident inc;
        inc.id = id;
        inc.rule = "outage";
        inc.key = "k" + std::to_string(id);
        inc.opened_at = t0;
        saved.push_back(inc);
    }
    std::vector<incident::action> none;
    eng.restore(std::move(saved), incident::engine::restore_reason::restart, t0, none);
    return eng;
}

}  // namespace crisisd::runtime_test
