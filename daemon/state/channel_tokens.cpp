#include "state/channel_tokens.hpp"

namespace crisisd::state {

channel_token_store::channel_token_store(detail::connection& c)
    : c_(c),
      find_(c.db, "SELECT token, origin, updated_us FROM channel_tokens WHERE channel = ?1"),
      put_(c.db,
           "INSERT INTO channel_tokens(channel, token, origin, updated_us) VALUES(?1, ?2, ?3, ?4) "
           "ON CONFLICT(channel) DO UPDATE SET token = excluded.token, origin = excluded.origin, "
           "updated_us = excluded.updated_us") {}

std::optional<channel_token> channel_token_store::find(std::string_view channel) {
    find_.bind(1, channel);
    std::optional<channel_token> out;
    if (find_.step() == SQLITE_ROW) out = channel_token{find_.text(0), find_.text(1), detail::from_micros(find_.integer(2))};
    find_.reset();
    return out;
}

bool channel_token_store::put(std::string_view channel, std::string_view token, std::string_view origin,
                              core::timestamp now) {
    put_.bind(1, channel).bind(2, token).bind(3, origin).bind(4, detail::micros(now));
    return c_.run(put_);
}

}  // namespace crisisd::state
