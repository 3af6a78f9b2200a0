// The state database as a whole: schema versions and migrations, what open() refuses (and
// leaves untouched), start-up reading only live incidents, and the retention sweep.
#include "state/database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "unit/state/temp_db.hpp"

namespace crisisd::state {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};

using crisisd::testing::open_ok;
using crisisd::testing::temp_db;

open_error open_fails(const std::string& path) {
    auto r = database::open(path);
    if (!std::holds_alternative<open_error>(r)) {
        ADD_FAILURE() << "opened " << path;
        return {};
    }
    return std::get<open_error>(r);
}

void sql(const std::string& path, const char* text) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, text, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
}

int user_version(const std::string& path) {
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr);
    sqlite3_step(s);
    const int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(raw);
    return v;
}

std::string bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

incident::incident resolved(std::uint64_t id, core::timestamp at) {
    incident::incident inc;
    inc.id = id;
    inc.rule = "isp-outage";
    inc.opened_at = at - 1h;
    inc.state = incident::incident_state::resolved;
    inc.resolved_at = at;
    return inc;
}

incident::incident open_incident(std::uint64_t id, core::timestamp at) {
    incident::incident inc;
    inc.id = id;
    inc.rule = "isp-outage";
    inc.opened_at = at;
    return inc;
}

TEST(state_database, a_new_database_has_the_current_schema_version) {
    temp_db tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_TRUE(db->created());
    db.reset();
    EXPECT_EQ(user_version(tmp.path()), schema_version);
}

// What crisisd wrote before schema versions: user_version 0, incidents without resolved_us.
TEST(state_database, an_unversioned_database_is_migrated_and_keeps_its_incidents) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        db->incidents().save(resolved(1, t0));
        db->incidents().save(open_incident(2, t0));
    }
    sql(tmp.path(), "DROP INDEX incidents_resolved; ALTER TABLE incidents DROP COLUMN resolved_us; PRAGMA user_version = 0");
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    EXPECT_FALSE(db->created());
    // resolved_us was filled from the snapshots: the resolved one is live only within the grace.
    EXPECT_EQ(db->incidents().live(t0 - 1h).incidents.size(), 2u);
    auto later = db->incidents().live(t0 + 1h).incidents;
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].id, 2u);
    db.reset();
    EXPECT_EQ(user_version(tmp.path()), schema_version);
}

std::int64_t count_of(const std::string& path, const char* query) {
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, query, -1, &s, nullptr);
    sqlite3_step(s);
    const auto v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(raw);
    return v;
}

// Schema 3 kept silences and cursors as meta rows; migration 4 moves them into their tables,
// readable rows exactly, and leaves nothing of them behind but a silence it could not read.
TEST(state_database, version_3_silences_and_cursors_move_out_of_meta) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        db->counter().save_next_incident_id(7);
    }
    sql(tmp.path(), R"(
        DROP TABLE silences; DROP TABLE cursors;
        INSERT INTO meta VALUES('silence/isp-outage/liwest', '4102444800000000 Anna Berger');
        INSERT INTO meta VALUES('silence/magenta-tv/', '4102444800000001 Ben');
        INSERT INTO meta VALUES('silence/isp-outage/a/b c', '4102444800000002 Carla Dorn');
        INSERT INTO meta VALUES('silence/broken', 'no time here');
        INSERT INTO meta VALUES('jetstream_cursor:bsky', '1764756000123456');
        INSERT INTO meta VALUES('jetstream_cursor:odd', 'yesterday');
        PRAGMA user_version = 3;
    )");
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    const auto now = core::timestamp{core::duration{1764756000000000}};
    auto running = db->silences().running(now);
    ASSERT_EQ(running.size(), 3u);
    EXPECT_EQ(running[0].rule, "isp-outage");
    EXPECT_EQ(running[0].key, "a/b c");  // a key may hold '/' and spaces
    EXPECT_EQ(running[0].who, "Carla Dorn");
    EXPECT_EQ(running[1].key, "liwest");
    EXPECT_EQ(running[1].who, "Anna Berger");
    EXPECT_EQ(running[1].until, core::timestamp{core::duration{4102444800000000}});
    EXPECT_EQ(running[2].rule, "magenta-tv");
    EXPECT_EQ(running[2].key, "");
    auto bsky = db->cursors().load("bsky");
    EXPECT_TRUE(bsky.found);
    EXPECT_EQ(bsky.position, 1764756000123456);
    auto odd = db->cursors().load("odd");
    EXPECT_TRUE(odd.found);
    EXPECT_FALSE(odd.position.has_value()) << "found but unreadable, as before";
    EXPECT_FALSE(db->cursors().load("none").found);
    EXPECT_EQ(db->counter().next_incident_id().id, 7u) << "other meta rows stay";
    db.reset();
    EXPECT_EQ(user_version(tmp.path()), schema_version);
    EXPECT_EQ(count_of(tmp.path(), "SELECT COUNT(*) FROM meta WHERE key LIKE 'jetstream_cursor:%'"), 0);
    EXPECT_EQ(count_of(tmp.path(), "SELECT COUNT(*) FROM meta WHERE key LIKE 'silence/%'"), 1)
        << "only the unreadable silence stays in meta";
}

TEST(state_database, a_version_5_database_without_its_silences_table_is_refused) {
    temp_db tmp;
    open_ok(tmp.path());
    sql(tmp.path(), "DROP TABLE silences");
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused);
    EXPECT_NE(e.message.find("misses the silences and cursors tables"), std::string::npos) << e.message;
}

