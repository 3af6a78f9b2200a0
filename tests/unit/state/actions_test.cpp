#include "state/database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <thread>

using namespace crisisd;
using namespace std::chrono_literals;

namespace {

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("crisisd-outbox-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    temp_db() { std::filesystem::remove_all(dir); }
    ~temp_db() { std::filesystem::remove_all(dir); }
    std::string path() const { return (dir / "state.db").string(); }
};

std::unique_ptr<state::database> open(const std::string& path) {
    auto r = state::database::open(path);
    if (auto* e = std::get_if<state::open_error>(&r)) {
        ADD_FAILURE() << e->message;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<state::database>>(r));
}

const core::timestamp t0 = core::timestamp{} + std::chrono::hours(24 * 20000);

}  // namespace

TEST(action_store, refuses_a_second_copy_of_the_same_action) {
    temp_db tmp;
    auto s = open(tmp.path());
    using result = state::action_store::enqueue_result;
    EXPECT_EQ(s->actions().enqueue("1/open/0/pager", 1, "pager", "notify", "{}", t0), result::queued);
    EXPECT_EQ(s->actions().enqueue("1/open/0/pager", 1, "pager", "notify", "{\"other\":1}", t0), result::duplicate);
    EXPECT_EQ(s->actions().count(state::record_state::pending), 1u);
}

TEST(action_store, survives_reopening) {
    temp_db tmp;
    {
        auto s = open(tmp.path());
        s->actions().enqueue("k1", 7, "pager", "notify", R"({"a":1})", t0);
        s->counter().save_next_incident_id(8);
    }
    auto s = open(tmp.path());
    auto r = s->actions().find("k1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->incident_id, 7u);
    EXPECT_EQ(r->payload, R"({"a":1})");
    EXPECT_EQ(s->counter().next_incident_id().id, 8u);
    EXPECT_EQ(s->actions().enqueue("k1", 7, "pager", "notify", "{}", t0), state::action_store::enqueue_result::duplicate);
}

TEST(action_store, delivers_one_at_a_time_per_channel_in_order) {
    temp_db tmp;
    auto s = open(tmp.path());
    s->actions().enqueue("a1", 1, "a", "notify", "{}", t0);
    s->actions().enqueue("a2", 1, "a", "notify", "{}", t0);
    s->actions().enqueue("b1", 1, "b", "notify", "{}", t0);
    auto due = s->actions().due(t0);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].key, "a1");
    EXPECT_EQ(due[1].key, "b1");
    // a1 fails and waits: a2 must not overtake it.
    s->actions().mark_retry(due[0].seq, t0 + 10s, "HTTP 500");
    s->actions().mark_sent(due[1].seq, t0);
    EXPECT_TRUE(s->actions().due(t0 + 5s).empty());
    EXPECT_EQ(s->actions().next_attempt(), t0 + 10s);
    auto later = s->actions().due(t0 + 10s);
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].key, "a1");
    EXPECT_EQ(later[0].attempts, 1);
    EXPECT_EQ(later[0].last_error, "HTTP 500");
    s->actions().mark_sent(later[0].seq, t0 + 10s);
    auto last = s->actions().due(t0 + 10s);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0].key, "a2");
}

TEST(action_store, dead_letters_leave_the_queue_but_stay_visible) {
    temp_db tmp;
    auto s = open(tmp.path());
    s->actions().enqueue("x", 3, "a", "statement", "{}", t0);
    auto due = s->actions().due(t0);
    s->actions().mark_dead(due[0].seq, t0, "HTTP 422");
    EXPECT_TRUE(s->actions().due(t0 + 1h).empty());
    EXPECT_EQ(s->actions().count(state::record_state::dead), 1u);
    auto recs = s->actions().for_incident(3);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].state, state::record_state::dead);
    EXPECT_EQ(recs[0].last_error, "HTTP 422");
}

TEST(action_store, reports_an_unwritable_path) {
    auto r = state::database::open("/proc/crisisd-cannot-exist/state.db");
    ASSERT_TRUE(std::holds_alternative<state::open_error>(r));
    const auto& e = std::get<state::open_error>(r);
    EXPECT_NE(e.message.find("/proc/crisisd-cannot-exist/state.db"), std::string::npos);
    EXPECT_EQ(e.kind, state::open_failure::unavailable) << "out of reach is worth a retry, not a refusal";
}

