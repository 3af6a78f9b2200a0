#pragma once
// The state database as the channels' token_store (notify/token_store.hpp): X's rotating refresh
// token is kept in the channel_tokens table (state/channel_tokens.hpp), committed before the
// channel uses the access token that came with it. Here because outbox/ is where channels and
// the state database already meet; the daemon builds one and hands it to make_channel.
// Not thread-safe: the daemon's event loop, like the database it wraps.
#include "core/clock.hpp"
#include "notify/token_store.hpp"
#include "state/database.hpp"

namespace crisisd::outbox {

class database_token_store final : public notify::token_store {
public:
    database_token_store(state::database& db, const core::clock& clock) : db_(db), clock_(clock) {}

    std::optional<notify::stored_token> load(std::string_view channel) override {
        auto row = db_.channel_tokens().find(channel);
        if (!row) return std::nullopt;
        return notify::stored_token{std::move(row->token), std::move(row->origin)};
    }
    bool save(std::string_view channel, const notify::stored_token& t) override {
        return db_.channel_tokens().put(channel, t.token, t.origin, clock_.now());
    }
    std::string last_error() const override { return db_.last_error(); }

private:
    state::database& db_;
    const core::clock& clock_;
};

}  // namespace crisisd::outbox
