#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace crisisd::admin {

struct admin_settings {
    std::string listen = "127.0.0.1:9464";  // host:port; port 0 picks a free one
    // YAML list of {name, role, sha256} (admin/tokens.hpp). Without it no token is valid and the
    // API answers 401 to everything but /healthz (and /metrics with metrics_open).
    std::string tokens_file;
    // Host header values accepted besides the loopback names and the listen address (each with
    // the bound port): "name" accepts any port, "name:port" only that one. Anything else is
    // refused before it is read, which is what stops DNS rebinding.
    std::vector<std::string> hosts;
    bool metrics_open = false;  // /metrics without a token (a scraper on loopback)
    bool behind_proxy = false;  // a reverse proxy in front terminates TLS
    std::string cert_file;      // PEM chain; with key_file the admin API speaks HTTPS
    std::string key_file;
    // The console's live feed (admin/feed.hpp): at most this many event streams at once (more
    // are refused with 503), each holding at most this many bytes not yet read by its client.
    std::size_t max_event_streams = 16;
    std::size_t event_stream_buffer = 1u << 20;
};

}  // namespace crisisd::admin
