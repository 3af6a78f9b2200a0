#include "admin/cluster_feed.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <set>

#include "core/json_writer.hpp"

namespace crisisd::admin {

namespace json = boost::json;

namespace {

// What a replica's name may be (cluster::valid_name); anything else is not a peer's message.
bool plausible_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::optional<std::uint64_t> id_of(const json::value& v) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
}

bool resolved(const json::object& incident) {
    const auto* s = incident.if_contains("state");
    return s && s->is_string() && s->get_string() == "resolved";
}

// {"replica":R,"incidents":[…],"removed":[…]}: the body of a "changes" event.
std::string relay_body(std::string_view replica, const std::vector<std::string>& incidents,
                       const std::vector<std::uint64_t>& removed) {
    std::string out;
    core::json_writer w(out);
    w.begin_object().member("replica", replica).key("incidents").begin_array();
    for (const auto& inc : incidents) w.raw(inc);
    w.end_array().key("removed").begin_array();
    for (auto id : removed) w.value(id);
    w.end_array().end_object();
    return out;
}

}  // namespace

std::string with_replica(std::string_view incident, std::string_view name) {
    std::string member;
    core::json_writer w(member);
    w.key("replica").value(name);
    const auto open = incident.find('{');
    if (open == std::string_view::npos) return std::string(incident);
    std::string out;
    out.reserve(incident.size() + member.size() + 1);
    out.append(incident.substr(0, open + 1)).append(member);
    // An empty object takes the member alone.
    const auto rest = incident.substr(open + 1);
    const auto next = rest.find_first_not_of(" \t\r\n");
    if (next != std::string_view::npos && rest[next] != '}') out += ',';
    out.append(rest);
    return out;
}

cluster_feed::cluster_feed(std::string self) : self_(std::move(self)) {}

std::vector<std::string> cluster_feed::changes(const std::vector<std::string>& incidents,
                                               const std::vector<std::uint64_t>& removed) const {
    std::string head;
    core::json_writer(head).begin_object().member("replica", self_).member("kind", "changes").key("incidents").begin_array();
    std::vector<std::string> out;
    std::string msg = head;
    bool empty = true;
    for (const auto& inc : incidents) {
        // A full message goes; the incident starts the next one (one incident alone may be larger:
        // it goes by itself, and the subject refuses it only beyond the servers' max_payload).
        if (!empty && msg.size() + inc.size() + 64 > max_message_bytes) {
            out.push_back(msg + "],\"removed\":[]}");
            msg = head;
            empty = true;
        }
        if (!empty) msg += ',';
        msg += inc;
        empty = false;
    }
    msg += "],\"removed\":[";
    bool first = true;
    for (auto id : removed) {
        if (!first) msg += ',';
        msg += std::to_string(id);
        first = false;
    }
    msg += "]}";
    out.push_back(std::move(msg));
    return out;
}

std::string cluster_feed::live(const std::vector<std::uint64_t>& ids) const {
    std::string out;
    core::json_writer w(out);
    w.begin_object().member("replica", self_).member("kind", "live").key("ids").begin_array();
    for (auto id : ids) w.value(id);
    w.end_array().end_object();
    return out;
}

std::string cluster_feed::hello() const {
    std::string out;
    core::json_writer(out).begin_object().member("replica", self_).member("kind", "hello").end_object();
    return out;
}

