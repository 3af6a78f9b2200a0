#include "admin/cluster.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>

namespace crisisd::admin {

namespace json = boost::json;

namespace {

std::string_view text_of(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::int64_t number_of(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return 0;
}

// Adds the incidents of one replica's answer; false when the body is not an incident list.
bool take(std::string_view replica, std::string_view body, json::array& into, std::int64_t& omitted, bool& any_omitted,
          std::size_t& count) {
    json::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    auto& o = v.as_object();
    auto* list = o.if_contains("incidents");
    if (!list || !list->is_array()) return false;
    if (o.contains("resolved_omitted")) {
        any_omitted = true;
        omitted += number_of(o, "resolved_omitted");
    }
    count = 0;
    for (auto& inc : list->as_array()) {
        if (!inc.is_object()) continue;
        inc.as_object()["replica"] = replica;
        into.push_back(std::move(inc));
        ++count;
    }
    return true;
}

}  // namespace


std::string merge_incident_lists(std::string_view self, std::string_view local, const std::vector<peer_answer>& peers) {
    json::array incidents;
    json::array replicas;
    json::array unanswered;
    std::int64_t omitted = 0;
    bool any_omitted = false;
    std::size_t n = 0;
    if (take(self, local, incidents, omitted, any_omitted, n))
        replicas.push_back(json::object{{"name", self}, {"incidents", n}});
    for (const auto& p : peers) {
        std::string why = p.error;
        if (p.status == 200 && take(p.name, p.body, incidents, omitted, any_omitted, n)) {
            replicas.push_back(json::object{{"name", p.name}, {"incidents", n}});
            continue;
        }
        if (p.status == 200) why = "its answer was not an incident list";
        else if (p.status != 0) why = "HTTP " + std::to_string(p.status) + (why.empty() ? "" : ": " + why);
        else if (why.empty()) why = "no answer";
        unanswered.push_back(json::object{{"name", p.name}, {"error", why}});
    }
    // Newest opened first across replicas, as each replica lists its own (RFC 3339 in UTC sorts
    // as text); the id breaks ties.
    std::stable_sort(incidents.begin(), incidents.end(), [](const json::value& a, const json::value& b) {
        const auto& x = a.as_object();
        const auto& y = b.as_object();
        auto tx = text_of(x, "opened_at");
        auto ty = text_of(y, "opened_at");
        if (tx != ty) return tx > ty;
        return number_of(x, "id") > number_of(y, "id");
    });
    json::object out{{"incidents", std::move(incidents)}};
    if (any_omitted) out["resolved_omitted"] = omitted;
    out["replicas"] = std::move(replicas);
    out["unanswered"] = std::move(unanswered);
    return json::serialize(out);
}

std::string forwarded_name(std::string_view who, std::string_view via) {
    std::string name(who.substr(0, 64));
    return name + " (via " + std::string(via.substr(0, 64)) + ")";
}

}  // namespace crisisd::admin
