#include "runtime/follow_ups.hpp"

#include <algorithm>

#include "notify/traits.hpp"

namespace crisisd::runtime {

follow_ups::follow_ups(state::database& store, std::map<std::string, std::string, std::less<>> channel_types)
    : store_(store), channel_types_(std::move(channel_types)) {}

void follow_ups::add(const incident::engine& incidents, std::uint64_t id, incident::action_event event,
                     core::timestamp now, std::vector<incident::action>& out) const {
    if (!incidents.find(id)) return;
    std::vector<std::string> seen;
    for (const auto& rec : store_.actions().for_incident(id)) {
        if (incident::action_kind_from_string(rec.kind) != incident::action_kind::notify || std::find(seen.begin(), seen.end(), rec.channel) != seen.end()) continue;
        auto type = channel_types_.find(rec.channel);
        if (type == channel_types_.end()) continue;
        const notify::channel_traits* traits = notify::traits_of(type->second);
        if (traits == nullptr || !traits->follows(event)) continue;
        seen.push_back(rec.channel);
        const bool planned = std::any_of(out.begin(), out.end(), [&](const incident::action& a) {
            return a.channel == rec.channel && a.event == event;
        });
        if (planned) continue;
        const std::string name(incident::to_string(event));
        incident::action a;
        a.idempotency_key = std::to_string(id) + "/" + name + "/" + rec.channel;
        a.incident_id = id;
        a.kind = incident::action_kind::notify;
        a.channel = rec.channel;
        a.event = event;
        a.text = "incident " + std::to_string(id) + " " + name;
        a.at = now;
        out.push_back(std::move(a));
    }
}

}  // namespace crisisd::runtime
