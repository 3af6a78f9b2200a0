#include "state/incident_snapshot.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/json_writer.hpp"

namespace crisisd::state {
namespace {

namespace json = boost::json;

std::int64_t micros(core::timestamp t) { return t.time_since_epoch().count(); }

std::string str(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t integer(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return 0;
}

double number(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return 0;
}

core::timestamp at(const json::object& o, std::string_view k) { return core::timestamp{core::duration{integer(o, k)}}; }

std::optional<core::timestamp> maybe_at(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v || v->is_null()) return std::nullopt;
    return at(o, k);
}

incident::incident_state incident_state_of(std::string_view s) {
    if (s == "acknowledged") return incident::incident_state::acknowledged;
    if (s == "resolved") return incident::incident_state::resolved;
    return incident::incident_state::open;
}

incident::step_state step_state_of(std::string_view s) {
    if (s == "awaiting_approval") return incident::step_state::awaiting_approval;
    if (s == "emitted") return incident::step_state::emitted;
    if (s == "vetoed") return incident::step_state::vetoed;
    if (s == "skipped") return incident::step_state::skipped;
    return incident::step_state::scheduled;
}

incident::step_kind step_kind_of(std::string_view s) {
    if (s == "statement") return incident::step_kind::statement;
    if (s == "escalate") return incident::step_kind::escalate;
    return incident::step_kind::notify;
}

// A step's recorded identity; nullopt when the snapshot has none (written before identities were
// kept) or one that cannot be read, which the engine treats as a changed step.
std::optional<incident::step_identity> identity_of(const json::value* v) {
    if (v == nullptr || !v->is_object()) return std::nullopt;
    const auto& o = v->get_object();
    incident::step_identity id;
    id.kind = step_kind_of(str(o, "kind"));
    id.statement = str(o, "statement");
    auto mode = incident::approval_from_string(str(o, "approval"));
    if (!mode) return std::nullopt;
    id.approval_mode = *mode;
    auto* channels = o.if_contains("channels");
    if (channels == nullptr || !channels->is_array()) return std::nullopt;
    for (const auto& c : channels->get_array()) {
        if (!c.is_string()) return std::nullopt;
        id.channels.emplace_back(c.get_string());
    }
    id.wait = core::duration{integer(o, "wait_us")};
    id.after = core::duration{integer(o, "after_us")};
    auto* unless = o.if_contains("unless_acknowledged");
    id.unless_acknowledged = unless == nullptr || !unless->is_bool() || unless->get_bool();
    return id;
}

void maybe_member(core::json_writer& w, std::string_view k, const std::optional<core::timestamp>& t) {
    w.key(k);
    if (t) w.value(micros(*t));
    else w.null();
}

}  // namespace

std::string incident_to_json(const incident::incident& inc) {
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("id", inc.id)
        .member("rule", inc.rule)
        .member("key", inc.key)
        .member("severity", inc.severity)
        .member("playbook", inc.playbook)
        .member("state", incident::to_string(inc.state))
        .member("opened_at_us", micros(inc.opened_at));
    maybe_member(w, "acknowledged_at_us", inc.acknowledged_at);
    maybe_member(w, "resolved_at_us", inc.resolved_at);
    const auto& e = inc.evidence;
    w.key("evidence").begin_object();
    w.member("count", e.count)
        .member("negative_count", e.negative_count)
        .member("negative_ratio", e.negative_ratio)
        .member("mean_compound", e.mean_compound)
        .member("unique_authors", e.unique_authors)
        .member("rate", e.rate)
        .member("baseline_rate", e.baseline_rate)
        .member("volume_ratio", e.volume_ratio)
        .member("zscore", e.zscore);
    w.end_object();
    w.key("languages").begin_object();
    for (const auto& [lang, n] : inc.languages) w.member(lang, static_cast<std::uint64_t>(n));
    w.end_object();
    w.key("steps").begin_array();
    for (const auto& st : inc.steps) {
        w.begin_object()
            .member("index", static_cast<std::uint64_t>(st.index))
            .member("on_resolve", st.on_resolve)
            .member("kind", incident::to_string(st.kind))
            .member("state", incident::to_string(st.state));
        maybe_member(w, "due_us", st.due);
        w.member("preview", st.preview).member("language", st.language).member("fresh_approval", st.fresh_approval);
        if (st.identity) {
            const auto& id = *st.identity;
            w.key("identity").begin_object();
            w.member("kind", incident::to_string(id.kind))
                .member("statement", id.statement)
                .member("approval", incident::to_string(id.approval_mode));
            w.key("channels").begin_array();
            for (const auto& c : id.channels) w.value(c);
            w.end_array();
            w.member("wait_us", id.wait.count())
                .member("after_us", id.after.count())
                .member("unless_acknowledged", id.unless_acknowledged);
            w.end_object();
        }
        w.end_object();
    }
    w.end_array();
    w.key("history").begin_array();
    for (const auto& h : inc.history)
        w.begin_object().member("at_us", micros(h.at)).member("who", h.who).member("what", h.what).end_object();
    w.end_array();
    w.end_object();
    return out;
}

std::optional<incident::incident> incident_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    auto* id = o.if_contains("id");
    if (!id || !(id->is_uint64() || id->is_int64())) return std::nullopt;
    incident::incident inc;
    inc.id = static_cast<std::uint64_t>(integer(o, "id"));
    inc.rule = str(o, "rule");
    inc.key = str(o, "key");
    inc.severity = str(o, "severity");
    inc.playbook = str(o, "playbook");
    inc.state = incident_state_of(str(o, "state"));
    inc.opened_at = at(o, "opened_at_us");
    inc.acknowledged_at = maybe_at(o, "acknowledged_at_us");
    inc.resolved_at = maybe_at(o, "resolved_at_us");
    if (auto* e = o.if_contains("evidence"); e && e->is_object()) {
        const auto& eo = e->get_object();
        auto& ev = inc.evidence;
        ev.count = number(eo, "count");
        ev.negative_count = number(eo, "negative_count");
        ev.negative_ratio = number(eo, "negative_ratio");
        ev.mean_compound = number(eo, "mean_compound");
        ev.unique_authors = number(eo, "unique_authors");
        ev.rate = number(eo, "rate");
        ev.baseline_rate = number(eo, "baseline_rate");
        ev.volume_ratio = number(eo, "volume_ratio");
        ev.zscore = number(eo, "zscore");
    }
    if (auto* l = o.if_contains("languages"); l && l->is_object())
        for (const auto& [lang, n] : l->get_object())
            if (n.is_int64() || n.is_uint64())
                inc.languages[std::string(lang)] =
                    static_cast<std::size_t>(n.is_int64() ? n.get_int64() : static_cast<std::int64_t>(n.get_uint64()));
    if (auto* s = o.if_contains("steps"); s && s->is_array()) {
        for (const auto& item : s->get_array()) {
            if (!item.is_object()) continue;
            const auto& so = item.get_object();
            incident::step_status st;
            st.index = static_cast<std::size_t>(integer(so, "index"));
            auto* r = so.if_contains("on_resolve");
            st.on_resolve = r && r->is_bool() && r->get_bool();
            st.kind = step_kind_of(str(so, "kind"));
            st.state = step_state_of(str(so, "state"));
            st.due = maybe_at(so, "due_us");
            st.preview = str(so, "preview");
            st.language = str(so, "language");
            auto* fresh = so.if_contains("fresh_approval");
            st.fresh_approval = fresh && fresh->is_bool() && fresh->get_bool();
            st.identity = identity_of(so.if_contains("identity"));
            inc.steps.push_back(std::move(st));
        }
    }
    if (auto* h = o.if_contains("history"); h && h->is_array()) {
        for (const auto& item : h->get_array()) {
            if (!item.is_object()) continue;
            const auto& ho = item.get_object();
            inc.history.push_back({at(ho, "at_us"), str(ho, "who"), str(ho, "what")});
        }
    }
    return inc;
}

}  // namespace crisisd::state
