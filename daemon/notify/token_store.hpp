#pragma once
// Where a channel keeps a credential the platform replaces each time it is used. X's OAuth 2.0
// refresh tokens are single-use: every refresh spends the token presented and hands back its
// successor, so the successor must outlive the process or the next start presents a spent one.
// The daemon gives channels the state database behind this interface (outbox/channel_tokens.hpp);
// without one (tests, replay) a channel keeps its successor in memory only.
//
// `origin` names the configured token a chain of successors started from (a fingerprint, never
// the token): a stored successor is newer than the configured token only while the
// configuration still holds that same token. A person who puts a new token in the configuration
// (after a chain was broken) is thereby heard at the next start.
//
// Called from the channel's delivery, on the daemon's event loop; implementations need not be
// thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace crisisd::notify {

struct stored_token {
    std::string token;
    std::string origin;
};

class token_store {
public:
    virtual ~token_store() = default;
    virtual std::optional<stored_token> load(std::string_view channel) = 0;
    // Durable when it returns true (the state database commits with synchronous=FULL).
    virtual bool save(std::string_view channel, const stored_token& t) = 0;
    // Why the last save failed, for the dead letter or the log.
    virtual std::string last_error() const { return {}; }
};

}  // namespace crisisd::notify
