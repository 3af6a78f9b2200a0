#pragma once
#include <cstddef>
#include <cstdint>
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

// Whether `next` changes what the running API was built with (its listener, TLS, tokens file,
// hosts, /metrics' access, the proxy): such a change waits for a restart. The tokens file's
// contents are read again on every reload.
inline bool restart_needed(const admin_settings& running, const admin_settings& next) {
    const auto& a = running;
    const auto& b = next;
    return b.listen != a.listen || b.tokens_file != a.tokens_file || b.hosts != a.hosts ||
           b.metrics_open != a.metrics_open || b.behind_proxy != a.behind_proxy || b.cert_file != a.cert_file ||
           b.key_file != a.key_file;
}

// The console's address as people are given it (statements link to it, the log names it): the
// listen host, 127.0.0.1 for an empty or wildcard one, with the bound port; https with TLS.
inline std::string console_url(const admin_settings& s, std::uint16_t port) {
    auto host = s.listen.substr(0, s.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    return std::string(s.cert_file.empty() ? "http://" : "https://") + host + ":" + std::to_string(port) + "/";
}

}  // namespace crisisd::admin
