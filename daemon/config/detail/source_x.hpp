#pragma once
// The keys of a source of `type: x` (X's filtered stream) and of websocket `compression`, kept
// apart from sections_io.cpp's shared source reading so each source type's keys live together.
// Private to config/.
#include "config/detail/reader.hpp"
#include "ingest/settings.hpp"

namespace crisisd::config::detail {

// The keys only an x source takes (beyond those listed in read_sources), for its mapping.
inline constexpr std::string_view x_source_keys[] = {"bearer_token", "rules", "stall_timeout", "backfill_minutes"};
// reconnect: keys only an x source takes (X's separate schedules for network errors and 429).
inline constexpr std::string_view x_reconnect_keys[] = {"network_step", "network_max", "rate_limited"};

// X's documented defaults, set as soon as the type is known (before `reconnect` is read, so
// its checks compare against them): HTTP errors back off from 5 s to 320 s.
void apply_x_source_defaults(ingest::source_settings& s);
// Reads an x source's own keys (url, bearer_token, rules, stall_timeout, backfill_minutes,
// ca_file) and refuses the keys of other types it cannot use (token, format).
void read_x_source(context& ctx, const mapping& m, ingest::source_settings& s);
// reconnect's x-only keys; for another type each is reported.
void read_x_reconnect(context& ctx, const mapping& reconnect, ingest::source_settings& s);
// For a source of another type: each x-only key is reported.
void refuse_x_keys(context& ctx, const mapping& m);
// `compression: deflate | none` on websocket sources (permessage-deflate, RFC 7692); for
// another type it is reported.
void read_compression(context& ctx, const mapping& m, ingest::source_settings& s);

}  // namespace crisisd::config::detail
