#include "ingest/http_source.hpp"

#include <map>
#include <vector>

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "net/http_server.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_listed_errors = 100;

// Compares without an early exit, so response timing does not reveal how much of a guessed
// token was right.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
    return diff == 0 && !b.empty();
}

net::http_response_out error(int status, std::string_view message) {
    net::http_response_out r;
    r.status = status;
    r.content_type = "application/json";
    core::json_writer w(r.body);
    w.begin_object().member("error", message).end_object();
    return r;
}

}  // namespace

struct http_source::impl {
    http_source_settings settings;
    line_handler on_line;
    source_events& events;
    std::unique_ptr<net::http_server> server;

    impl(http_source_settings s, line_handler h, source_events& e)
        : settings(std::move(s)), on_line(std::move(h)), events(e) {}

    net::http_response_out handle(const net::http_request_in& req) {
        if (req.path() != "/api/v1/mentions") return error(404, "not found; POST NDJSON to /api/v1/mentions");
        if (req.method != "POST") {
            auto r = error(405, "use POST");
            r.headers.emplace_back("Allow", "POST");
            return r;
        }
        if (!settings.token.empty()) {
            auto auth = req.header("Authorization");
            constexpr std::string_view bearer = "Bearer ";
            if (auth.rfind(bearer, 0) != 0 || !same_secret(std::string_view(auth).substr(bearer.size()), settings.token)) {
                auto r = error(401, "missing or wrong bearer token");
                r.headers.emplace_back("WWW-Authenticate", "Bearer");
                return r;
            }
        }
        std::uint64_t accepted = 0, rejected = 0;
        std::map<std::string, std::uint64_t, std::less<>> reasons;
        std::vector<std::pair<std::uint64_t, std::string>> errors;
        std::string_view body = req.body;
        std::uint64_t line_no = 0;
        while (!body.empty()) {
            auto end = body.find('\n');
            auto line = body.substr(0, end);
            body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
            ++line_no;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
            std::string_view reason;
            if (line.size() > settings.max_line_bytes) {
                reason = "oversized";
                events.on_frame_rejected(reason);
            } else {
                reason = on_line(line);
            }
            if (reason.empty()) {
                ++accepted;
                continue;
            }
            ++rejected;
            auto it = reasons.find(reason);
            if (it == reasons.end()) it = reasons.emplace(std::string(reason), 0).first;
            ++it->second;
            if (errors.size() < max_listed_errors) errors.emplace_back(line_no, std::string(reason));
        }
        net::http_response_out r;
        r.status = 202;
        r.content_type = "application/json";
        core::json_writer w(r.body);
        w.begin_object().member("accepted", accepted).member("rejected", rejected);
        w.key("reasons").begin_object();
        for (const auto& [name, n] : reasons) w.member(name, n);
        w.end_object();
        w.key("errors").begin_array();
        for (const auto& [n, why] : errors) w.begin_object().member("line", n).member("reason", why).end_object();
        w.end_array();
        w.end_object();
        return r;
    }
};

http_source::http_source(asio::any_io_executor ex, http_source_settings settings, line_handler on_line,
                         source_events& events)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(on_line), events)) {
    net::http_server_options o;
    o.listen = impl_->settings.listen;
    o.body_limit = impl_->settings.max_body_bytes;
    auto* state = impl_.get();
    impl_->server = std::make_unique<net::http_server>(
        std::move(ex), o, [state](const net::http_request_in& req) -> asio::awaitable<net::http_response_out> {
            co_return state->handle(req);
        });
}

http_source::~http_source() { stop(); }

std::string http_source::start() {
    if (auto ec = impl_->server->start())
        return "ingest listener " + impl_->settings.listen + ": " + ec.message();
    core::log_info("source " + impl_->settings.name + ": HTTP ingest on " + impl_->settings.listen + " (port " +
                   std::to_string(impl_->server->port()) + ")");
    impl_->events.on_connected(true);
    return "";
}

void http_source::stop() {
    if (impl_->server) impl_->server->stop();
}

std::uint16_t http_source::port() const { return impl_->server->port(); }

}  // namespace crisisd::ingest
