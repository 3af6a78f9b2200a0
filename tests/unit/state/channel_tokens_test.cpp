// The channel_tokens table (state/channel_tokens.hpp): a token replaced in place survives a
// reopen, per channel; a version 3 database gains the table by migration.
#include "state/channel_tokens.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "state/database.hpp"

namespace crisisd::state {
namespace {

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 5}};

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("crisisd-tokens-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    temp_db() {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~temp_db() { std::filesystem::remove_all(dir); }
    std::string path() const { return (dir / "state.db").string(); }
};

std::unique_ptr<database> open_ok(const std::string& path) {
    auto r = database::open(path);
    if (auto* e = std::get_if<open_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<database>>(r));
}

TEST(channel_tokens, the_latest_token_of_each_channel_survives_a_reopen) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        auto& t = db->channel_tokens();
        EXPECT_FALSE(t.find("brand-x"));
        EXPECT_TRUE(t.put("brand-x", "rt-1", "origin-a", t0));
        EXPECT_TRUE(t.put("brand-x", "rt-2", "origin-a", t0 + std::chrono::hours(2)));
        EXPECT_TRUE(t.put("other-x", "rt-9", "origin-b", t0));
    }
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    auto row = db->channel_tokens().find("brand-x");
    ASSERT_TRUE(row);
    EXPECT_EQ(row->token, "rt-2");
    EXPECT_EQ(row->origin, "origin-a");
    EXPECT_EQ(row->updated, t0 + std::chrono::hours(2));
    EXPECT_EQ(db->channel_tokens().find("other-x")->token, "rt-9");
}

TEST(channel_tokens, a_version_3_database_gains_the_table) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
    }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "DROP TABLE channel_tokens; PRAGMA user_version = 3", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_TRUE(db->channel_tokens().put("brand-x", "rt-1", "origin-a", t0));
}

}  // namespace
}  // namespace crisisd::state
