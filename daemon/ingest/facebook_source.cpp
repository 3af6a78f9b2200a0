#include "ingest/facebook_source.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "core/log.hpp"
#include "net/http_server.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;

namespace {

using digest = std::array<unsigned char, 32>;

digest hmac_sha256(std::string_view key, std::string_view body) {
    digest out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
         body.size(), out.data(), &len);
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The digest a header claims, or false when the header is not "sha256=" and 64 hex digits.
bool claimed_digest(std::string_view header, digest& out) {
    constexpr std::string_view prefix = "sha256=";
    if (header.substr(0, prefix.size()) != prefix || header.size() != prefix.size() + 64) return false;
    header.remove_prefix(prefix.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(header[2 * i]), lo = hex_value(header[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return true;
}

// Compares without an early exit (as http_source does with tokens).
bool same_secret(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || b.empty()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') out += ' ';
        else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else out += s[i];
    }
    return out;
}

std::string query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name)
            return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    return {};
}

net::http_response_out answer(int status, std::string body) {
    net::http_response_out r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

std::string hub_signature_256(std::string_view secret, std::string_view body) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256=";
    for (unsigned char b : hmac_sha256(secret, body)) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

struct facebook_source::impl {
    facebook_source_settings settings;
    body_handler on_body;
    source_events& events;
    std::unique_ptr<net::http_server> server;

    impl(facebook_source_settings s, body_handler h, source_events& e)
        : settings(std::move(s)), on_body(std::move(h)), events(e) {}

    net::http_response_out handle(const net::http_request_in& req) {
        if (req.path() != "/") return answer(404, "not found; Meta's callback is / of this listener\n");
        if (req.method == "GET") {
            // The subscription handshake: only Meta, knowing the verify token, gets the challenge back.
            if (query_param(req.target, "hub.mode") != "subscribe" ||
                !same_secret(query_param(req.target, "hub.verify_token"), settings.verify_token))
                return answer(403, "verification failed\n");
            core::log_info("source " + settings.name + ": Meta verified the webhook subscription");
            return answer(200, query_param(req.target, "hub.challenge"));
        }
        if (req.method != "POST") {
            auto r = answer(405, "use GET (verification) or POST (notifications)\n");
            r.headers.emplace_back("Allow", "GET, POST");
            return r;
        }
        digest claimed{};
        const auto computed = hmac_sha256(settings.app_secret, req.body);
        const bool well_formed = claimed_digest(req.header("X-Hub-Signature-256"), claimed);
        if (!well_formed || CRYPTO_memcmp(claimed.data(), computed.data(), computed.size()) != 0) {
            events.on_frame_rejected("signature");
            return answer(403, "missing or wrong X-Hub-Signature-256\n");
        }
        const auto reason = on_body(req.body);
        if (!reason.empty()) return answer(400, std::string(reason) + "\n");
        return answer(200, "EVENT_RECEIVED");
    }
};

facebook_source::facebook_source(asio::any_io_executor ex, facebook_source_settings settings, body_handler on_body,
                                 source_events& events)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(on_body), events)) {
    net::http_server_options o;
    o.listen = impl_->settings.listen;
    o.body_limit = impl_->settings.max_body_bytes;
    auto* state = impl_.get();
    impl_->server = std::make_unique<net::http_server>(
        std::move(ex), o, [state](const net::http_request_in& req) -> asio::awaitable<net::http_response_out> {
            co_return state->handle(req);
        });
}

facebook_source::~facebook_source() { stop(); }

std::string facebook_source::start() {
    if (auto ec = impl_->server->start()) return "webhook listener " + impl_->settings.listen + ": " + ec.message();
    core::log_info("source " + impl_->settings.name + ": Facebook webhook on " + impl_->settings.listen + " (port " +
                   std::to_string(impl_->server->port()) + ")");
    impl_->events.on_connected(true);
    return "";
}

void facebook_source::stop() {
    if (impl_->server) impl_->server->stop();
}

std::uint16_t facebook_source::port() const { return impl_->server->port(); }

}  // namespace crisisd::ingest
