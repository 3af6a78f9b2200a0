#pragma once
// Sources of mentions, and what their mentions are worth.
//
// The name a source is configured with is the only `source` its mentions carry: a "source"
// field on the wire is kept as `network`, for people to read, and never matched or grouped by.
// Whose authors are believed:
// - platform formats (jetstream, mastodon) vouch for their authors: the network names them;
// - generic JSON (websocket, file, http) carries authors the sender merely claims. They count as
//   themselves only from a source marked `trusted: true`; from any other source all its mentions
//   count as one anonymous author of that source (pipeline::detection_author), so such a source
//   adds at most 1 to unique_authors and max_per_author caps it as a whole.
// - A mention without an author is that source's anonymous author too, whatever the format.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "ingest/x_settings.hpp"

namespace crisisd::ingest {

// What a source does when the pipeline falls behind and its queue is full (see frame_queue).
enum class overflow_policy { block, drop_oldest };

// `max_rate: N/s` (or /m, /h): at most `count` mentions per `per` reach detection, as a token
// bucket holding `count` tokens and refilled evenly over `per` — bursts up to N, N per unit
// sustained. count 0: unlimited. See rate_limiter.hpp.
struct rate_limit {
    std::uint64_t count = 0;
    core::duration per = std::chrono::seconds(1);
    bool operator==(const rate_limit&) const = default;
};

struct source_settings {
    std::string name;
    std::string type = "websocket";  // websocket | file | http | feed | facebook | x
    std::string url;                 // websocket: ws:// or wss://; feed: http:// or https://; x: the API's base
    std::string format = "generic";  // generic | jetstream | mastodon | x; "item" for feed and facebook
    std::string path;                // file: a JSONL file, "-" for stdin
    std::string ca_file;             // wss: extra trust anchor (PEM); system store otherwise
    std::string token;               // resolved secret: websocket sends Authorization: Bearer; http requires it
    std::size_t max_message_bytes = 1 << 20;  // larger frames are rejected (counted), not fatal
    core::duration reconnect_initial = std::chrono::milliseconds(500);
    core::duration reconnect_max = std::chrono::seconds(60);
    core::duration idle_timeout = std::chrono::seconds(60);  // websocket: ping at half, fail at full
    bool permessage_deflate = false;                          // websocket: offer compression

    // jetstream: wantedCollections / wantedDids query parameters. Empty collections means
    // app.bsky.feed.post only (the one crisisd reads).
    std::vector<std::string> collections;
    std::vector<std::string> dids;
    // jetstream: how far before the last processed event a resumed connection starts.
    core::duration resume_lookback = std::chrono::seconds(5);
    // websocket: text frames sent after every connect, ready to send (Mastodon
    // {"type":"subscribe",…}, a Nostr REQ).
    std::vector<std::string> subscribe;
    // generic: JSON Pointers for mention fields ({"text", "/data/body"}), and conditions a frame
    // must meet to be read at all ({"/0", "EVENT"}); see parse::parser_settings.
    std::vector<std::pair<std::string, std::string>> field_map;
    std::vector<std::pair<std::string, std::string>> only_when;
    // http, facebook: the listener (host:port) and the request size limit.
    std::string listen = "127.0.0.1:9465";
    std::size_t max_body_bytes = 8 << 20;
    // websocket, file: frames waiting for the pipeline (config `queue: {capacity, overflow}`).
    // HTTP ingest has none: each line is processed while its request waits, so the client is
    // held back by its own request.
    std::size_t queue_capacity = 10000;
    overflow_policy queue_overflow = overflow_policy::block;
    // Believe the authors this source names (generic format only; platform formats vouch for
    // theirs anyway). Only for a producer you run that takes authors from a platform.
    bool trusted = false;
    // Mentions beyond this rate are not fed to detection; each is counted as
    // crisisd_mentions_rejected_total{reason="rate_limited"} (and answered so per line by HTTP ingest).
    rate_limit max_rate;
    // http, facebook: a reverse proxy terminates TLS in front of the listener; required (with a token)
    // for a listener beyond loopback, since crisisd's ingest listener speaks plain HTTP.
    bool behind_proxy = false;
    // feed: how often the feed is fetched (at least 1s; the config's default 60s).
    core::duration interval = std::chrono::seconds(60);
    // facebook: the webhook subscription's verify token (answered in the GET handshake) and the
    // app secret every POST is signed with (X-Hub-Signature-256); both resolved secrets.
    std::string verify_token;
    std::string app_secret;
    // x: the filtered stream's rules, stall timeout, backfill and back-off (url is the API's
    // base, token the app's bearer token).
    x_stream_settings x;

    // Every field: a reload restarts a source exactly when this differs.
    bool operator==(const source_settings&) const = default;
};

}  // namespace crisisd::ingest
