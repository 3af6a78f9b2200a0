#include "incident/codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace crisisd::incident {
namespace {

namespace json = boost::json;

std::int64_t micros(core::timestamp t) { return t.time_since_epoch().count(); }

// Readers: a field of the wrong type reads as missing.
std::string str(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t integer(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    // A double out of int64's range is undefined behaviour to convert: read it as missing.
    if (v->is_double() && v->get_double() > -9.2e18 && v->get_double() < 9.2e18)
        return static_cast<std::int64_t>(v->get_double());
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

bool flag(const json::object& o, std::string_view k, bool otherwise) {
    auto* v = o.if_contains(k);
    return v && v->is_bool() ? v->get_bool() : otherwise;
}

const json::object* object_at(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* array_at(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_array() ? &v->get_array() : nullptr;
}

core::timestamp at_us(const json::object& o, std::string_view k) { return core::timestamp{core::duration{integer(o, k)}}; }

std::optional<core::timestamp> maybe_at_us(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (!v || v->is_null()) return std::nullopt;
    return at_us(o, k);
}

std::optional<core::timestamp> maybe_rfc3339(const json::object& o, std::string_view k) {
    return core::parse_rfc3339(str(o, k));
}

template <class E>
E or_first(std::optional<E> e) {
    return e.value_or(E{});
}

void maybe_member_us(core::json_writer& w, std::string_view k, const std::optional<core::timestamp>& t) {
    w.key(k);
    if (t) w.value(micros(*t));
    else w.null();
}

detect::metrics_snapshot read_evidence(const json::object& o) {
    detect::metrics_snapshot ev;
    ev.count = number(o, "count");
    ev.negative_count = number(o, "negative_count");
    ev.negative_ratio = number(o, "negative_ratio");
    ev.mean_compound = number(o, "mean_compound");
    ev.unique_authors = number(o, "unique_authors");
    ev.rate = number(o, "rate");
    ev.baseline_rate = number(o, "baseline_rate");
    ev.volume_ratio = number(o, "volume_ratio");
    ev.zscore = number(o, "zscore");
    return ev;
}

void write_identity(core::json_writer& w, const step_identity& id) {
    w.key("identity").begin_object();
    w.member("kind", to_string(id.kind)).member("statement", id.statement).member("approval", to_string(id.approval_mode));
    w.key("channels").begin_array();
    for (const auto& c : id.channels) w.value(c);
    w.end_array();
    w.member("wait_us", id.wait.count())
        .member("after_us", id.after.count())
        .member("unless_acknowledged", id.unless_acknowledged);
    w.end_object();
}

// A step's recorded identity; nullopt when the snapshot has none (written before identities were
// kept) or one that cannot be read, which the engine treats as a changed step.
std::optional<step_identity> read_identity(const json::object* o) {
    if (o == nullptr) return std::nullopt;
    step_identity id;
    id.kind = or_first(step_kind_from_string(str(*o, "kind")));
    id.statement = str(*o, "statement");
    auto mode = approval_from_string(str(*o, "approval"));
    if (!mode) return std::nullopt;
    id.approval_mode = *mode;
    const auto* channels = array_at(*o, "channels");
    if (channels == nullptr) return std::nullopt;
    for (const auto& c : *channels) {
        if (!c.is_string()) return std::nullopt;
        id.channels.emplace_back(c.get_string());
    }
    id.wait = core::duration{integer(*o, "wait_us")};
    id.after = core::duration{integer(*o, "after_us")};
    id.unless_acknowledged = flag(*o, "unless_acknowledged", true);
    return id;
}

void write_step(core::json_writer& w, const step_status& st) {
    w.begin_object()
        .member("index", static_cast<std::uint64_t>(st.index))
        .member("on_resolve", st.on_resolve)
        .member("kind", to_string(st.kind))
        .member("state", to_string(st.state));
    maybe_member_us(w, "due_us", st.due);
    w.member("preview", st.preview).member("language", st.language).member("fresh_approval", st.fresh_approval);
    if (st.identity) write_identity(w, *st.identity);
    w.end_object();
}

step_status read_step(const json::object& o) {
    step_status st;
    st.index = static_cast<std::size_t>(integer(o, "index"));
    st.on_resolve = flag(o, "on_resolve", false);
    st.kind = or_first(step_kind_from_string(str(o, "kind")));
    st.state = or_first(step_state_from_string(str(o, "state")));
    st.due = maybe_at_us(o, "due_us");
    st.preview = str(o, "preview");
    st.language = str(o, "language");
    st.fresh_approval = flag(o, "fresh_approval", false);
    st.identity = read_identity(object_at(o, "identity"));
    return st;
}

std::map<std::string, std::size_t> read_languages(const json::object* o) {
    std::map<std::string, std::size_t> out;
    if (o == nullptr) return out;
    for (const auto& [lang, n] : *o) {
        if (n.is_uint64()) out[std::string(lang)] = static_cast<std::size_t>(n.get_uint64());
        else if (n.is_int64()) out[std::string(lang)] = static_cast<std::size_t>(n.get_int64());
    }
    return out;
}

incident_summary read_summary(const json::object& o) {
    incident_summary s;
    if (auto* id = o.if_contains("id")) {
        if (id->is_uint64()) s.id = id->get_uint64();
        else if (id->is_int64() && id->get_int64() >= 0) s.id = static_cast<std::uint64_t>(id->get_int64());
    }
    s.rule = str(o, "rule");
    s.key = str(o, "key");
    s.severity = severity_level_from_string(str(o, "severity"));
    s.state = incident_state_from_string(str(o, "state"));
    s.opened_at = maybe_rfc3339(o, "opened_at").value_or(core::timestamp{});
    s.resolved_at = maybe_rfc3339(o, "resolved_at");
    if (const auto* e = object_at(o, "evidence")) s.evidence = read_evidence(*e);
    return s;
}

}  // namespace

void write_evidence(core::json_writer& w, const detect::metrics_snapshot& m, evidence_form form) {
    if (form == evidence_form::summary) {
        w.member("count", m.count)
            .member("negative_count", m.negative_count)
            .member("negative_ratio", m.negative_ratio)
            .member("unique_authors", m.unique_authors)
            .member("volume_ratio", m.volume_ratio)
            .member("rate", m.rate)
            .member("baseline_rate", m.baseline_rate);
        return;
    }
    w.member("count", m.count)
        .member("negative_count", m.negative_count)
        .member("negative_ratio", m.negative_ratio)
        .member("mean_compound", m.mean_compound)
        .member("unique_authors", m.unique_authors)
        .member("rate", m.rate)
        .member("baseline_rate", m.baseline_rate)
        .member("volume_ratio", m.volume_ratio)
        .member("zscore", m.zscore);
}

std::string incident_to_json(const incident& inc) {
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("id", inc.id)
        .member("rule", inc.rule)
        .member("key", inc.key)
        .member("severity", to_string(inc.severity))
        .member("playbook", inc.playbook)
        .member("state", to_string(inc.state))
        .member("opened_at_us", micros(inc.opened_at));
    maybe_member_us(w, "acknowledged_at_us", inc.acknowledged_at);
    maybe_member_us(w, "resolved_at_us", inc.resolved_at);
    w.key("evidence").begin_object();
    write_evidence(w, inc.evidence, evidence_form::full);
    w.end_object();
    w.key("languages").begin_object();
    for (const auto& [lang, n] : inc.languages) w.member(lang, static_cast<std::uint64_t>(n));
    w.end_object();
    w.key("steps").begin_array();
    for (const auto& st : inc.steps) write_step(w, st);
    w.end_array();
    w.key("history").begin_array();
    for (const auto& h : inc.history)
        w.begin_object().member("at_us", micros(h.at)).member("who", h.who).member("what", h.what).end_object();
    w.end_array();
    w.end_object();
    return out;
}

std::optional<incident> incident_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    auto* id = o.if_contains("id");
    if (!id || !(id->is_uint64() || id->is_int64())) return std::nullopt;
    incident inc;
    inc.id = static_cast<std::uint64_t>(integer(o, "id"));
    inc.rule = str(o, "rule");
    inc.key = str(o, "key");
    inc.severity = severity_level_from_string(str(o, "severity")).value_or(severity_level::warning);
    inc.playbook = str(o, "playbook");
    inc.state = or_first(incident_state_from_string(str(o, "state")));
    inc.opened_at = at_us(o, "opened_at_us");
    inc.acknowledged_at = maybe_at_us(o, "acknowledged_at_us");
    inc.resolved_at = maybe_at_us(o, "resolved_at_us");
    if (const auto* e = object_at(o, "evidence")) inc.evidence = read_evidence(*e);
    inc.languages = read_languages(object_at(o, "languages"));
    if (const auto* steps = array_at(o, "steps"))
        for (const auto& item : *steps)
            if (item.is_object()) inc.steps.push_back(read_step(item.get_object()));
    if (const auto* history = array_at(o, "history")) {
        for (const auto& item : *history) {
            if (!item.is_object()) continue;
            const auto& ho = item.get_object();
            inc.history.push_back({at_us(ho, "at_us"), str(ho, "who"), str(ho, "what")});
        }
    }
    return inc;
}

std::string action_to_json(const action& a, const incident* inc, std::string_view console_url) {
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("idempotency_key", a.idempotency_key)
        .member("kind", to_string(a.kind))
        .member("channel", a.channel)
        .member("text", a.text)
        .member("at", core::format_rfc3339(a.at));
    if (a.event != action_event::none) w.member("event", to_string(a.event));
    // How it was approved travels with a statement: the outbox refuses `required` without an approver.
    if (a.kind == action_kind::statement)
        w.member("statement", a.statement)
            .member("language", a.language)
            .member("approval", to_string(a.approval_mode))
            .member("approved_by", a.approved_by);
    if (inc) {
        w.key("incident").begin_object();
        w.member("id", static_cast<std::uint64_t>(inc->id))
            .member("rule", inc->rule)
            .member("key", inc->key)
            .member("severity", to_string(inc->severity))
            .member("state", to_string(inc->state))
            .member("opened_at", core::format_rfc3339(inc->opened_at));
        if (inc->resolved_at) w.member("resolved_at", core::format_rfc3339(*inc->resolved_at));
        w.key("evidence").begin_object();
        write_evidence(w, inc->evidence, evidence_form::summary);
        w.end_object();
        w.end_object();
        if (!console_url.empty()) w.member("console_url", std::string(console_url) + "#incident-" + std::to_string(inc->id));
    }
    w.end_object();
    return out;
}

std::optional<action_payload> action_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    action_payload p;
    p.idempotency_key = str(o, "idempotency_key");
    p.kind = action_kind_from_string(str(o, "kind"));
    p.channel = str(o, "channel");
    p.text = str(o, "text");
    p.at = maybe_rfc3339(o, "at").value_or(core::timestamp{});
    p.event = action_event_from_string(str(o, "event"));
    p.statement = str(o, "statement");
    p.language = str(o, "language");
    if (const auto* mode = o.if_contains("approval")) {
        p.has_approval = true;
        if (mode->is_string()) p.approval_mode = approval_from_string(mode->get_string());
    }
    p.approved_by = str(o, "approved_by");
    if (const auto* inc = object_at(o, "incident")) p.incident = read_summary(*inc);
    p.console_url = str(o, "console_url");
    return p;
}

}  // namespace crisisd::incident
