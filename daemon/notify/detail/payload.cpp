#include "notify/detail/payload.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>

namespace crisisd::notify::detail {
namespace {

std::string str(const boost::json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v || !v->is_string()) return {};
    return std::string(v->get_string());
}

core::timestamp when(const boost::json::object& o, std::string_view k) {
    auto t = core::parse_rfc3339(str(o, k));
    return t ? *t : core::timestamp{};
}

}  // namespace

std::optional<action_payload> parse_payload(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    action_payload p;
    p.kind = str(o, "kind");
    p.event = str(o, "event");
    p.text = str(o, "text");
    p.statement = str(o, "statement");
    p.language = str(o, "language");
    p.at = when(o, "at");
    p.console_url = str(o, "console_url");
    if (auto* inc = o.if_contains("incident"); inc && inc->is_object()) {
        const auto& i = inc->get_object();
        p.has_incident = true;
        if (auto* id = i.if_contains("id")) {
            if (id->is_uint64()) p.incident_id = id->get_uint64();
            else if (id->is_int64() && id->get_int64() >= 0) p.incident_id = static_cast<std::uint64_t>(id->get_int64());
        }
        p.rule = str(i, "rule");
        p.key = str(i, "key");
        p.severity = str(i, "severity");
        p.state = str(i, "state");
        p.opened_at = when(i, "opened_at");
        if (auto r = core::parse_rfc3339(str(i, "resolved_at"))) p.resolved_at = *r;
    }
    return p;
}

std::string describe_response(int status, std::string_view body) {
    std::string out = "HTTP " + std::to_string(status);
    if (!body.empty()) {
        out += ": ";
        out += body.substr(0, 200);
    }
    return out;
}

std::optional<core::duration> parse_retry_after(std::string_view v) {
    unsigned long seconds = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || v.empty()) return std::nullopt;
    return std::chrono::seconds(std::min<unsigned long>(seconds, 3600));
}

}  // namespace crisisd::notify::detail
