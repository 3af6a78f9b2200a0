#pragma once
// One websocket connection to a stream (ws:// or wss://): connect with TLS verification, SNI
// and extra headers, then read whole messages. Messages over max_message_bytes are read to
// their end and skipped, so one oversized frame costs only that frame, not the connection.
// Ping keepalive: a ping goes out after idle_timeout / 2 of silence and the connection fails
// when nothing arrives for idle_timeout. Server pings are answered, a server's close is
// answered and reported with its code, optional permessage-deflate (inflating only: what
// crisisd sends is small and goes uncompressed, which RFC 7692 allows).
//
// The upgrade and framing are crisisd's own (detail/websocket_frames.hpp says why): a socket
// read of up to 64 KiB, then every whole message in it handed over in one plain loop
// (read_batch), so a coroutine suspends and resumes once per socket read, not once per message.
// Text messages are not UTF-8-validated here; the parsers do that for every message.
//
// Not thread-safe: use it from one coroutine at a time on its executor (a strand). One
// connection per object; make a new one to reconnect.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_client.hpp"  // tls_options

namespace crisisd::net {

struct websocket_client_options {
    std::string url;  // ws://host[:port]/path?query or wss://…
    std::vector<std::pair<std::string, std::string>> headers;  // sent with the upgrade request
    tls_options tls;
    std::size_t max_message_bytes = 1 << 20;
    std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + upgrade
    std::chrono::milliseconds idle_timeout{60000};     // 0: no pings, no idle limit
    bool permessage_deflate = false;
};

class websocket_client {
public:
    websocket_client(boost::asio::any_io_executor ex, websocket_client_options options);
    ~websocket_client();
    websocket_client(const websocket_client&) = delete;
    websocket_client& operator=(const websocket_client&) = delete;

    // Connects and upgrades. Returns "" on success, else a readable error ("timeout",
    // "connection refused", "tls: …", "upgrade declined: HTTP 401"). Never throws.
    boost::asio::awaitable<std::string> connect();
    // The HTTP status of a declined upgrade (401, 403, 404, …); 0 otherwise.
    int upgrade_status() const;

    enum class read_status {
        message,    // `message` holds one whole text or binary message
        oversized,  // a message over max_message_bytes was skipped; keep reading
        closed,     // the server closed the connection (cleanly or not); reconnect
    };
    struct read_result {
        read_status status = read_status::closed;
        std::string error;  // why the connection ended, for logs
        bool binary = false;
    };
    // Reads the next message into `into` (its capacity is reused). Never throws.
    boost::asio::awaitable<read_result> read(std::string& into);

    struct message {
        std::string_view payload;
        bool binary = false;
    };
    // Where read_batch() puts messages. Called on the client's executor, inside read_batch().
    class message_sink {
    public:
        // How many more messages take() accepts now (0: none; read_batch() returns at once).
        virtual std::size_t room() = 0;
        // Whole messages in arrival order, never more than room() said; all of them are taken.
        // The views are valid only during the call.
        virtual void take(std::span<const message> batch) = 0;
        // A message over max_message_bytes was skipped. Returns whether to go on reading
        // (false: read_batch() returns oversized).
        virtual bool oversized() = 0;

    protected:
        ~message_sink() = default;
    };
    // Hands every whole message already buffered to `sink` (up to its room), in as few take()
    // calls as the framing allows; reads the socket (once) only when nothing was buffered.
    // Returns message once something was handed over or the sink's room ran out, oversized when
    // the sink said stop at one, closed as read(). Control frames are answered on the way.
    // Never throws.
    boost::asio::awaitable<read_result> read_batch(message_sink& sink);

    // Queues one text message (subscribe requests) behind whatever is being sent. Returns
    // "not connected" before connect() succeeded or after the connection ended, else "": a
    // write that fails later ends the connection, and the next read() reports why.
    boost::asio::awaitable<std::string> write(std::string text);

    // Ends the connection at once; pending operations complete with closed. Call on the
    // client's executor.
    void close();

private:
    struct impl;
    std::shared_ptr<impl> impl_;  // shared with its own pending writes and timers
};

}  // namespace crisisd::net
