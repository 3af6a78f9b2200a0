// PagerDuty Events API v2 (PROTOCOLS.md §6): trigger when an incident opens or escalates,
// acknowledge and resolve with the same dedup_key. The routing key in the body authenticates.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "notify/detail/http_channel.hpp"

namespace crisisd::notify::detail {
namespace {

constexpr std::string_view default_url = "https://events.pagerduty.com/v2/enqueue";

// PagerDuty knows four severities, crisisd's three among them; a payload without one (or with
// one this crisisd does not know) pages as an error rather than being refused with a 400.
std::string_view pd_severity(std::optional<incident::severity_level> s) {
    return s ? incident::to_string(*s) : "error";
}

class pagerduty_channel final : public http_channel {
public:
    pagerduty_channel(const channel_settings& s, boost::asio::any_io_executor ex) : http_channel(fixed(s), ex) {}

    boost::asio::awaitable<delivery_result> deliver(const delivery& d) override {
        auto p = incident::action_from_json(d.payload);
        if (!p) co_return bad_payload();
        if (p->kind != incident::action_kind::notify)
            co_return make_result(outcome::failed, 0, "pagerduty pages people; it does not post statements");
        const auto inc = p->incident.value_or(incident::incident_summary{});
        std::string_view action = "trigger";
        if (p->event == incident::action_event::acknowledged) action = "acknowledge";
        else if (p->event == incident::action_event::resolved) action = "resolve";
        // One alert per incident, whatever step or retry sends it: a repeated trigger attaches
        // to the open alert instead of paging twice. The instance keeps incident 1 of a state
        // database created anew from attaching to incident 1 of the old one.
        std::string dedup = "crisisd/" + (d.instance.empty() ? std::string() : d.instance + "/") +
                            (inc.rule.empty() ? std::string("incident") : inc.rule) + "/" +
                            std::to_string(inc.id);
        boost::json::object body{{"routing_key", settings_.routing_key}, {"event_action", action}, {"dedup_key", dedup}};
        if (action == "trigger") {
            auto summary = headline(*p);
            if (summary.size() > 1024) summary.resize(1024);
            boost::json::object details{{"incident_id", inc.id}, {"event", p->event ? incident::to_string(*p->event) : std::string_view()}};
            if (p->incident) details["opened_at"] = core::format_rfc3339(inc.opened_at);
            body["payload"] = boost::json::object{{"summary", summary},
                                                  {"source", "crisisd"},
                                                  {"severity", pd_severity(inc.severity)},
                                                  {"timestamp", core::format_rfc3339(p->at)},
                                                  {"component", inc.key},
                                                  {"class", inc.rule},
                                                  {"custom_details", std::move(details)}};
            body["client"] = "crisisd";
            if (!p->console_url.empty()) body["client_url"] = p->console_url;
        }
        auto resp = co_await request("POST", settings_.url, {}, boost::json::serialize(body));
        co_return judge(resp);
    }
    std::string_view type() const override { return "pagerduty"; }

private:
    static channel_settings fixed(channel_settings s) {
        if (s.url.empty()) s.url = default_url;
        return s;
    }
};

}  // namespace

std::unique_ptr<channel> make_pagerduty(const channel_settings& s, boost::asio::any_io_executor ex) {
    return std::make_unique<pagerduty_channel>(s, ex);
}

}  // namespace crisisd::notify::detail
