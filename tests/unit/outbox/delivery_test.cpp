// The delivery loop against a real HTTP receiver: transient failures are retried with backoff
// until they succeed, in order per channel; refusals and the statement cap become dead letters.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <filesystem>
#include <map>

#include "core/clock.hpp"
#include "fakes/fake_apis.hpp"
#include "fakes/http_receiver.hpp"
#include "outbox/delivery.hpp"

namespace crisisd::outbox {
namespace {

using namespace std::chrono_literals;

struct temp_db {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("crisisd-delivery-" + std::to_string(::getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                           .string();
    ~temp_db() {
        for (auto s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
    }
};

notify::channel_settings fast(std::string name, std::string type, std::string url) {
    notify::channel_settings s;
    s.name = std::move(name);
    s.type = std::move(type);
    s.url = std::move(url);
    s.timeout = 2s;
    s.retry.initial = 5ms;
    s.retry.max = 20ms;
    s.retry.max_attempts = 100;
    return s;
}

struct loop_fixture : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db =
        std::move(std::get<std::unique_ptr<state::database>>(state::database::open(tmp.path)));
    boost::asio::io_context io;
    core::system_clock clock;
    std::map<std::string, std::unique_ptr<notify::channel>> owned;
    std::map<std::string, int> outcomes;  // "channel/outcome" -> count, like crisisd_actions_total
    std::vector<std::string> dead;
    std::vector<std::string> refused;
    std::function<void(const record&, std::function<void(bool)>)> fence;

    void add(const notify::channel_settings& s) {
        std::string error;
        owned[s.name] = notify::make_channel(s, io.get_executor(), {}, error);
        ASSERT_TRUE(owned[s.name]) << error;
    }
    std::unique_ptr<delivery_loop> loop() {
        std::map<std::string, notify::channel*> raw;
        for (auto& [n, c] : owned) raw[n] = c.get();
        delivery_events ev;
        ev.on_attempt = [this](const record& r, const notify::delivery_result& res) {
            ++outcomes[r.channel + "/" + std::string(notify::to_string(res.result))];
        };
        ev.on_dead = [this](const record& r, std::string_view why) { dead.push_back(r.key + ": " + std::string(why)); };
        ev.on_refused = [this](const record& r, std::string_view why) {
            refused.push_back(r.key + ": " + std::string(why));
        };
        if (fence) ev.fence = fence;
        return std::make_unique<delivery_loop>(io.get_executor(), *db, raw, clock, ev);
    }
    void run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < end) io.run_for(5ms);
    }
};

std::string notify_json(int n) {
    return R"({"kind":"notify","event":"opened","text":"page )" + std::to_string(n) +
           R"(","at":"2026-11-26T08:17:00Z","incident":{"id":)" + std::to_string(n) +
           R"(,"rule":"r","key":"k","severity":"critical","state":"open","opened_at":"2026-11-26T08:17:00Z"}})";
}

TEST_F(loop_fixture, a_failing_receiver_gets_everything_in_order_once_it_recovers) {
    testing::http_receiver hook;
    hook.start();
    hook.script_statuses({500, 500, 500, 503, 500, 500});
    testing::http_receiver other;
    other.start();
    add(fast("hook", "webhook", hook.url("/in")));
    add(fast("other", "webhook", other.url("/in")));
    for (int i = 1; i <= 5; ++i) db->actions().enqueue("a" + std::to_string(i), 1, "hook", "notify", notify_json(i), clock.now());
    db->actions().enqueue("b1", 1, "other", "notify", notify_json(9), clock.now());
    auto l = loop();
    l->start();
    run_until([&] { return db->actions().count(record_state::sent) == 6; });
    ASSERT_EQ(db->actions().count(record_state::sent), 6u);
    EXPECT_EQ(other.count(), 1u) << "a failing channel does not hold back the others";
    std::vector<std::string> seen;
    for (const auto& r : hook.requests()) {
        auto key = r.header("Idempotency-Key");
        if (seen.empty() || seen.back() != key) seen.push_back(key);
    }
    // Each key carries the database's instance id (notify::platform_key).
    const std::string instance = db->instance_id() + "/";
    ASSERT_EQ(instance.size(), 33u);
    EXPECT_EQ(seen, (std::vector<std::string>{instance + "a1", instance + "a2", instance + "a3", instance + "a4",
                                              instance + "a5"}))
        << "in order, no overtaking";
    EXPECT_EQ(outcomes["hook/retry"], 6);
    EXPECT_EQ(outcomes["hook/sent"], 5);
    EXPECT_TRUE(dead.empty());
    EXPECT_EQ(db->actions().find("a1")->attempts, 7);
}

// Cluster mode (issue 15): the fence is asked right before each send; a record it refuses stays
// pending, unsent, and goes out once the fence allows it (the replica holds the lease again).
TEST_F(loop_fixture, a_record_the_fence_refuses_stays_pending_until_it_allows_it) {
    testing::http_receiver hook;
    hook.start();
    add(fast("hook", "webhook", hook.url("/in")));
    db->actions().enqueue("a1", 1, "hook", "notify", notify_json(1), clock.now());
    int asked = 0;
    bool allow = false;
    fence = [&](const record& r, std::function<void(bool)> done) {
        EXPECT_EQ(r.key, "a1");
        ++asked;
        done(allow);
    };
    auto l = loop();
    l->start();
    run_until([&] { return asked >= 1; });
    ASSERT_GE(asked, 1);
    EXPECT_EQ(hook.count(), 0u);
    EXPECT_EQ(db->actions().count(record_state::pending), 1u);
    allow = true;
    run_until([&] { return db->actions().count(record_state::sent) == 1; });
    EXPECT_EQ(db->actions().count(record_state::sent), 1u);
    EXPECT_EQ(hook.count(), 1u);
    EXPECT_GE(asked, 2);
}

TEST_F(loop_fixture, a_delivery_the_database_cannot_record_is_not_sent_again_and_recorded_later) {
    // The disk starts refusing writes (a file size limit: every write fails with EFBIG; this
    // test runs in a process of its own). A page goes out, but its "sent" mark cannot be written:
    // the loop must not take the record, still "pending" in the database, for unsent and page
    // again. A statement is not posted at all while its attempt cannot be marked as started.
    testing::http_receiver hook, brand;
    hook.start();
    brand.start();
    add(fast("hook", "webhook", hook.url("/in")));
    add(fast("brand", "webhook", brand.url("/post")));
    db->actions().enqueue("a1", 1, "hook", "notify", notify_json(1), clock.now());
    db->actions().enqueue("s1", 2, "brand", "statement", R"({"kind":"statement","text":"We know."})", clock.now());
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
    auto l = loop();
    l->start();
    run_until([&] { return hook.count() == 1; });
    ASSERT_EQ(hook.count(), 1u);
    io.run_for(300ms);  // rounds in which both records still read pending
    EXPECT_EQ(hook.count(), 1u) << "paged again while its outcome could not be recorded";
    EXPECT_EQ(brand.count(), 0u) << "posted without a durable record of the attempt";
    EXPECT_EQ(db->actions().count(record_state::pending), 2u);

    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    run_until([&] { return db->actions().count(record_state::sent) == 2; });
    EXPECT_EQ(db->actions().count(record_state::sent), 2u);
    EXPECT_EQ(hook.count(), 1u);
    EXPECT_EQ(brand.count(), 1u);
}

TEST_F(loop_fixture, refusals_are_dead_letters_and_do_not_block_the_channel) {
    testing::http_receiver hook;
    hook.start();
    hook.script_statuses({422});
    add(fast("hook", "webhook", hook.url("/in")));
    db->actions().enqueue("a1", 1, "hook", "notify", notify_json(1), clock.now());
    db->actions().enqueue("a2", 1, "hook", "notify", notify_json(2), clock.now());
    auto l = loop();
    l->start();
    run_until([&] { return db->actions().count(record_state::sent) == 1 && db->actions().count(record_state::dead) == 1; });
    EXPECT_EQ(hook.count(), 2u) << "a 422 is not retried";
    ASSERT_EQ(db->actions().dead_letters(10).size(), 1u);
    EXPECT_EQ(db->actions().dead_letters(10)[0].key, "a1");
    EXPECT_NE(db->actions().dead_letters(10)[0].last_error.find("HTTP 422"), std::string::npos);
}

TEST_F(loop_fixture, statements_beyond_the_hourly_cap_are_not_posted) {
    testing::fake_mastodon fake;
    fake.start();
    auto s = fast("brand", "mastodon", fake.base_url());
    s.token = "mastodon-token";
    s.statements_per_hour = 2;
    add(s);
    for (int i = 1; i <= 4; ++i)
        db->actions().enqueue("s" + std::to_string(i), static_cast<std::uint64_t>(i), "brand", "statement",
                    R"({"kind":"statement","text":"statement )" + std::to_string(i) +
                        R"(","language":"en","at":"2026-11-26T08:17:00Z"})",
                    clock.now());
    auto l = loop();
    l->start();
    run_until([&] { return db->actions().count(record_state::pending) == 0 && l->in_flight() == 0; });
    EXPECT_EQ(fake.statuses().size(), 2u);
    ASSERT_EQ(dead.size(), 2u);
    EXPECT_NE(dead[0].find("statement cap of 2 per hour reached on channel brand"), std::string::npos) << dead[0];
    // Statements were marked started before sending, so a crash would tell the next attempt.
    EXPECT_EQ(db->actions().find("s1")->started, 1);
}

