// The feed source's memory (state/feed_items.hpp): seen ids and polled feeds survive a reopen,
// ids are per source, the oldest are forgotten past the cap; a version 2 database gains the
// tables by migration.
#include "state/feed_items.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "state/database.hpp"
#include "unit/state/temp_db.hpp"

namespace crisisd::state {
namespace {

using R = feed_item_store::remembered;
const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 4}};

using crisisd::testing::open_ok;
using crisisd::testing::temp_db;

TEST(feed_items, seen_ids_and_polled_feeds_survive_a_reopen) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        auto& f = db->feed_items();
        EXPECT_FALSE(f.polled("forum"));
        EXPECT_EQ(R::new_id, f.remember("forum", "topic-1", t0));
        EXPECT_EQ(R::seen, f.remember("forum", "topic-1", t0));
        EXPECT_EQ(R::new_id, f.remember("news", "topic-1", t0));  // ids are per source
        EXPECT_TRUE(f.mark_polled("forum", t0));
    }
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    auto& f = db->feed_items();
    EXPECT_TRUE(f.polled("forum"));
    EXPECT_FALSE(f.polled("news"));
    EXPECT_EQ(R::seen, f.remember("forum", "topic-1", t0));
    EXPECT_EQ(R::new_id, f.remember("forum", "topic-2", t0));
}

TEST(feed_items, only_the_newest_ids_are_kept_past_the_cap) {
    temp_db tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    auto& f = db->feed_items();
    for (int i = 0; i < 10; ++i) f.remember("forum", "t" + std::to_string(i), t0);
    f.remember("other", "t0", t0);
    EXPECT_EQ(f.forget_oldest("forum", 4), 6u);
    EXPECT_EQ(f.count("forum"), 4u);
    EXPECT_EQ(f.count("other"), 1u);
    EXPECT_EQ(R::seen, f.remember("forum", "t9", t0));
    EXPECT_EQ(R::new_id, f.remember("forum", "t0", t0));  // forgotten: new again
}

TEST(feed_items, a_version_2_database_gains_the_feed_tables) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
    }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "DROP TABLE feed_items; DROP TABLE feed_sources; PRAGMA user_version = 2", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_EQ(R::new_id, db->feed_items().remember("forum", "a", t0));
}

}  // namespace
}  // namespace crisisd::state