TEST(action_store, the_write_ahead_log_is_checkpointed_off_the_committing_thread_and_starts_over) {
    // Every commit fsyncs the log; one that only overwrites blocks the log file already has is
    // far cheaper than one that grows it. After a burst, the background checkpoint must let the
    // next commit start the log from its beginning, and the file must not keep growing.
    temp_db tmp;
    auto s = open(tmp.path());
    const std::string payload(3000, 'p');  // one page per action at least
    std::uintmax_t high_water = 0;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 40; ++i)
            ASSERT_EQ(s->actions().enqueue("r" + std::to_string(round) + "/" + std::to_string(i), 1, "pager", "notify", payload, t0),
                      state::action_store::enqueue_result::queued);
        const int burst = s->log_frames();
        EXPECT_GE(burst, 40) << "the burst's frames are in the log";
        // A checkpoint that began during the burst may end after it without the burst's last
        // frames; the one the last commit asked for follows. So: after each full checkpoint, one
        // commit; the log must start over within a few of them (each commit asks for another).
        bool started_over = false;
        for (int attempt = 0; attempt < 5 && !started_over; ++attempt) {
            const auto done = s->full_checkpoints();
            for (int wait = 0; wait < 500 && s->full_checkpoints() == done; ++wait) std::this_thread::sleep_for(10ms);
            ASSERT_GT(s->full_checkpoints(), done) << "no background checkpoint within 5 s";
            s->actions().mark_sent(1, t0);
            started_over = s->log_frames() < 10;
        }
        EXPECT_TRUE(started_over) << "round " << round << ": the log never started over";
        const auto size = std::filesystem::file_size(tmp.dir / "state.db-wal");
        if (round == 0) high_water = size;
        EXPECT_LE(size, high_water) << "round " << round << ": the log file grew again";
    }
}

TEST(action_store, keeps_the_log_file_across_a_restart) {
    temp_db tmp;
    {
        auto s = open(tmp.path());
        for (int i = 0; i < 20; ++i) s->actions().enqueue("k" + std::to_string(i), 1, "pager", "notify", std::string(3000, 'p'), t0);
    }
    // Its blocks stay allocated, so the first commits after a restart overwrite them too.
    ASSERT_TRUE(std::filesystem::exists(tmp.dir / "state.db-wal"));
    EXPECT_GT(std::filesystem::file_size(tmp.dir / "state.db-wal"), 20u * 4096);
    auto s = open(tmp.path());
    EXPECT_EQ(s->actions().count(state::record_state::pending), 20u);
}

TEST(action_store, a_write_the_disk_refuses_is_reported_and_its_transaction_kept_nowhere) {
    // A real refusal from the kernel: with a file size limit below where SQLite writes, every
    // write fails with EFBIG (SIGXFSZ ignored, as the daemon does). This test runs in its own
    // process (gtest_discover_tests), so the limit touches nothing else.
    temp_db tmp;
    auto s = open(tmp.path());
    ASSERT_EQ(s->actions().enqueue("before", 1, "pager", "notify", "{}", t0), state::action_store::enqueue_result::queued);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);

    ASSERT_TRUE(s->begin());
    EXPECT_EQ(s->actions().enqueue("2/open/0/pager", 2, "pager", "notify", std::string(8000, 'p'), t0),
              state::action_store::enqueue_result::queued) << "inside a transaction the insert only touches the cache";
    incident::incident big;
    big.id = 2;
    big.key = std::string(8000, 'i');
    s->incidents().save(big);
    EXPECT_FALSE(s->commit()) << "the commit must fail when its pages cannot be written";
    EXPECT_FALSE(s->last_error().empty());
    EXPECT_EQ(s->actions().enqueue("3/open/0/pager", 3, "pager", "notify", std::string(8000, 'p'), t0),
              state::action_store::enqueue_result::failed) << "a write outside a transaction fails at once";
    EXPECT_FALSE(s->actions().mark_sent(1, t0));

    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    // Nothing of the failed transaction was kept, and the store works again.
    EXPECT_FALSE(s->actions().find("2/open/0/pager"));
    EXPECT_EQ(s->incidents().count(), 0u);
    EXPECT_EQ(s->actions().enqueue("2/open/0/pager", 2, "pager", "notify", "{}", t0), state::action_store::enqueue_result::queued);
    EXPECT_TRUE(s->actions().mark_sent(1, t0));
    EXPECT_EQ(s->actions().count(state::record_state::pending), 1u);
}