TEST_F(loop_fixture, a_statement_started_before_a_crash_is_retried_as_a_repeat) {
    testing::fake_bluesky fake;
    fake.start();
    auto s = fast("sky", "bluesky", fake.base_url());
    s.identifier = "brand.example";
    s.password = "app-password";
    add(s);
    db->actions().enqueue("7/open/1/sky", 7, "sky", "statement",
                R"({"kind":"statement","text":"holding","language":"en","at":"2026-11-26T08:17:00Z"})", clock.now());
    // The previous run marked it started and died before recording an outcome.
    db->actions().mark_started(db->actions().find("7/open/1/sky")->seq);
    auto l = loop();
    l->start();
    run_until([&] { return db->actions().count(record_state::sent) == 1; });
    EXPECT_EQ(fake.get_calls(), 1) << "a repeat asks whether the first attempt landed";
    EXPECT_EQ(fake.posts().size(), 1u);
}

std::string statement_json(const std::string& text, const std::string& approval_fields) {
    return R"({"kind":"statement","text":")" + text + R"(","language":"en","at":"2026-11-26T08:17:00Z")" +
           approval_fields + "}";
}

// Defence in depth (issue 11): whatever wrote it, a statement that says it needed a person's
// approval and names nobody is never posted; it becomes a dead letter with the reason, counted,
// and the channel's later records go out.
TEST_F(loop_fixture, a_required_statement_without_an_approver_is_refused) {
    testing::http_receiver brand;
    brand.start();
    add(fast("brand", "webhook", brand.url("/post")));
    db->actions().enqueue("forged", 1, "brand", "statement", statement_json("forged", R"(,"approval":"required")"), clock.now());
    db->actions().enqueue("empty", 2, "brand", "statement",
                statement_json("empty", R"(,"approval":"required","approved_by":"")"), clock.now());
    db->actions().enqueue("odd", 3, "brand", "statement", statement_json("odd", R"(,"approval":"maybe")"), clock.now());
    db->actions().enqueue("approved", 4, "brand", "statement",
                statement_json("approved", R"(,"approval":"required","approved_by":"Anna Berger")"), clock.now());
    db->actions().enqueue("vetoable", 5, "brand", "statement",
                statement_json("vetoable", R"(,"approval":"veto","approved_by":"")"), clock.now());
    db->actions().enqueue("legacy", 6, "brand", "statement", statement_json("legacy", ""), clock.now());
    auto l = loop();
    l->start();
    run_until([&] { return db->actions().count(record_state::pending) == 0 && l->in_flight() == 0; });
    ASSERT_EQ(brand.count(), 3u);
    std::vector<std::string> posted;
    for (const auto& r : brand.requests()) posted.push_back(r.header("Idempotency-Key"));
    const std::string instance = db->instance_id() + "/";  // in every key a channel sends
    EXPECT_EQ(posted, (std::vector<std::string>{instance + "approved", instance + "vetoable", instance + "legacy"}));
    EXPECT_EQ(refused, (std::vector<std::string>{"forged: refused: approval required and no approver recorded",
                                                 "empty: refused: approval required and no approver recorded",
                                                 "odd: refused: unknown approval mode"}));
    EXPECT_EQ(l->refused(), 3u);
    EXPECT_EQ(db->actions().find("forged")->state, record_state::dead);
    EXPECT_EQ(db->actions().find("forged")->last_error, "refused: approval required and no approver recorded");
    EXPECT_EQ(db->actions().find("forged")->started, 0) << "never attempted";
}

}  // namespace
// Pages the database could not record (issue 13): sent from memory, in order on their channel
// and retried while they fail; a statement handed over is never sent; a page whose row is
// written afterwards is not sent again by the loop.
TEST_F(loop_fixture, unrecorded_pages_go_out_from_memory_in_order_and_statements_never_do) {
    testing::http_receiver hook;
    hook.start();
    hook.script_statuses({500});
    add(fast("hook", "webhook", hook.url("/in")));
    auto l = loop();
    l->start();
    auto unrecorded = [&](std::string key, std::string kind) {
        record r;
        r.key = std::move(key);
        r.incident_id = 1;
        r.channel = "hook";
        r.kind = std::move(kind);
        r.payload = notify_json(1);
        r.created_at = r.next_attempt = clock.now();
        l->deliver_unrecorded(std::move(r));
    };
    unrecorded("p1", "notify");
    unrecorded("s1", "statement");
    unrecorded("p2", "notify");
    run_until([&] { return l->unrecorded_sent_at("p1") && l->unrecorded_sent_at("p2"); });
    ASSERT_TRUE(l->unrecorded_sent_at("p1"));
    ASSERT_TRUE(l->unrecorded_sent_at("p2"));
    EXPECT_FALSE(l->unrecorded_sent_at("s1"));
    std::vector<std::string> keys;
    for (const auto& r : hook.requests()) keys.push_back(r.header("Idempotency-Key").substr(33));
    EXPECT_EQ(keys, (std::vector<std::string>{"p1", "p1", "p2"})) << "p1 retried after a 500, then p2; never s1";
    EXPECT_EQ(l->unrecorded_pages(), 2u);

    // The rows are written now, as the step writer writes them: sent, since they went out.
    for (const char* key : {"p1", "p2"}) {
        ASSERT_EQ(db->actions().enqueue(key, 1, "hook", "notify", notify_json(1), clock.now()),
                  state::action_store::enqueue_result::queued);
        ASSERT_TRUE(db->actions().mark_sent(db->actions().find(key)->seq, *l->unrecorded_sent_at(key)));
        l->recorded(key);
    }
    EXPECT_EQ(l->unrecorded_pages(), 0u);
    // A page recorded as pending goes out through the database as usual (after the others).
    db->actions().enqueue("p3", 1, "hook", "notify", notify_json(3), clock.now());
    l->wake();
    run_until([&] { return db->actions().count(record_state::sent) == 3; });
    EXPECT_EQ(hook.count(), 4u) << "p1 and p2 were not sent again";
}

}  // namespace crisisd::outbox
