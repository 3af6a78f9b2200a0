#pragma once
// The bounded queue between one source and the pipeline: frames wait here (copied into slots
// whose memory is reused, so a warm queue allocates nothing) until the pipeline drains them in
// batches. What happens when it is full is the source's `queue.overflow`:
//   block        nothing is lost: push() refuses, and the source (through flow_control) stops
//                reading its socket or file until pop() makes room;
//   drop_oldest  push() always takes the frame and drops the oldest one waiting (the caller
//                counts it in crisisd_mentions_dropped_total{source}).
// Not thread-safe: push, pop and waiting all happen on one thread (the daemon's io thread).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/settings.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

class frame_queue final : public flow_control {
public:
    // capacity >= 1. The executor only carries the "room again" signal to a waiting source.
    frame_queue(boost::asio::any_io_executor ex, std::size_t capacity, overflow_policy policy);
    frame_queue(const frame_queue&) = delete;
    frame_queue& operator=(const frame_queue&) = delete;

    enum class push_result {
        queued,
        queued_dropped_oldest,  // drop_oldest at capacity: the oldest frame was lost to make room
        full,                   // block at capacity: nothing taken; wait for room and push again
    };
    // Copies `frame` in with a caller's tag (the daemon keeps the arrival time there).
    push_result push(std::string_view frame, std::int64_t tag = 0);

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return slots_.size(); }
    overflow_policy policy() const { return policy_; }
    std::uint64_t dropped() const { return dropped_; }  // frames lost to drop_oldest so far

    // The oldest frame and its tag; valid until the next pop() or push(). Only when !empty().
    std::string_view front() const { return {slots_[head_].bytes.get(), slots_[head_].size}; }
    std::int64_t front_tag() const { return slots_[head_].tag; }
    // Removes the oldest frame; wakes a source waiting for room.
    void pop();

    // flow_control: drop_oldest always has room (it makes its own).
    bool has_room() const override { return policy_ == overflow_policy::drop_oldest || size_ < slots_.size(); }
    std::size_t room() const override {
        return policy_ == overflow_policy::drop_oldest ? static_cast<std::size_t>(-1) : slots_.size() - size_;
    }
    boost::asio::awaitable<void> wait_for_room() override;

private:
    // A plain buffer rather than a std::string: assign() through _M_replace cost more than the
    // copy itself (callgrind: ~70 instructions a frame besides the memcpy), and a string grows
    // in steps, so a slot reallocated several times before it held the largest frames.
    struct slot {
        std::unique_ptr<char[]> bytes;
        std::size_t size = 0;
        std::size_t capacity = 0;
        std::int64_t tag = 0;
    };
    std::vector<slot> slots_;
    std::size_t head_ = 0;  // oldest
    std::size_t size_ = 0;
    overflow_policy policy_;
    std::uint64_t dropped_ = 0;
    bool waiting_ = false;                 // a source awaits wait_for_room()
    boost::asio::steady_timer room_;       // never expires; cancelled to signal room
};

}  // namespace crisisd::ingest
