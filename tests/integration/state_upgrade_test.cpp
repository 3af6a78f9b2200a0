// The state database across versions, through the real binary (issue 12, "Upgrade"): databases
// written by crisisd before schema versions and at schema version 3 (tests/data/state/
// v1_state.sql and v3_state.sql, made by make_state.sh with those binaries) are read by today's
// — incidents, silences, cursors, detector snapshots and actions intact — and a database from a newer crisisd or a damaged file is
// refused with its own exit code and left byte for byte as it was.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "child_process.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::write_admin_tokens;

namespace {

constexpr int exit_state_refused = 65;      // app/cli.hpp
constexpr int exit_state_unavailable = 75;  // app/cli.hpp

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void sql(const std::filesystem::path& db, const std::string& text) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, text.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
}

std::int64_t scalar(const std::filesystem::path& db, const char* query) {
    sqlite3* raw = nullptr;
    sqlite3_open(db.c_str(), &raw);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, query, -1, &s, nullptr);
    sqlite3_step(s);
    const auto v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(raw);
    return v;
}

int user_version(const std::filesystem::path& db) {
    sqlite3* raw = nullptr;
    sqlite3_open(db.c_str(), &raw);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &s, nullptr);
    sqlite3_step(s);
    const int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(raw);
    return v;
}

class state_upgrade : public ::testing::Test {
protected:
    std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                 ("crisisd-state-upgrade-" + std::to_string(::getpid()) + "-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::path db_ = dir_ / "state.db";
    std::filesystem::path config_ = dir_ / "crisisd.yaml";

    void SetUp() override {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        const auto tokens = write_admin_tokens(dir_);
        // The fixture's rules, unchanged (their detector snapshots must still fit), fed by a
        // Jetstream source with nowhere to connect: only its saved cursor matters here.
        std::ofstream(config_) << R"(
sources:
  - { name: bsky, type: websocket, format: jetstream, url: "ws://127.0.0.1:9/subscribe" }
rules:
  - name: isp-outage
    match: { keywords: [liwest] }
    window: 5m
    fire_when: { all: [negative_count >= 10, unique_authors >= 8] }
    clear_when: { all: [negative_count < 2], for: 5m }
    severity: critical
    playbook: page
  - name: magenta-tv
    match: { keywords: [magenta] }
    window: 5m
    fire_when: { all: [negative_count >= 10, unique_authors >= 8] }
    clear_when: { all: [negative_count < 2], for: 5m }
    playbook: page
channels:
  - { name: oncall, type: log }
playbooks:
  - name: page
    steps:
      - notify: [oncall]
    on_resolve:
      - notify: [oncall]
admin: { listen: "127.0.0.1:0", tokens_file: ")" << tokens.string() << R"(" }
storage: { path: ")" << db_.string() << R"(", resolved_grace: 3650d, retention: 3650d }
)";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::vector<std::string> run_argv() const { return {CRISISD_BINARY, "run", "--config", config_.string()}; }
    void read_intact(const char* fixture, int from_version, const std::vector<std::string>& migrations);
};

// Starts today's crisisd on a committed fixture (both hold the same story, see make_state.sh)
// and checks that everything in it came through: incidents with their history and steps,
// the silence, the Jetstream cursor, both detector snapshots, the actions and the counter.
void state_upgrade::read_intact(const char* fixture, int from_version, const std::vector<std::string>& migrations) {
    sql(db_, read_file(std::filesystem::path(CRISISD_TEST_DATA) / "state" / fixture));
    ASSERT_EQ(user_version(db_), from_version);

    child_process d(run_argv());
    auto port = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
    ASSERT_TRUE(port) << d.stderr_text();
    const auto admin = static_cast<std::uint16_t>(std::stoi(*port));
    const auto log = d.stderr_text();
    for (const auto& m : migrations) EXPECT_NE(log.find(m), std::string::npos) << m << "\n" << log;
    EXPECT_EQ(log.find("created a new state database"), std::string::npos) << log;
    EXPECT_NE(log.find("restored detector state of 2 rule(s)"), std::string::npos) << log;
    EXPECT_NE(log.find("restored silence of isp-outage/liwest until 2100-01-01T00:00:00Z"), std::string::npos) << log;
    EXPECT_NE(log.find("source bsky: resuming after time_us 1764756000123456"), std::string::npos) << log;
    EXPECT_NE(log.find("restored 1 open incident(s)"), std::string::npos) << log;

    auto doc = boost::json::parse(admin_get(admin, "/api/v1/incidents"));
    const auto& incidents = doc.at("incidents").as_array();
    ASSERT_EQ(incidents.size(), 2u) << doc;
    std::map<std::int64_t, const boost::json::object*> by_id;
    for (const auto& i : incidents) by_id[i.at("id").to_number<std::int64_t>()] = &i.as_object();
    ASSERT_TRUE(by_id.count(1) && by_id.count(2)) << doc;
    EXPECT_EQ(by_id[1]->at("rule").as_string(), "isp-outage");
    EXPECT_EQ(by_id[1]->at("state").as_string(), "open");
    EXPECT_EQ(by_id[2]->at("rule").as_string(), "magenta-tv");
    EXPECT_EQ(by_id[2]->at("state").as_string(), "resolved");
    const auto two = admin_get(admin, "/api/v1/incidents/2");
    EXPECT_NE(two.find("Anna Berger"), std::string::npos) << "the history keeps who resolved it: " << two;
    // Steps already taken stay taken: their notifications are not emitted a second time.
    EXPECT_NE(two.find(R"("phase":"resolve","kind":"notify","state":"emitted")"), std::string::npos) << two;

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(15s), 0) << d.stderr_text();
    EXPECT_EQ(user_version(db_), 5);  // migrated through 2 and 3 (the feed tables), 4 (channel tokens) and 5 (silences, cursors)
    // The three actions are still there, still sent, and nothing was added to them.
    EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM actions"), 3);
    EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM actions WHERE state = 'sent'"), 3);
    EXPECT_EQ(scalar(db_, "SELECT value FROM meta WHERE key = 'next_incident_id'"), 3);
    // Silences and cursors live in their own tables now (schema version 5), not in meta.
    EXPECT_EQ(scalar(db_, "SELECT until_us FROM silences WHERE rule = 'isp-outage' AND key = 'liwest'"), 4102444800000000);
    EXPECT_EQ(scalar(db_, "SELECT position FROM cursors WHERE source = 'bsky'"), 1764756000123456);
    EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM meta WHERE key LIKE 'silence/%' OR key LIKE 'jetstream_cursor:%'"), 0);
}

