#pragma once
// A core NATS subject that every replica publishes to and listens on: at most once, no storage,
// no acknowledgement. For news that is worth nothing once stale and that a reader can read again
// in full when it missed some (the console's live feed, runtime/cluster_peers.hpp), not for
// anything that decides what is sent.
//
// A message published is delivered to every subscriber connected at that moment, the publisher
// included (readers skip their own by what the message says); messages of one publisher arrive
// in the order published. The C client resubscribes after a reconnect, and what was published
// meanwhile is lost.
//
// Thread-safety: publish() from any thread (it queues in the client and does not wait for the
// servers); the handler runs on the C client's delivery thread, one message at a time, and must
// not block. The handler is not called once the destructor has returned.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/nats_connection.hpp"

namespace crisisd::cluster {

namespace detail {
struct broadcast_delivery;   // the handler, and whether the client may still call it
}

class broadcast {
public:
    using handler = std::function<void(std::string_view message)>;

    // Subscribes to `subject` on `conn` (which outlives this); nullptr and `error` on failure.
    static std::unique_ptr<broadcast> open(nats_connection& conn, std::string subject, handler on_message,
                                           std::string& error);
    ~broadcast();
    broadcast(const broadcast&) = delete;
    broadcast& operator=(const broadcast&) = delete;

    // Queues `message` for the servers; false with `error` when the client refused it (closed,
    // or larger than the servers' max_payload).
    bool publish(std::string_view message, std::string& error);
    // The most the servers accept in one message (max_payload), 0 while unknown.
    std::size_t max_payload() const;

private:
    broadcast(nats_connection& conn, std::string subject, handler on_message);

    nats_connection& conn_;
    std::string subject_;
    std::unique_ptr<detail::broadcast_delivery> delivery_;
    void* sub_ = nullptr;   // natsSubscription*, opaque so this header needs no nats.h
};

}  // namespace crisisd::cluster
