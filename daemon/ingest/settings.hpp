#pragma once
// Sources of mentions.
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace crisisd::ingest {

// What a source does when the pipeline falls behind and its queue is full (see frame_queue).
enum class overflow_policy { block, drop_oldest };

struct source_settings {
    std::string name;
    std::string type = "websocket";  // websocket | file | http
    std::string url;                 // websocket: ws:// or wss://
    std::string format = "generic";  // generic | jetstream | mastodon
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
    // http: the ingest listener (host:port) and the request size limit.
    std::string listen = "127.0.0.1:9465";
    std::size_t max_body_bytes = 8 << 20;
    // websocket, file: frames waiting for the pipeline (config `queue: {capacity, overflow}`).
    // HTTP ingest has none: each line is processed while its request waits, so the client is
    // held back by its own request.
    std::size_t queue_capacity = 10000;
    overflow_policy queue_overflow = overflow_policy::block;
};

}  // namespace crisisd::ingest
