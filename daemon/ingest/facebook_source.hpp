#pragma once
// Meta Webhooks for Pages on a listener of its own (the callback is `/` of that listener; TLS
// terminates at a reverse proxy in front, since Meta only calls https:// endpoints).
//
// - GET with hub.mode=subscribe and hub.verify_token equal to the configured verify token is
//   the subscription handshake: answered 200 with hub.challenge echoed; anything else 403.
// - Every POST must carry X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed
//   with the app secret>. It is checked in constant time before a byte of the body is parsed; a
//   missing, malformed or wrong signature is answered 403 and reported as a rejected frame with
//   reason "signature" (crisisd_mentions_rejected_total{reason="signature"}), and nothing of it
//   goes further. A signed body goes to the body handler, which answers "" (taken: 200) or the
//   reason it was unusable (400). The handler runs while the request waits and does no I/O, so
//   Meta gets its answer well within its time limit.
//
// Thread-safety: as http_source — the handler runs on the connection's strand of the given
// executor (the daemon's one thread); start()/stop() from that thread or before it runs.
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/source.hpp"

namespace crisisd::ingest {

struct facebook_source_settings {
    std::string name;
    std::string listen = "127.0.0.1:9466";
    std::string verify_token;  // the handshake's hub.verify_token
    std::string app_secret;    // the HMAC key of X-Hub-Signature-256; never empty (config refuses it)
    std::size_t max_body_bytes = 8 << 20;
};

// "sha256=<64 hex digits>" for `body` under `secret`: what Meta sends, and what tests sign with.
std::string hub_signature_256(std::string_view secret, std::string_view body);

class facebook_source {
public:
    using body_handler = std::function<std::string_view(std::string_view body)>;

    facebook_source(boost::asio::any_io_executor ex, facebook_source_settings settings, body_handler on_body,
                    source_events& events);
    ~facebook_source();  // stop()
    facebook_source(const facebook_source&) = delete;
    facebook_source& operator=(const facebook_source&) = delete;

    // Binds the listener; "" or the error.
    std::string start();
    void stop();
    std::uint16_t port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