TEST_F(state_upgrade, a_database_from_before_schema_versions_is_read_intact) {
    read_intact("v1_state.sql", 0,
                {"migrated to schema version 2", "migrated to schema version 3", "migrated to schema version 4",
                 "migrated to schema version 5"});
}

// Made by the crisisd of dc75cb8 (schema version 3), whose silences and cursors were meta rows.
TEST_F(state_upgrade, a_version_3_database_is_read_intact) {
    read_intact("v3_state.sql", 3, {"migrated to schema version 4", "migrated to schema version 5 (1 silence(s) and 1 cursor(s) moved out of meta"});
}

// storage.retention: at start (and every quarter of the retention) incidents resolved longer ago
// leave the database with their actions; resolved_grace: start-up reads only the live ones. The
// fixture's incident 2 is made to have been resolved two days ago, whenever the test runs; the
// retention here is an hour.
TEST_F(state_upgrade, resolved_incidents_past_retention_leave_the_database_at_start) {
    sql(db_, read_file(std::filesystem::path(CRISISD_TEST_DATA) / "state" / "v1_state.sql"));
    const auto two_days_ago = std::chrono::duration_cast<std::chrono::microseconds>(
                                  (std::chrono::system_clock::now() - std::chrono::hours(48)).time_since_epoch())
                                  .count();
    sql(db_, "UPDATE incidents SET snapshot = replace(snapshot, '1796411581540881', '" + std::to_string(two_days_ago) +
                 "') WHERE id = 2");
    std::string yaml = read_file(config_);
    yaml.replace(yaml.find("resolved_grace: 3650d, retention: 3650d"), 39, "resolved_grace: 1h, retention: 1h");
    std::ofstream(config_) << yaml;

    child_process d(run_argv());
    auto port = d.wait_for_stderr(R"(console on http://127\.0\.0\.1:(\d+)/)", 20s);
    ASSERT_TRUE(port) << d.stderr_text();
    EXPECT_NE(d.stderr_text().find("1 incident(s) resolved over 1h ago left it, with 2 action(s)"), std::string::npos)
        << d.stderr_text();
    const auto admin = static_cast<std::uint16_t>(std::stoi(*port));
    auto doc = boost::json::parse(admin_get(admin, "/api/v1/incidents"));
    ASSERT_EQ(doc.at("incidents").as_array().size(), 1u) << doc;
    EXPECT_EQ(doc.at("incidents").as_array()[0].at("id").to_number<std::int64_t>(), 1);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(15s), 0) << d.stderr_text();
    EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM incidents"), 1);
    EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM actions"), 1);
    EXPECT_EQ(scalar(db_, "SELECT value FROM meta WHERE key = 'next_incident_id'"), 3) << "numbers are not reused";
}

