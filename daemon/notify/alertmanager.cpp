// Prometheus Alertmanager, POST /api/v2/alerts (PROTOCOLS.md §7a). The label set is the alert's
// identity, so every action of one incident carries the same labels; the resolve sends them
// again with endsAt.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify::detail {
namespace {

// A firing alert without endsAt would resolve itself after Alertmanager's resolve_timeout
// (5 minutes by default) unless re-sent; crisisd sends an explicit resolve instead, so firing
// alerts are given a day.
constexpr auto firing_lifetime = std::chrono::hours(24);

class alertmanager_channel final : public http_channel {
public:
    alertmanager_channel(const channel_settings& s, boost::asio::any_io_executor ex)
        : http_channel(s, ex), endpoint_(without_trailing_slashes(s.url) + "/api/v2/alerts") {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        const auto inc = p->incident.value_or(incident::incident_summary{});
        bool resolved = p->event == incident::action_event::resolved;
        auto starts = p->incident ? inc.opened_at : p->at;
        auto ends = resolved ? inc.resolved_at.value_or(p->at) : p->at + firing_lifetime;
        if (ends <= starts) ends = starts + std::chrono::seconds(1);
        boost::json::object labels{{"alertname", inc.rule.empty() ? std::string("crisisd") : inc.rule},
                                   {"source", "crisisd"},
                                   {"incident_id", std::to_string(inc.id)}};
        // The label set is the alert's identity: a state database created anew numbers from 1
        // again, and its incident 1 must not be taken for the old one.
        if (!d.instance.empty()) labels["crisisd_instance"] = d.instance;
        if (!inc.key.empty()) labels["key"] = inc.key;
        if (inc.severity) labels["severity"] = incident::to_string(*inc.severity);
        boost::json::object annotations{{"summary", headline(*p)}};
        if (p->kind == incident::action_kind::statement) annotations["statement"] = p->text;
        boost::json::object alert{{"labels", std::move(labels)},
                                  {"annotations", std::move(annotations)},
                                  {"startsAt", core::format_rfc3339(starts)},
                                  {"endsAt", core::format_rfc3339(ends)}};
        if (!p->console_url.empty()) alert["generatorURL"] = p->console_url;
        std::string body = boost::json::serialize(boost::json::array{std::move(alert)});
        auto resp = co_await request("POST", endpoint_, {}, std::move(body));
        co_return judge(resp);
    }
    std::string_view type() const override { return "alertmanager"; }

private:
    std::string endpoint_;
};

}  // namespace

std::unique_ptr<channel> make_alertmanager(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<alertmanager_channel>(s, ex);
}

}  // namespace crisisd::notify::detail
