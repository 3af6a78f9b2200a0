#pragma once
// A websocket server that pushes the same messages to every connected client: the demo's
// scenario player and the stand-in for Jetstream/Mastodon in tests. Each client has a bounded
// outgoing queue with one write in flight; a client whose queue overflows is disconnected
// (counted in slow_clients_dropped) rather than growing memory. Optional TLS (wss).
//
// Thread-safety: every public member may be called from any thread. Callbacks run on the
// connection's strand; set them before start().
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crisisd::net {

namespace detail {
struct websocket_server_state;
}

struct websocket_server_options {
    std::string listen = "127.0.0.1:0";
    std::string cert_file;  // PEM chain; with key_file, clients connect with wss://
    std::string key_file;
    std::size_t max_queue = 100000;  // messages queued per client before it is dropped
    // When not empty, the upgrade needs "Authorization: Bearer <token>"; otherwise 401.
    std::string required_token;
};

struct websocket_upgrade_info {
    std::string target;  // "/subscribe?cursor=123"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

class websocket_server {
public:
    websocket_server(boost::asio::any_io_executor ex, websocket_server_options options);
    ~websocket_server();  // stop()
    websocket_server(const websocket_server&) = delete;
    websocket_server& operator=(const websocket_server&) = delete;

    // Called for each client after a successful upgrade, before any broadcast reaches it.
    void on_connect(std::function<void(const websocket_upgrade_info&)> callback);
    // Called with each message a client sends (subscribe requests and the like).
    void on_message(std::function<void(std::string_view)> callback);

    boost::system::error_code start();
    std::uint16_t port() const;

    // Queues a text (or binary) message for every client connected now.
    void broadcast(std::string text);
    void broadcast_binary(std::string data);

    std::size_t connection_count() const;           // upgraded, still open
    std::uint64_t connections_accepted() const;     // upgrades since start
    std::size_t backlog() const;                    // longest client queue, for pacing producers
    std::uint64_t slow_clients_dropped() const;

    // Drops every client at once (TCP close, no websocket close frame): what a crashed or
    // restarted server looks like to them. The listener stays open.
    void close_all();
    // Closes the listener and every client. Idempotent; like close_all() it runs on their
    // strands, so it has happened shortly after the call returns, not before.
    void stop();

private:
    std::shared_ptr<detail::websocket_server_state> impl_;
};

}  // namespace crisisd::net
