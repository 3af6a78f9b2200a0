#include "ingest/frame_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

namespace crisisd::ingest {

namespace asio = boost::asio;

namespace {
// A slot keeps its memory for the next frame, but not the memory of a rare huge frame: a full
// queue of slots each holding a megabyte would be gigabytes nobody asked for.
constexpr std::size_t keep_slot_bytes = 64 * 1024;
// The smallest buffer a slot gets: most mentions fit in it.
constexpr std::size_t min_slot_bytes = 512;
}  // namespace

frame_queue::frame_queue(asio::any_io_executor ex, std::size_t capacity, overflow_policy policy)
    : slots_(capacity == 0 ? 1 : capacity), policy_(policy), room_(std::move(ex)) {
    room_.expires_at(asio::steady_timer::time_point::max());
}

frame_queue::push_result frame_queue::push(std::string_view frame, std::int64_t tag) {
    push_result result = push_result::queued;
    if (size_ == slots_.size()) {
        if (policy_ == overflow_policy::block) return push_result::full;
        head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
        --size_;
        ++dropped_;
        result = push_result::queued_dropped_oldest;
    }
    auto index = head_ + size_;
    if (index >= slots_.size()) index -= slots_.size();
    auto& s = slots_[index];
    if (s.capacity < frame.size()) {
        // Whole powers of two from min_slot_bytes: a slot settles after one or two frames.
        std::size_t capacity = min_slot_bytes;
        while (capacity < frame.size()) capacity *= 2;
        s.bytes = std::make_unique_for_overwrite<char[]>(capacity);
        s.capacity = capacity;
    }
    if (!frame.empty()) std::memcpy(s.bytes.get(), frame.data(), frame.size());
    s.size = frame.size();
    s.tag = tag;
    ++size_;
    return result;
}

void frame_queue::pop() {
    auto& s = slots_[head_];
    if (s.capacity > keep_slot_bytes) {
        s.bytes.reset();
        s.capacity = 0;
    }
    head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
    // An emptied queue starts again at slot 0. The pipeline usually drains all that one socket
    // read brought (a few hundred frames) before the next read, so the same few slots, whose
    // buffers are still in cache, take the next frames; walking on round the ring instead put
    // every frame in a buffer last touched `capacity` frames ago (4 MB back at the default 10,000
    // slots), and its copy in and parse out missed the cache.
    if (--size_ == 0) head_ = 0;
    if (waiting_) {
        waiting_ = false;
        room_.cancel();
    }
}

asio::awaitable<void> frame_queue::wait_for_room() {
    waiting_ = true;
    // Completes (operation_aborted) when pop() cancels it. Nothing of `this` is touched after
    // resuming: a stopped source's queue may be gone by then.
    co_await room_.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace crisisd::ingest
