#pragma once
// Credentials a platform replaces as they are used (schema version 4's channel_tokens table):
// X's OAuth 2.0 refresh token is single-use, and X hands back its successor with every access
// token. The successor is kept here, written durably before the access token it came with is
// used, so a restart continues the chain instead of presenting a spent token.
//
// Each row also records `origin`, a fingerprint of the configured token the chain started from,
// so that a token a person puts in the configuration later (after a chain was broken) is seen as
// newer than the stored one (notify/token_store.hpp says how channels choose).
// Owned by state::database; not thread-safe.
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

struct channel_token {
    std::string token;
    std::string origin;
    core::timestamp updated{};
};

class channel_token_store {
public:
    explicit channel_token_store(detail::connection& c);

    std::optional<channel_token> find(std::string_view channel);
    // Replaces the channel's token; false when the database refused the write (then the old
    // row stands).
    bool put(std::string_view channel, std::string_view token, std::string_view origin, core::timestamp now);

private:
    detail::connection& c_;
    detail::statement find_, put_;
};

}  // namespace crisisd::state