// The instance id is made with the database and kept in it; a database created again is
// another instance.
TEST(action_store, an_instance_id_is_made_with_the_database_and_kept) {
    temp_db tmp;
    std::string first;
    {
        auto db = open(tmp.path());
        EXPECT_TRUE(db->created());
        first = db->instance_id();
        EXPECT_EQ(first.size(), 32u);
        EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos) << first;
    }
    {
        auto db = open(tmp.path());
        EXPECT_FALSE(db->created());
        EXPECT_EQ(db->instance_id(), first);
    }
    std::filesystem::remove_all(tmp.dir);
    auto db = open(tmp.path());
    EXPECT_TRUE(db->created());
    EXPECT_NE(db->instance_id(), first);
}

// A database written before instance ids existed keeps the empty id once it holds actions, so
// the keys its actions were sent with do not change under them.
TEST(action_store, a_database_older_than_instance_ids_keeps_its_keys) {
    temp_db tmp;
    {
        auto db = open(tmp.path());
        ASSERT_EQ(db->actions().enqueue("1/open/0/pager", 1, "pager", "notify", "{}", t0), state::action_store::enqueue_result::queued);
    }
    {
        // What an older crisisd left: actions, no instance table, no schema version.
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &raw), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(raw, "DROP TABLE instance; PRAGMA user_version = 0", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }
    auto db = open(tmp.path());
    EXPECT_FALSE(db->created());
    EXPECT_EQ(db->instance_id(), "");
}

// Incident numbering continues above every id the outbox and the snapshots carry.
TEST(action_store, the_highest_incident_id_comes_from_actions_and_snapshots) {
    temp_db tmp;
    auto db = open(tmp.path());
    EXPECT_EQ(db->counter().highest_incident_id(), 0u);
    db->actions().enqueue("4/open/0/pager", 4, "pager", "notify", "{}", t0);
    EXPECT_EQ(db->counter().highest_incident_id(), 4u);
    incident::incident nine;
    nine.id = 9;
    db->incidents().save(nine);
    EXPECT_EQ(db->counter().highest_incident_id(), 9u);
}

// An action refused before sending is a dead letter with its reason, never sent.
TEST(action_store, a_refused_action_is_a_dead_letter_at_once) {
    temp_db tmp;
    auto db = open(tmp.path());
    ASSERT_TRUE(db->actions().record_refused("1/open/0/pager#duplicate-1", 1, "pager", "notify", "{}", t0, "not sent: duplicate"));
    EXPECT_TRUE(db->actions().due(t0 + 1h).empty());
    auto dead = db->actions().dead_letters(10);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].last_error, "not sent: duplicate");
    EXPECT_EQ(db->actions().count(state::record_state::dead), 1u);
}

// The wall clock set back an hour: a page waiting 10 s for its retry must not wait an hour and
// 10 s, a statement posted a minute ago still counts against the hourly cap, and a silence keeps
// the time it had left.
TEST(state_database, a_timeline_step_moves_retries_recent_deliveries_and_silences) {
    temp_db tmp;
    auto s = open(tmp.path());
    s->actions().enqueue("page", 1, "pager", "notify", "{}", t0);
    s->actions().enqueue("post", 1, "brand", "statement", "{}", t0);
    s->actions().enqueue("old", 1, "brand2", "statement", "{}", t0 - 5h);
    auto due = s->actions().due(t0);
    ASSERT_EQ(due.size(), 3u);
    for (const auto& r : due)
        if (r.key == "page") s->actions().mark_retry(r.seq, t0 + 10s, "HTTP 503");
        else if (r.key == "post") s->actions().mark_sent(r.seq, t0 - 1min);
        else if (r.key == "old") s->actions().mark_sent(r.seq, t0 - 5h);
    s->silences().save(state::silence{"isp-outage", "", "anna", t0 + 30min});

    ASSERT_TRUE(s->shift_times(-1h, t0));
    EXPECT_EQ(s->actions().next_attempt(), t0 + 10s - 1h);
    EXPECT_EQ(s->actions().count_sent_since("brand", "statement", t0 - 2h), 1u);
    EXPECT_EQ(s->actions().count_sent_since("brand", "statement", t0 - 1h - 1min), 1u);
    EXPECT_EQ(s->actions().count_sent_since("brand", "statement", t0 - 1h - 1min + 1us), 0u);
    EXPECT_EQ(s->actions().find("old")->done_at, t0 - 5h);  // history long past stays as it was
    auto running = s->silences().running(t0 - 1h);
    ASSERT_EQ(running.size(), 1u);
    EXPECT_EQ(running[0].until, t0 - 30min);
}
