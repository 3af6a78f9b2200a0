// Intake against a simulated clock, a hand-run executor and in-memory queues: the fair drain,
// de-duplication, a source's identity and its rate limit on the clock intake is given.
#include "runtime/intake.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <utility>

#include "unit/runtime/support.hpp"

using namespace crisisd;
using namespace std::chrono_literals;
using crisisd::runtime_test::open;
using crisisd::runtime_test::t0;
using crisisd::runtime_test::temp_db;

namespace {

struct deque_buffer final : runtime::frame_buffer {
    std::deque<std::pair<std::string, std::int64_t>> frames;
    std::size_t capacity = 100;
    push_result push(std::string_view frame, std::int64_t tag) override {
        if (frames.size() >= capacity) return push_result::full;
        frames.emplace_back(std::string(frame), tag);
        return push_result::queued;
    }
    bool empty() const override { return frames.empty(); }
    std::string_view front() const override { return frames.front().first; }
    std::int64_t front_tag() const override { return frames.front().second; }
    void pop() override { frames.pop_front(); }
};

struct probe final : runtime::source_probe {
    int received_count = 0;
    std::vector<std::string> rejected_reasons, skipped_reasons;
    void received(runtime::clock::monotonic_time) override { ++received_count; }
    void dropped() override {}
    void rejected(std::string_view r) override { rejected_reasons.emplace_back(r); }
    void skipped(std::string_view w) override { skipped_reasons.emplace_back(w); }
};

// Posted work waits until the test runs it, as it would behind sockets on an io_context.
struct manual_executor final : runtime::executor {
    std::vector<std::function<void()>> posted;
    void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
    void run() {
        auto now = std::move(posted);
        posted.clear();
        for (auto& f : now) f();
    }
};

struct recorder final : runtime::intake_events {
    std::uint64_t processed = 0;
    int steps = 0;
    void mentions_processed(std::uint64_t n) override { processed += n; }
    void stepped(runtime::clock::monotonic_time) override { ++steps; }
};

std::unique_ptr<pipeline::pipeline> outage_pipeline() {
    pipeline::pipeline_settings ps;
    auto& r = ps.rules.emplace_back();
    r.name = "outage";
    r.match.keywords = {"outage"};
    auto p = pipeline::pipeline::create(std::move(ps));
    return std::move(std::get<std::unique_ptr<pipeline::pipeline>>(p));
}

std::string frame(int id, std::string_view author = "a") {
    return R"({"id":")" + std::to_string(id) + R"(","text":"the outage again","author":")" + std::string(author) +
           R"(","created_at":"2026-11-20T10:00:00Z"})";
}

struct intake_test : ::testing::Test {
    temp_db tmp;
    std::unique_ptr<state::database> db = open(tmp.path());
    runtime::detection det{outage_pipeline(), {}, {}};
    runtime::simulated_clock clock{t0};
    manual_executor ex;
    recorder events;
    runtime::intake in{*db, det, clock, ex, events};

    runtime::lane& add(std::string name, runtime::frame_buffer* q, runtime::source_probe& p,
                       ingest::rate_limit max_rate = {}) {
        runtime::lane_settings s;
        s.name = std::move(name);
        s.max_rate = max_rate;
        return in.add(s, parse::make_parser(parse::parser_settings{}), q, p);
    }
};

}  // namespace

TEST_F(intake_test, a_busy_source_does_not_starve_a_quiet_one) {
    deque_buffer busy_q, quiet_q;
    probe busy_p, quiet_p;
    auto& busy = add("busy", &busy_q, busy_p);
    auto& quiet = add("quiet", &quiet_q, quiet_p);
    for (int i = 0; i < 10; ++i) in.enqueue(busy, frame(i));
    for (int i = 100; i < 102; ++i) in.enqueue(quiet, frame(i));
    ASSERT_EQ(ex.posted.size(), 1u) << "one drain posted, however many frames wait";
    // A turn of four frames is shared evenly: the quiet source is done, the busy one waits.
    in.drain(4);
    EXPECT_TRUE(quiet_q.empty());
    EXPECT_EQ(busy_q.frames.size(), 8u);
    EXPECT_FALSE(in.idle());
    EXPECT_EQ(events.processed, 4u);
    ex.run();  // the posted drain takes the rest in one batch
    EXPECT_TRUE(busy_q.empty());
    EXPECT_TRUE(in.idle());
    EXPECT_EQ(det.pipe->processed(), 12u);
    EXPECT_EQ(busy_p.received_count, 10);
}

// A cluster front whose stream is behind: it takes mentions only while it has room, and wakes
// intake (from its publisher's thread) when a round makes room again.
struct slow_router final : runtime::mention_router {
    bool room = true;
    std::vector<std::string> routed;
    std::function<void()> wake;
    void route(const core::mention& m, runtime::clock::monotonic_time) override {
        EXPECT_TRUE(room) << "route() called while the router said it had no room";
        routed.push_back(m.id);
    }
    bool has_room() const override { return room; }
    void notify_when_room(std::function<void()> w) override {
        if (room) return w();
        wake = std::move(w);
    }
};