std::optional<std::string> cluster_feed::take(std::string_view message, bool& full_round_asked) {
    json::error_code ec;
    auto v = json::parse(message, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto& o = v.as_object();
    const auto* r = o.if_contains("replica");
    const auto* k = o.if_contains("kind");
    if (!r || !r->is_string() || !k || !k->is_string()) return std::nullopt;
    const std::string replica(r->get_string());
    if (replica == self_ || !plausible_name(replica)) return std::nullopt;
    const std::string_view kind = k->get_string();

    if (kind == "hello") {
        full_round_asked = true;
        return std::nullopt;
    }
    auto& held_now = peers_[replica].incidents;
    std::vector<std::string> incidents;
    std::vector<std::uint64_t> removed;
    if (kind == "changes") {
        if (auto* list = o.if_contains("incidents"); list && list->is_array()) {
            for (auto& inc : list->as_array()) {
                if (!inc.is_object()) continue;
                auto& io = inc.as_object();
                const auto* idv = io.if_contains("id");
                const auto id = idv ? id_of(*idv) : std::nullopt;
                if (!id) continue;
                // Whose it is is the message's to say, whatever the incident claims; first, as
                // with_replica puts it, so that one incident always reads the same.
                json::object named;
                named.reserve(io.size() + 1);
                named.emplace("replica", replica);
                for (auto& [key, value] : io)
                    if (key != "replica") named.emplace(key, std::move(value));
                auto text = json::serialize(named);
                if (resolved(named)) {
                    held_now.erase(*id);
                } else if (auto it = held_now.find(*id); it != held_now.end()) {
                    // A full round repeats what consoles were told already: relayed only if changed.
                    if (it->second == text) continue;
                    it->second = text;
                } else if (held_now.size() < max_incidents_per_replica) {
                    held_now.emplace(*id, text);
                }
                incidents.push_back(std::move(text));
            }
        }
        if (auto* list = o.if_contains("removed"); list && list->is_array())
            for (const auto& idv : list->as_array())
                if (auto id = id_of(idv)) {
                    held_now.erase(*id);
                    removed.push_back(*id);
                }
    } else if (kind == "live") {
        const auto* list = o.if_contains("ids");
        if (!list || !list->is_array()) return std::nullopt;
        std::set<std::uint64_t> ids;
        for (const auto& idv : list->as_array())
            if (auto id = id_of(idv)) ids.insert(*id);
        for (auto it = held_now.begin(); it != held_now.end();) {
            if (ids.contains(it->first)) {
                ++it;
                continue;
            }
            removed.push_back(it->first);
            it = held_now.erase(it);
        }
    } else {
        return std::nullopt;
    }
    if (incidents.empty() && removed.empty()) return std::nullopt;
    return relay_body(replica, incidents, removed);
}

std::vector<std::string> cluster_feed::keep_only(const std::vector<std::string>& members,
                                                 std::chrono::steady_clock::time_point now) {
    std::vector<std::string> out;
    for (auto it = peers_.begin(); it != peers_.end();) {
        auto& m = it->second;
        if (std::find(members.begin(), members.end(), it->first) != members.end()) {
            m.absent_since.reset();
            ++it;
            continue;
        }
        if (!m.absent_since) m.absent_since = now;
        if (now - *m.absent_since < absent_grace) {
            ++it;
            continue;
        }
        std::vector<std::uint64_t> removed;
        for (const auto& [id, text] : m.incidents) removed.push_back(id);
        if (!removed.empty()) out.push_back(relay_body(it->first, {}, removed));
        it = peers_.erase(it);
    }
    return out;
}

std::vector<std::pair<std::uint64_t, std::string>> cluster_feed::live_incidents(
    const std::vector<std::uint64_t>& local_ids,
    const std::function<std::optional<std::string>(std::uint64_t)>& owner) const {
    const std::set<std::uint64_t> local(local_ids.begin(), local_ids.end());
    // id -> (replica, text): the owner's copy replaces another's.
    std::map<std::uint64_t, std::pair<const std::string*, const std::string*>> chosen;
    for (const auto& [replica, m] : peers_)
        for (const auto& [id, text] : m.incidents) {
            if (local.contains(id)) continue;
            auto [it, fresh] = chosen.try_emplace(id, &replica, &text);
            if (fresh) continue;
            if (const auto o = owner(id); o && *o == replica) it->second = {&replica, &text};
        }
    std::vector<std::pair<std::uint64_t, std::string>> out;
    out.reserve(chosen.size());
    for (const auto& [id, pick] : chosen) out.emplace_back(id, *pick.second);
    return out;
}

std::size_t cluster_feed::held() const {
    std::size_t n = 0;
    for (const auto& [replica, m] : peers_) n += m.incidents.size();
    return n;
}

}  // namespace crisisd::admin
