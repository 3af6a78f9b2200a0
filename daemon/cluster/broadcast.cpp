#include "cluster/broadcast.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "cluster/detail/nats.hpp"

namespace crisisd::cluster {

struct detail::broadcast_delivery {
    broadcast::handler on_message;
    std::mutex m;
    std::condition_variable cv;
    bool complete = false;   // the client calls on_message no more
};

namespace {

void deliver(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& d = *static_cast<detail::broadcast_delivery*>(closure);
    const char* data = natsMsg_GetData(msg);
    const int len = natsMsg_GetDataLength(msg);
    if (data && len > 0) d.on_message(std::string_view(data, static_cast<std::size_t>(len)));
    natsMsg_Destroy(msg);
}

void completed(void* closure) {
    auto& d = *static_cast<detail::broadcast_delivery*>(closure);
    {
        std::lock_guard lock(d.m);
        d.complete = true;
    }
    d.cv.notify_all();
}

}  // namespace

broadcast::broadcast(nats_connection& conn, std::string subject, handler on_message)
    : conn_(conn), subject_(std::move(subject)), delivery_(std::make_unique<detail::broadcast_delivery>()) {
    delivery_->on_message = std::move(on_message);
}

std::unique_ptr<broadcast> broadcast::open(nats_connection& conn, std::string subject, handler on_message,
                                           std::string& error) {
    std::unique_ptr<broadcast> b(new broadcast(conn, std::move(subject), std::move(on_message)));
    natsSubscription* sub = nullptr;
    natsStatus st = natsConnection_Subscribe(&sub, conn.handles().connection, b->subject_.c_str(), deliver,
                                             b->delivery_.get());
    if (st == NATS_OK) st = natsSubscription_SetOnCompleteCB(sub, completed, b->delivery_.get());
    if (st != NATS_OK) {
        error = "subscribe to " + b->subject_ + ": " + detail::nats_error(st);
        if (sub) {
            // Not yet complete-aware: nothing was published to us before open() returns that
            // matters, but a handler may be running; it only reads delivery_, kept alive here.
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
            b->delivery_.release();
        }
        return nullptr;
    }
    b->sub_ = sub;
    return b;
}

broadcast::~broadcast() {
    auto* sub = static_cast<natsSubscription*>(sub_);
    if (!sub) return;
    // A handler may be running on the client's thread: the delivery state goes only once the
    // client says it will call it no more (the completion callback).
    natsSubscription_Unsubscribe(sub);
    bool complete = false;
    {
        std::unique_lock lock(delivery_->m);
        complete = delivery_->cv.wait_for(lock, std::chrono::seconds(5), [this] { return delivery_->complete; });
    }
    natsSubscription_Destroy(sub);
    // A client that never confirmed may still call it: leaving the small state allocated is
    // safer than a handler reading freed memory.
    if (!complete) delivery_.release();
}

bool broadcast::publish(std::string_view message, std::string& error) {
    const natsStatus st = natsConnection_Publish(conn_.handles().connection, subject_.c_str(), message.data(),
                                                 static_cast<int>(message.size()));
    if (st == NATS_OK) return true;
    error = detail::nats_error(st);
    return false;
}

std::size_t broadcast::max_payload() const {
    const std::int64_t n = natsConnection_GetMaxPayload(conn_.handles().connection);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace crisisd::cluster
