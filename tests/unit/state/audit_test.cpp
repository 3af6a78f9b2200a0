// The admin audit log in the state database: newest first, kept across reopening, and bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "state/database.hpp"

using namespace crisisd;

namespace {

std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() /
               ("crisisd-audit-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    return dir;
}

std::unique_ptr<state::database> open(const std::string& path) {
    auto r = state::database::open(path);
    if (auto* e = std::get_if<state::open_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<state::database>>(r));
}

core::timestamp at(int s) { return core::timestamp{std::chrono::seconds(1'800'000'000 + s)}; }

}  // namespace

TEST(audit_log, lists_newest_first_and_survives_reopening) {
    auto dir = temp_dir();
    auto path = (dir / "state.db").string();
    {
        auto st = open(path);
        ASSERT_TRUE(st);
        EXPECT_TRUE(st->audit().append(at(1), "Anna Berger", "127.0.0.1", "ack", "incident 1", "done"));
        EXPECT_TRUE(st->audit().append(at(2), "-", "10.0.0.9", "sign-in", "GET /api/v1/incidents", "refused: no token"));
        EXPECT_TRUE(st->audit().append(at(3), "SIGHUP", "", "reload", "configuration", "done"));
    }
    auto st = open(path);
    ASSERT_TRUE(st);
    auto log = st->audit().newest(2);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].action, "reload");
    EXPECT_EQ(log[1].who, "-");
    EXPECT_EQ(log[1].address, "10.0.0.9");
    EXPECT_EQ(log[1].outcome, "refused: no token");
    EXPECT_EQ(log[1].at, at(2));
    EXPECT_EQ(st->audit().newest(10).size(), 3u);
    std::filesystem::remove_all(dir);
}

TEST(audit_log, keeps_only_the_newest_records) {
    auto dir = temp_dir();
    auto st = open((dir / "state.db").string());
    ASSERT_TRUE(st);
    const auto total = state::audit_log::max_records + 2000;
    ASSERT_TRUE(st->begin());
    for (std::int64_t i = 1; i <= total; ++i) st->audit().append(at(0), "x", "a", "ack", "incident " + std::to_string(i), "done");
    ASSERT_TRUE(st->commit());
    auto all = st->audit().newest(static_cast<std::size_t>(total));
    EXPECT_LE(all.size(), static_cast<std::size_t>(state::audit_log::max_records));
    EXPECT_GE(all.size(), static_cast<std::size_t>(state::audit_log::max_records - 1000));
    EXPECT_EQ(all.front().target, "incident " + std::to_string(total));
    std::filesystem::remove_all(dir);
}
