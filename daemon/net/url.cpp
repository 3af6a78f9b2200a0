#include "net/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crisisd::net {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    if (text.empty() || text.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::uint16_t default_port(std::string_view scheme) {
    return (scheme == "https" || scheme == "wss") ? 443 : 80;
}

// Splits "host[:port]" or "[v6][:port]"; port stays empty when absent.
bool split_authority(std::string_view authority, std::string& host, std::string_view& port) {
    if (authority.empty()) return false;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        host.assign(authority.substr(1, close - 1));
        auto rest = authority.substr(close + 1);
        if (rest.empty()) return true;
        if (rest.front() != ':') return false;
        port = rest.substr(1);
        return true;
    }
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
        host.assign(authority);
        return true;
    }
    // A bare IPv6 literal without brackets is ambiguous; refuse it.
    if (authority.find(':') != colon) return false;
    host.assign(authority.substr(0, colon));
    port = authority.substr(colon + 1);
    return !host.empty();
}

}  // namespace

std::string url_parts::host_port() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    out += ':';
    out += std::to_string(port);
    return out;
}

std::string host_header(const url_parts& url) {
    std::string out = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    if (url.port != default_port(url.scheme)) {
        out += ':';
        out += std::to_string(url.port);
    }
    return out;
}

std::optional<url_parts> parse_url(std::string_view url) {
    auto sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0) return std::nullopt;
    url_parts out;
    out.scheme.assign(url.substr(0, sep));
    std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (out.scheme != "http" && out.scheme != "https" && out.scheme != "ws" && out.scheme != "wss")
        return std::nullopt;
    auto rest = url.substr(sep + 3);
    auto fragment = rest.find('#');
    if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
    auto path_start = rest.find_first_of("/?");
    auto authority = rest.substr(0, path_start);
    if (authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view port_text;
    if (!split_authority(authority, out.host, port_text)) return std::nullopt;
    if (port_text.empty()) {
        out.port = default_port(out.scheme);
    } else {
        auto port = parse_port(port_text);
        if (!port || *port == 0) return std::nullopt;
        out.port = *port;
    }
    if (path_start != std::string_view::npos) {
        out.target.assign(rest.substr(path_start));
        if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
    }
    return out;
}

std::optional<host_port> parse_host_port(std::string_view text) {
    host_port out;
    std::string_view port_text;
    if (!split_authority(text, out.host, port_text) || port_text.empty()) return std::nullopt;
    auto port = parse_port(port_text);
    if (!port) return std::nullopt;
    out.port = *port;
    return out;
}

}  // namespace crisisd::net