TEST(state_database, a_database_from_a_newer_crisisd_is_refused_and_left_alone) {
    temp_db tmp;
    open_ok(tmp.path());
    sql(tmp.path(), "PRAGMA user_version = 99");
    const auto before = bytes_of(tmp.path());
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused);
    EXPECT_NE(e.message.find(tmp.path()), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("newer crisisd"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("schema version 99"), std::string::npos) << e.message;
    EXPECT_EQ(bytes_of(tmp.path()), before);
}

TEST(state_database, a_file_that_is_not_a_database_is_refused_and_left_alone) {
    temp_db tmp;
    {
        std::ofstream out(tmp.path(), std::ios::binary);
        for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
    }
    const auto before = bytes_of(tmp.path());
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused);
    EXPECT_NE(e.message.find("not a SQLite database"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("move it aside"), std::string::npos) << e.message;
    EXPECT_EQ(bytes_of(tmp.path()), before);
}

TEST(state_database, a_truncated_database_is_refused_and_left_alone) {
    temp_db tmp;
    {
        auto db = open_ok(tmp.path());
        ASSERT_TRUE(db);
        db->begin();
        for (int i = 0; i < 400; ++i)
            db->actions().enqueue("k" + std::to_string(i), 1, "pager", "notify", std::string(2000, 'p'), t0);
        db->commit();
    }
    // Fold the log into the file, then cut the file in half.
    sql(tmp.path(), "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE");
    std::filesystem::resize_file(tmp.path(), std::filesystem::file_size(tmp.path()) / 2);
    const auto before = bytes_of(tmp.path());
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused) << e.message;
    EXPECT_NE(e.message.find("damaged"), std::string::npos) << e.message;
    EXPECT_EQ(bytes_of(tmp.path()), before);
}

TEST(state_database, another_programs_database_is_refused) {
    temp_db tmp;
    sql(tmp.path(), "CREATE TABLE songs(title TEXT)");
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused);
    EXPECT_NE(e.message.find("not a crisisd state database"), std::string::npos) << e.message;
}

TEST(state_database, a_versioned_database_missing_a_table_is_refused) {
    temp_db tmp;
    open_ok(tmp.path());
    sql(tmp.path(), "DROP TABLE audit");
    auto e = open_fails(tmp.path());
    EXPECT_EQ(e.kind, open_failure::refused);
    EXPECT_NE(e.message.find("misses table(s) audit"), std::string::npos) << e.message;
}

TEST(state_database, a_directory_that_cannot_be_made_is_unavailable_not_refused) {
    auto e = open_fails("/proc/crisisd-cannot-exist/state.db");
    EXPECT_EQ(e.kind, open_failure::unavailable);
    EXPECT_NE(e.message.find("/proc/crisisd-cannot-exist/state.db"), std::string::npos) << e.message;
}

TEST(state_database, retention_drops_old_resolved_incidents_with_their_finished_actions) {
    temp_db tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    const auto now = t0 + 24h * 100;
    db->incidents().save(resolved(1, t0));               // 100 days ago: goes
    db->incidents().save(resolved(2, t0));               // 100 days ago, an action still pending: stays
    db->incidents().save(resolved(3, now - 24h * 10));  // 10 days ago: stays
    db->incidents().save(open_incident(4, t0));          // open for 100 days: stays
    db->actions().enqueue("1/open/0/pager", 1, "pager", "notify", "{}", t0);
    db->actions().mark_sent(db->actions().find("1/open/0/pager")->seq, t0);
    db->actions().enqueue("1/resolved/pager", 1, "pager", "notify", "{}", t0);
    db->actions().mark_dead(db->actions().find("1/resolved/pager")->seq, t0, "HTTP 410");
    db->actions().enqueue("2/open/0/pager", 2, "other", "notify", "{}", t0);
    db->counter().save_next_incident_id(5);
    db->silences().save({"isp-outage", "", "Anna", now - 1h});
    db->silences().save({"isp-outage", "liwest", "Anna", now + 1h});

    const auto gone = db->sweep(now, 24h * 90);
    EXPECT_EQ(gone.incidents, 1u);
    EXPECT_EQ(gone.actions, 2u);
    EXPECT_EQ(gone.silences, 1u);
    EXPECT_EQ(db->incidents().count(), 3u);
    EXPECT_TRUE(db->actions().for_incident(1).empty());
    EXPECT_EQ(db->actions().for_incident(2).size(), 1u);
    EXPECT_EQ(db->counter().next_incident_id().id, 5u) << "numbers that left stay used";
    EXPECT_EQ(db->silences().running(now).size(), 1u);
}

// The file stays flat: a year of incidents opening and leaving does not grow it past what the
// retention window holds.
TEST(state_database, a_year_of_incidents_keeps_the_file_flat) {
    temp_db tmp;
    auto db = open_ok(tmp.path());
    ASSERT_TRUE(db);
    const std::string payload(1500, 'p');
    std::uintmax_t size_at_day_100 = 0;
    std::uint64_t id = 0;
    for (int day = 0; day < 365; ++day) {
        const auto now = t0 + 24h * day;
        db->begin();
        for (int i = 0; i < 20; ++i) {
            ++id;
            db->incidents().save(resolved(id, now));
            const auto key = std::to_string(id) + "/open/0/pager";
            db->actions().enqueue(key, id, "pager", "notify", payload, now);
            db->actions().mark_sent(db->actions().find(key)->seq, now);
        }
        db->commit();
        db->sweep(now, 24h * 30);
        if (day == 100) size_at_day_100 = std::filesystem::file_size(tmp.path());
    }
    EXPECT_LE(db->incidents().count(), 31u * 20u);
    const auto size_at_end = std::filesystem::file_size(tmp.path());
    EXPECT_LE(size_at_end, size_at_day_100 + size_at_day_100 / 10) << size_at_day_100 << " → " << size_at_end;
}

}  // namespace
}  // namespace crisisd::state
