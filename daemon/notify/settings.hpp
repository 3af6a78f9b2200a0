#pragma once
// Channels actions are delivered to: plain data filled by config/.
#include <map>
#include <string>

#include "core/time.hpp"

namespace crisisd::notify {

// How the delivery loop retries a channel's transient failures (network errors, 408, 429, 5xx):
// exponential backoff from `initial` up to `max` with jitter, then a dead letter after
// `max_attempts` attempts.
struct retry_settings {
    core::duration initial = std::chrono::seconds(1);
    core::duration max = std::chrono::seconds(60);
    int max_attempts = 30;

    bool operator==(const retry_settings&) const = default;
};

struct channel_settings {
    std::string name;
    // one of notify::channel_types (notify/traits.hpp): what the channel is and which keys it takes
    std::string type;
    // webhook, slack: the endpoint. pagerduty: the Events API v2 enqueue URL (default the public
    // one). alertmanager: its base URL (http://host:9093). mastodon, bluesky: the instance or
    // PDS base URL, x: the API's (config key `base_url`).
    std::string url;
    std::map<std::string, std::string> headers;  // webhook: extra headers (values may be secrets)
    std::string ca_file;                          // https: extra trust anchor (PEM)
    std::string path;                             // file: JSONL file actions are appended to
    core::duration timeout = std::chrono::seconds(10);

    std::string token;        // mastodon: access token with write:statuses; x: OAuth 2.0 user-context token (secrets)
    std::string visibility = "public";  // mastodon: public | unlisted | private | direct
    std::string routing_key;  // pagerduty: the integration key (a secret)
    std::string identifier;   // bluesky: handle or DID
    std::string password;     // bluesky: app password (a secret)
    std::string page_id;      // facebook: the Page posted to
    std::string graph_version = "v23.0";  // facebook: the Graph API version in every path

    // Statements accepted per rolling hour, on every channel type; 0 means no cap, and only a
    // config that says so gets it. Over the cap a statement is dead-lettered with the reason, so
    // a flood of incidents (or someone provoking them) cannot spam the brand's timeline.
    static constexpr int default_statements_per_hour = 6;
    int statements_per_hour = default_statements_per_hour;
    retry_settings retry;

    // Every field: a reload compares the running channels with the new ones this way.
    bool operator==(const channel_settings&) const = default;
};

}  // namespace crisisd::notify