TEST_F(intake_test, a_router_without_room_holds_queued_frames_and_frees_the_thread_until_it_wakes_intake) {
    slow_router router;
    in.set_router(&router);
    deque_buffer q;
    probe p;
    auto& src = add("ws", &q, p);
    for (int i = 0; i < 3; ++i) in.enqueue(src, frame(i));
    router.room = false;
    ex.run();  // the drain: nothing routed, the frames wait in their queue, the thread is back
    EXPECT_TRUE(router.routed.empty());
    EXPECT_EQ(q.frames.size(), 3u);
    EXPECT_FALSE(in.accepting());
    ASSERT_TRUE(router.wake) << "intake asked to be woken";
    EXPECT_TRUE(ex.posted.empty()) << "no drain spins while there is no room";
    // An HTTP request waits for room too, and learns of it with the drain.
    bool http_resumed = false;
    in.when_accepting([&] { http_resumed = true; });
    in.enqueue(src, frame(3));
    EXPECT_TRUE(ex.posted.empty());

    router.room = true;
    std::exchange(router.wake, nullptr)();  // the publisher took a round
    ex.run();  // back on the runtime's thread: waiters resumed, drain posted
    EXPECT_TRUE(http_resumed);
    ex.run();
    EXPECT_EQ(router.routed, (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_TRUE(q.empty());
    EXPECT_TRUE(in.idle());
}

TEST_F(intake_test, a_frame_seen_again_is_counted_as_a_duplicate_not_processed) {
    probe p;
    auto& src = add("http", nullptr, p);
    EXPECT_EQ(in.offer(src, frame(1)), "");
    EXPECT_EQ(in.offer(src, frame(1)), "");
    EXPECT_EQ(in.offer(src, frame(2)), "");
    EXPECT_EQ(det.pipe->processed(), 2u);
    EXPECT_EQ(p.skipped_reasons, (std::vector<std::string>{"duplicate"}));
    EXPECT_EQ(in.offer(src, "not json"), "malformed_json");
    EXPECT_EQ(p.rejected_reasons.size(), 1u);
}

TEST_F(intake_test, the_rate_limit_runs_on_the_clock_intake_is_given) {
    probe p;
    auto& src = add("http", nullptr, p, ingest::rate_limit{2, 1min});
    EXPECT_EQ(in.offer(src, frame(1)), "");
    EXPECT_EQ(in.offer(src, frame(2)), "");
    EXPECT_EQ(in.offer(src, frame(3)), "rate_limited");
    clock.advance(1min);  // no sleeping: the simulated monotonic clock refills the bucket
    EXPECT_EQ(in.offer(src, frame(4)), "");
    EXPECT_EQ(det.pipe->processed(), 3u);
}

TEST_F(intake_test, a_full_queue_without_flow_control_processes_its_oldest_frame_to_make_room) {
    deque_buffer q;
    q.capacity = 2;
    probe p;
    auto& src = add("ws", &q, p);
    for (int i = 0; i < 3; ++i) in.enqueue(src, frame(i));
    EXPECT_EQ(det.pipe->processed(), 1u);
    EXPECT_EQ(q.frames.size(), 2u);
}

TEST_F(intake_test, once_stopping_frames_are_refused_and_queued_ones_still_drain) {
    deque_buffer q;
    probe p;
    auto& src = add("ws", &q, p);
    auto& http = add("http", nullptr, p);
    in.enqueue(src, frame(1));
    in.stop();
    EXPECT_EQ(in.offer(http, frame(2)), "shutting_down");
    in.enqueue(src, frame(3));
    ex.run();
    EXPECT_EQ(det.pipe->processed(), 1u);
    EXPECT_TRUE(in.idle());
}

namespace {

// A Jetstream post at stream position `time_us`, rkey unique per position.
std::string jetstream_post(std::int64_t time_us) {
    return R"({"did":"did:plc:a","time_us":)" + std::to_string(time_us) +
           R"(,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r)" +
           std::to_string(time_us) + R"(","rev":"v1","record":{"text":"the outage again"}}})";
}

}  // namespace

TEST_F(intake_test, a_restart_skips_what_the_saved_cursor_says_was_processed_and_saves_it_again) {
    ASSERT_TRUE(db->cursors().save("jet", 2'000'000));
    probe p;
    runtime::lane_settings s;
    s.name = "jet";
    auto& src = in.add(s, parse::make_parser(parse::parser_settings{"jetstream", 1 << 20, {}, {}}), nullptr, p);
    in.resume_jetstream(src, ingest::jetstream_resume("wss://jetstream.example/subscribe", {"app.bsky.feed.post"}, {}));
    // The reconnect URL asks for a few seconds before the saved position.
    EXPECT_NE(src.resume()->url().find("cursor="), std::string::npos);
    EXPECT_EQ(in.offer(src, jetstream_post(1'000'000)), "");  // replayed overlap: processed last run
    EXPECT_EQ(in.offer(src, jetstream_post(2'000'000)), "");
    EXPECT_EQ(det.pipe->processed(), 0u);
    EXPECT_EQ(p.skipped_reasons.size(), 2u);
    EXPECT_EQ(in.offer(src, jetstream_post(3'000'000)), "");
    EXPECT_EQ(det.pipe->processed(), 1u);
    src.save_position();
    const auto saved = db->cursors().load("jet");
    ASSERT_TRUE(saved.found && saved.position);
    EXPECT_EQ(*saved.position, 3'000'000);
}
