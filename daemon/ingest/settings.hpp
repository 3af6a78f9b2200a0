#pragma once
// Sources of mentions.
#include <string>
#include <vector>

#include "core/time.hpp"

namespace crisisd::ingest {

struct source_settings {
    std::string name;
    std::string type = "websocket";  // websocket | file
    std::string url;                 // websocket: ws:// or wss://
    std::string format = "generic";  // generic (later: jetstream, mastodon)
    std::string path;                // file: a JSONL file, "-" for stdin
    std::string ca_file;             // wss: extra trust anchor (PEM); system store otherwise
    std::string token;               // resolved secret, sent as Authorization: Bearer
    std::size_t max_message_bytes = 1 << 20;  // larger frames are rejected (counted), not fatal
    core::duration reconnect_initial = std::chrono::milliseconds(500);
    core::duration reconnect_max = std::chrono::seconds(60);
    core::duration idle_timeout = std::chrono::seconds(60);  // websocket: ping at half, fail at full
    bool permessage_deflate = false;                          // websocket: offer compression
};

}  // namespace crisisd::ingest