TEST_F(state_upgrade, a_database_from_a_newer_crisisd_is_refused_untouched) {
    sql(db_, read_file(std::filesystem::path(CRISISD_TEST_DATA) / "state" / "v1_state.sql"));
    sql(db_, "PRAGMA user_version = 99");
    const auto before = read_file(db_);

    child_process d(run_argv());
    EXPECT_EQ(d.wait_exit(15s), exit_state_refused) << d.stderr_text();
    const auto err = d.stderr_text();
    EXPECT_NE(err.find("state database " + db_.string() + " was written by a newer crisisd (schema version 99"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("run the newer crisisd"), std::string::npos) << err;
    EXPECT_EQ(read_file(db_), before) << "the file is left as it was";
}

TEST_F(state_upgrade, a_file_of_random_bytes_is_refused_untouched) {
    {
        std::ofstream out(db_, std::ios::binary);
        std::uint32_t x = 2463534242u;
        for (int i = 0; i < 65536; ++i) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.put(static_cast<char>(x & 0xff));
        }
    }
    const auto before = read_file(db_);
    child_process d(run_argv());
    EXPECT_EQ(d.wait_exit(15s), exit_state_refused) << d.stderr_text();
    const auto err = d.stderr_text();
    EXPECT_NE(err.find(db_.string() + " is not a SQLite database"), std::string::npos) << err;
    EXPECT_NE(err.find("Restore the file from a backup"), std::string::npos) << err;
    EXPECT_EQ(read_file(db_), before);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "state.db-wal"));
}

TEST_F(state_upgrade, a_truncated_database_is_refused_untouched) {
    sql(db_, read_file(std::filesystem::path(CRISISD_TEST_DATA) / "state" / "v1_state.sql"));
    // Enough pages that half of the file cuts tables off.
    std::string rows;
    for (int i = 0; i < 300; ++i)
        rows += "INSERT INTO audit(at_us, who, address, action, target, outcome) VALUES(" + std::to_string(i) +
                ", 'x', '', 'ack', '" + std::string(500, 'a') + "', 'done');";
    sql(db_, rows);
    std::filesystem::resize_file(db_, std::filesystem::file_size(db_) / 2);
    const auto before = read_file(db_);
    child_process d(run_argv());
    EXPECT_EQ(d.wait_exit(15s), exit_state_refused) << d.stderr_text();
    const auto err = d.stderr_text();
    EXPECT_NE(err.find(db_.string() + " is damaged"), std::string::npos) << err;
    EXPECT_EQ(read_file(db_), before);
}

// Out of reach is not the same as refused: systemd restarts 75, never 65 or 78.
TEST_F(state_upgrade, a_database_out_of_reach_exits_75) {
    std::string yaml = read_file(config_);
    const auto at = yaml.find(db_.string());
    yaml.replace(at, db_.string().size(), "/proc/crisisd-no-such-dir/state.db");
    std::ofstream(config_) << yaml;
    child_process d(run_argv());
    EXPECT_EQ(d.wait_exit(15s), exit_state_unavailable) << d.stderr_text();
    EXPECT_NE(d.stderr_text().find("cannot open state database /proc/crisisd-no-such-dir/state.db"), std::string::npos)
        << d.stderr_text();
}

}  // namespace
