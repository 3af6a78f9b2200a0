#pragma once
// One connection to a NATS cluster with its JetStream context. Owns the C client's handles; the C
// client runs its own threads for reading, pings and reconnection, and its connection and
// JetStream calls are thread-safe, so a nats_connection may be shared by threads. Every request
// made through it blocks the calling thread for at most nats_settings::request_timeout: call it
// from a worker thread, never from the Asio event loop.
//
// Why the C client and not a hand-written protocol over Asio: JetStream's request/reply API,
// reconnection with a server list, TLS and .creds authentication are a lot of protocol to own,
// and Debian ships libnats. Its headers stay private to this module.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/settings.hpp"

namespace crisisd::cluster {

namespace detail {
struct nats_handles;
}

class nats_connection {
public:
    // Connects (trying every server once) and opens JetStream; nullptr and `error` set on failure.
    static std::unique_ptr<nats_connection> connect(const nats_settings& settings, std::string& error);
    ~nats_connection();
    nats_connection(const nats_connection&) = delete;
    nats_connection& operator=(const nats_connection&) = delete;

    // Closes the connection at once (no drain): what a crashed replica looks like to the others.
    void close();
    // True while the client has a live connection (not while it reconnects or after close()).
    bool connected() const;
    // The largest message the server takes (its max_payload, 1 MiB by default), as it said when
    // the client connected; 0 before that. A key-value entry (a partition's state) is one message.
    std::int64_t max_payload() const;
    // Times the client lost its connection (counted by the disconnect callback).
    long disconnects() const noexcept { return disconnects_.load(); }

    const nats_settings& settings() const noexcept { return settings_; }
    detail::nats_handles& handles() noexcept { return *handles_; }

private:
    explicit nats_connection(const nats_settings& settings);

    nats_settings settings_;
    std::unique_ptr<detail::nats_handles> handles_;
    std::atomic<long> disconnects_{0};
};

}  // namespace crisisd::cluster
