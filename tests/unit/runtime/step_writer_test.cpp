#include "runtime/step_writer.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <map>

#include "fakes/manual_clock.hpp"
#include "unit/runtime/support.hpp"

using namespace crisisd;
using namespace std::chrono_literals;
using crisisd::runtime_test::t0;
using crisisd::runtime_test::temp_db;
using crisisd::runtime_test::open;
using crisisd::runtime_test::engine_with;

namespace {

// What the writer reported, in order.
struct recorder final : runtime::step_writer_events {
    std::vector<std::string> queued;
    int failed = 0, duplicates = 0, changed = 0, wakes = 0;
    void write_failed() override { ++failed; }
    void duplicate_refused(const incident::action&) override { ++duplicates; }
    void action_queued(const incident::action& a) override { queued.push_back(a.idempotency_key); }
    void outbox_changed(bool wake) override {
        ++changed;
        wakes += wake ? 1 : 0;
    }
    // Pages handed out to be sent from memory, which of them "went out", and which were recorded.
    std::vector<std::string> unrecorded, recorded;
    std::map<std::string, core::timestamp> sent;
    void page_unrecorded(const runtime::pending_action& p) override { unrecorded.push_back(p.action.idempotency_key); }
    std::optional<core::timestamp> page_sent_from_memory(const incident::action& a) override {
        auto it = sent.find(a.idempotency_key);
        return it == sent.end() ? std::nullopt : std::optional(it->second);
    }
    void page_recorded(const incident::action& a) override { recorded.push_back(a.idempotency_key); }
};

runtime::pending_action page(std::uint64_t incident_id, std::string key, std::size_t payload_bytes = 2) {
    incident::action a;
    a.idempotency_key = std::move(key);
    a.incident_id = incident_id;
    a.kind = incident::action_kind::notify;
    a.channel = "pager";
    a.at = t0;
    return {a, payload_bytes == 2 ? std::string("{}") : std::string(payload_bytes, 'p')};
}

struct step_writer : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db = open(tmp.path());
    crisisd::testing::manual_clock clock{t0};
    recorder events;
    runtime::step_writer writer{*db, clock, events};
};

}  // namespace

TEST_F(step_writer, one_step_is_one_transaction_of_snapshots_actions_and_the_next_id) {
    auto eng = engine_with(2);
    std::vector<runtime::pending_action> actions;
    actions.push_back(page(1, "1/open/0/pager"));
    actions.push_back(page(2, "2/open/0/pager"));
    writer.write(eng, std::move(actions), {1, 2});

    EXPECT_EQ(events.queued, (std::vector<std::string>{"1/open/0/pager", "2/open/0/pager"}));
    EXPECT_EQ(events.wakes, 1);
    EXPECT_FALSE(writer.backlogged());
    EXPECT_EQ(db->actions().count(state::record_state::pending), 2u);
    EXPECT_EQ(db->incidents().count(), 2u);
    EXPECT_EQ(db->counter().next_incident_id().id, 3u);
}

// Group commit (issue 13): steps written while held reach the database, and are announced,
// only at the outermost release(), all in one transaction.
TEST_F(step_writer, held_steps_are_written_together_at_the_outermost_release) {
    auto eng = engine_with(3);
    writer.hold();
    writer.hold();  // holds nest: intake inside a drain
    for (std::uint64_t id = 1; id <= 3; ++id) {
        std::vector<runtime::pending_action> actions;
        actions.push_back(page(id, std::to_string(id) + "/open/0/pager"));
        writer.write(eng, std::move(actions), {id});
    }
    EXPECT_TRUE(events.queued.empty()) << "nothing is announced (so sent) before it is committed";
    EXPECT_EQ(db->actions().count(state::record_state::pending), 0u);
    writer.release(eng);
    EXPECT_TRUE(writer.holding());
    EXPECT_EQ(db->incidents().count(), 0u);
    writer.release(eng);

    EXPECT_FALSE(writer.holding());
    EXPECT_EQ(writer.group_commits(), 1u);
    EXPECT_EQ(events.queued, (std::vector<std::string>{"1/open/0/pager", "2/open/0/pager", "3/open/0/pager"}));
    EXPECT_EQ(events.wakes, 1);
    EXPECT_EQ(db->actions().count(state::record_state::pending), 3u);
    EXPECT_EQ(db->incidents().count(), 3u);
    EXPECT_EQ(db->counter().next_incident_id().id, 4u);

    writer.release(eng);  // an unmatched release is harmless
    EXPECT_EQ(writer.group_commits(), 1u);
}

TEST_F(step_writer, snapshots_alone_announce_nothing) {
    auto eng = engine_with(1);
    writer.write(eng, {}, {1});
    EXPECT_TRUE(events.queued.empty());
    EXPECT_EQ(events.changed, 0);
    EXPECT_EQ(db->incidents().count(), 1u);
}

