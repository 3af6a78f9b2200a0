// frame_queue: the bounded queue between a source and the pipeline, with both overflow policies.
#include "ingest/frame_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <string>
#include <vector>

namespace crisisd::ingest {
namespace {

namespace asio = boost::asio;

std::vector<std::string> drain(frame_queue& q) {
    std::vector<std::string> out;
    while (!q.empty()) {
        out.emplace_back(q.front());
        q.pop();
    }
    return out;
}

TEST(frame_queue, keeps_frames_in_order_with_their_tags) {
    asio::io_context io;
    frame_queue q(io.get_executor(), 3, overflow_policy::block);
    EXPECT_EQ(q.push("a", 1), frame_queue::push_result::queued);
    EXPECT_EQ(q.push("b", 2), frame_queue::push_result::queued);
    EXPECT_EQ(q.front(), "a");
    EXPECT_EQ(q.front_tag(), 1);
    q.pop();
    // Wraps around the ring.
    EXPECT_EQ(q.push("c", 3), frame_queue::push_result::queued);
    EXPECT_EQ(q.push("d", 4), frame_queue::push_result::queued);
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(q.front_tag(), 2);
    EXPECT_EQ(drain(q), (std::vector<std::string>{"b", "c", "d"}));
}

TEST(frame_queue, block_refuses_when_full_and_loses_nothing) {
    asio::io_context io;
    frame_queue q(io.get_executor(), 2, overflow_policy::block);
    EXPECT_EQ(q.push("1"), frame_queue::push_result::queued);
    EXPECT_EQ(q.push("2"), frame_queue::push_result::queued);
    EXPECT_FALSE(q.has_room());
    EXPECT_EQ(q.push("3"), frame_queue::push_result::full);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.dropped(), 0u);
    q.pop();
    EXPECT_TRUE(q.has_room());
    EXPECT_EQ(q.push("3"), frame_queue::push_result::queued);
    EXPECT_EQ(drain(q), (std::vector<std::string>{"2", "3"}));
}

TEST(frame_queue, drop_oldest_makes_room_and_counts_what_it_lost) {
    asio::io_context io;
    frame_queue q(io.get_executor(), 3, overflow_policy::drop_oldest);
    for (int i = 1; i <= 3; ++i) EXPECT_EQ(q.push(std::to_string(i)), frame_queue::push_result::queued);
    EXPECT_TRUE(q.has_room());  // it never holds a source back
    EXPECT_EQ(q.push("4"), frame_queue::push_result::queued_dropped_oldest);
    EXPECT_EQ(q.push("5"), frame_queue::push_result::queued_dropped_oldest);
    EXPECT_EQ(q.dropped(), 2u);
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(drain(q), (std::vector<std::string>{"3", "4", "5"}));
}

TEST(frame_queue, a_slot_keeps_the_frame_bytes_not_a_view) {
    asio::io_context io;
    frame_queue q(io.get_executor(), 2, overflow_policy::block);
    std::string buffer = "first";
    q.push(buffer);
    buffer = "overwritten";  // the source reuses its read buffer
    EXPECT_EQ(q.front(), "first");
}

// A producer that behaves like a source's read loop (wait while there is no room, then push)
// against a consumer that drains a few frames per turn of the event loop, as the daemon does.
TEST(frame_queue, block_holds_the_producer_back_until_the_consumer_makes_room) {
    asio::io_context io;
    frame_queue q(io.get_executor(), 4, overflow_policy::block);
    constexpr int total = 100;
    int produced = 0, waits = 0;
    std::size_t largest = 0;
    std::vector<std::string> consumed;

    auto producer = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < total; ++i) {
            while (!q.has_room()) {
                ++waits;
                co_await q.wait_for_room();
            }
            EXPECT_EQ(q.push(std::to_string(i)), frame_queue::push_result::queued);
            ++produced;
            largest = std::max(largest, q.size());
        }
    };
    std::function<void()> consume = [&] {
        for (int n = 0; n < 3 && !q.empty(); ++n) {
            consumed.emplace_back(q.front());
            q.pop();
        }
        if (static_cast<int>(consumed.size()) < total) asio::post(io, consume);
    };
    asio::co_spawn(io, producer(), asio::detached);
    asio::post(io, consume);
    io.run();

    EXPECT_EQ(produced, total);
    ASSERT_EQ(consumed.size(), static_cast<std::size_t>(total));
    for (int i = 0; i < total; ++i) EXPECT_EQ(consumed[static_cast<std::size_t>(i)], std::to_string(i));
    EXPECT_GT(waits, 0);
    EXPECT_LE(largest, 4u);
    EXPECT_EQ(q.dropped(), 0u);
}

}  // namespace
}  // namespace crisisd::ingest
