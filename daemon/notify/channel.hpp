#pragma once
// A channel delivers one action (its JSON payload, written and read by incident/codec.hpp) to one destination.
// Implementations say whether the destination accepted it, refused it for good, or failed in a
// way worth retrying; the outbox's delivery loop decides when to retry. Channels live on the
// daemon's event loop and are not thread-safe; one delivery per channel is in flight at a time.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/time.hpp"
#include "notify/settings.hpp"
#include "notify/token_store.hpp"

namespace crisisd::net {
class http_client;
}

namespace crisisd::notify {

struct delivery {
    std::string key;      // idempotency key: the same action always carries the same key
    std::string kind;     // notify | statement
    std::string payload;  // JSON document
    int attempt = 1;      // > 1: an earlier attempt may have reached the destination
    // The state database's instance id (state::database::instance_id). Action keys restart with
    // the incident numbers when a database is created anew, so every key a destination sees
    // carries the instance too (platform_key): an old post can never answer for a new action.
    std::string instance;
};

// The key a destination sees for a delivery: "<instance>/<action key>" (the action key alone
// when the instance id is empty, for a database older than instance ids).
std::string platform_key(const delivery& d);

enum class outcome { sent, retry, failed };
std::string_view to_string(outcome o);

struct delivery_result {
    outcome result = outcome::sent;
    int status = 0;  // HTTP status when there was one
    std::string detail;
    std::optional<core::duration> retry_after;  // the destination asked to wait this long
};

class channel {
public:
    explicit channel(channel_settings s) : settings_(std::move(s)) {}
    virtual ~channel() = default;
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    virtual boost::asio::awaitable<delivery_result> deliver(const delivery& d) = 0;
    // Opens connections ahead of need; the default does nothing.
    virtual boost::asio::awaitable<void> warm_up();
    virtual std::string_view type() const = 0;
    const channel_settings& settings() const { return settings_; }

protected:
    channel_settings settings_;
};

// Where a `log` channel writes: a line for people (the demo's timeline, the journal).
using log_sink = std::function<void(std::string_view channel, const delivery& d)>;

// Builds the channel for settings.type; nullptr with an error text for an unknown type.
// `tokens` keeps credentials the platform rotates (the x channel's refresh token) across
// restarts; it must outlive the channel. nullptr: kept in memory only.
std::unique_ptr<channel> make_channel(const channel_settings& settings, boost::asio::any_io_executor ex,
                                      const log_sink& log, std::string& error, token_store* tokens = nullptr);

// Maps an HTTP status to an outcome per PROTOCOLS.md: 2xx sent; 408, 429 and 5xx retry;
// any other 4xx (and 3xx) failed for good, because repeating the request cannot help.
outcome classify_http_status(int status);

// The Mastodon Idempotency-Key for an action: a SHA-256 over its platform key and the account's
// instance, so a crash-restart reuses it and two accounts never share one.
std::string mastodon_idempotency_key(std::string_view action_key, std::string_view base_url);

// The Bluesky record key for an action: a TID (13 base32-sortable characters) whose timestamp
// is the action's time and whose clock id is a hash of its platform key, so every attempt of
// one action names the same record and the PDS cannot store it twice. app.bsky.feed.post takes
// record keys of type "tid" only (the generic limit, 1-512 of [A-Za-z0-9._:~-], does not
// apply), so the longer key with the instance is hashed into the TID rather than used as it is.
std::string bluesky_rkey(std::string_view action_key, core::timestamp at);

}  // namespace crisisd::notify