// A key already in the outbox is never sent again: a dead letter of its own says why.
TEST_F(step_writer, a_duplicate_key_is_refused_and_recorded_as_a_dead_letter) {
    auto eng = engine_with(1);
    std::vector<runtime::pending_action> first;
    first.push_back(page(1, "1/open/0/pager"));
    writer.write(eng, std::move(first), {1});
    std::vector<runtime::pending_action> again;
    again.push_back(page(1, "1/open/0/pager"));
    writer.write(eng, std::move(again), {1});

    EXPECT_EQ(events.queued.size(), 1u);
    EXPECT_EQ(events.duplicates, 1);
    EXPECT_EQ(db->actions().count(state::record_state::pending), 1u);
    const auto dead = db->actions().dead_letters(10);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].key.rfind("1/open/0/pager#duplicate-1-", 0), 0u) << dead[0].key;
    EXPECT_NE(dead[0].last_error.find("already holds"), std::string::npos);
}

// The disk fills (RLIMIT_FSIZE, as in state's tests): nothing is dropped or sent; the kept
// step and the next one are written, in order, once the database takes writes again, and not
// before a second of the clock has passed unless a new step comes.
TEST_F(step_writer, a_refused_step_is_kept_and_retried_in_order) {
    auto eng = engine_with(3);
    std::vector<runtime::pending_action> warm;
    warm.push_back(page(1, "1/open/0/pager"));
    writer.write(eng, std::move(warm), {1});
    ASSERT_EQ(events.queued.size(), 1u);

    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);

    std::vector<runtime::pending_action> big;
    big.push_back(page(2, "2/open/0/pager", 64000));
    writer.write(eng, std::move(big), {2});
    const int failed_once = events.failed;
    EXPECT_GE(failed_once, 1);
    EXPECT_TRUE(writer.backlogged());
    EXPECT_EQ(writer.unsaved_actions(), 1u);
    EXPECT_FALSE(writer.error().empty());
    std::vector<runtime::pending_action> next;
    next.push_back(page(3, "3/open/0/pager", 64000));
    writer.write(eng, std::move(next), {3});  // goes behind the kept step, and fails with it
    EXPECT_EQ(writer.unsaved_actions(), 2u);
    EXPECT_EQ(events.queued.size(), 1u) << "nothing is announced before it is recorded";

    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    const int failed_before_retry = events.failed;
    writer.retry(eng);  // the clock stands still: not yet due
    EXPECT_TRUE(writer.backlogged());
    EXPECT_EQ(events.failed, failed_before_retry);

    clock.advance(1s);
    writer.retry(eng);
    EXPECT_FALSE(writer.backlogged());
    EXPECT_TRUE(writer.error().empty());
    EXPECT_EQ(events.queued, (std::vector<std::string>{"1/open/0/pager", "2/open/0/pager", "3/open/0/pager"}));
    EXPECT_EQ(db->actions().count(state::record_state::pending), 3u);
    EXPECT_EQ(db->incidents().count(), 3u);
    EXPECT_EQ(db->counter().next_incident_id().id, 4u);
}

// A clock set back must not hold the backlog until it catches up again.
TEST_F(step_writer, a_clock_set_back_does_not_stall_the_retry) {
    auto eng = engine_with(1);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
    std::vector<runtime::pending_action> big;
    big.push_back(page(1, "1/open/0/pager", 64000));
    writer.write(eng, std::move(big), {1});
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    ASSERT_TRUE(writer.backlogged());

    clock.set(t0 - 1h);
    writer.retry(eng);
    EXPECT_FALSE(writer.backlogged());
    EXPECT_EQ(events.queued, (std::vector<std::string>{"1/open/0/pager"}));
}

// Pages do not wait for a full disk: each refused page is handed out once to be sent from memory
// (a statement never is); when the disk takes writes, a page that went out meanwhile is recorded
// as sent, one that did not as pending, and both are reported recorded.
TEST_F(step_writer, refused_pages_are_handed_out_once_and_recorded_as_sent_when_they_went_out) {
    auto eng = engine_with(3);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);

    std::vector<runtime::pending_action> first;
    first.push_back(page(1, "1/open/0/pager", 64000));
    auto statement = page(1, "1/open/1/brand", 64000);
    statement.action.kind = incident::action_kind::statement;
    first.push_back(statement);
    writer.write(eng, std::move(first), {1});
    EXPECT_EQ(events.unrecorded, (std::vector<std::string>{"1/open/0/pager"})) << "never a statement";
    std::vector<runtime::pending_action> second;
    second.push_back(page(2, "2/open/0/pager", 64000));
    writer.write(eng, std::move(second), {2});
    clock.advance(1s);
    writer.retry(eng);  // fails again: nothing handed out twice
    EXPECT_EQ(events.unrecorded, (std::vector<std::string>{"1/open/0/pager", "2/open/0/pager"}));
    EXPECT_TRUE(events.queued.empty());

    events.sent["1/open/0/pager"] = t0 + 500ms;  // the first page went out from memory
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    clock.advance(1s);
    writer.retry(eng);
    ASSERT_FALSE(writer.backlogged());
    EXPECT_EQ(events.recorded, (std::vector<std::string>{"1/open/0/pager", "2/open/0/pager"}));
    auto sent = db->actions().find("1/open/0/pager");
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->state, state::record_state::sent) << "not to be sent again";
    EXPECT_EQ(db->actions().find("2/open/0/pager")->state, state::record_state::pending);
    EXPECT_EQ(db->actions().find("1/open/1/brand")->state, state::record_state::pending);
}
