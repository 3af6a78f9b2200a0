#include "report/incident_log.hpp"

#include <algorithm>

#include "incident/codec.hpp"

namespace crisisd::report {
namespace {

const std::vector<incident::action> no_actions;
const std::deque<series_point> no_series;

// What a step is: its recorded identity once it started; before that (an on_resolve step before
// resolution, or a snapshot from before identities were kept) the playbook's step at its place.
std::optional<incident::step_identity> step_of(const std::vector<incident::playbook_settings>& playbooks,
                                               const std::string& playbook, const incident::step_status& s) {
    if (s.identity) return s.identity;
    for (const auto& pb : playbooks) {
        if (pb.name != playbook) continue;
        // Step numbers run across the incident: opening steps first, then on_resolve steps.
        if (!s.on_resolve)
            return s.index < pb.steps.size() ? std::optional(incident::identity_of(pb.steps[s.index])) : std::nullopt;
        auto i = s.index - pb.steps.size();
        return s.index >= pb.steps.size() && i < pb.on_resolve.size()
                   ? std::optional(incident::identity_of(pb.on_resolve[i]))
                   : std::nullopt;
    }
    return std::nullopt;
}

void maybe_time(core::json_writer& w, std::string_view k, const std::optional<core::timestamp>& t) {
    w.key(k);
    if (t) w.value(core::format_rfc3339(*t));
    else w.null();
}

}  // namespace

std::string_view to_string(delivery_status s) {
    switch (s) {
        case delivery_status::pending: return "pending";
        case delivery_status::sent: return "sent";
        case delivery_status::failed: return "failed";
    }
    return "pending";
}

delivery_status delivery_status_of(const state::record* rec) {
    if (rec == nullptr) return delivery_status::pending;
    switch (rec->state) {
        case state::record_state::sent: return delivery_status::sent;
        case state::record_state::dead: return delivery_status::failed;
        case state::record_state::pending: return delivery_status::pending;
    }
    return delivery_status::pending;
}

const std::vector<incident::action>& incident_log::actions(std::uint64_t id) const {
    auto it = actions_.find(id);
    return it == actions_.end() ? no_actions : it->second;
}

const std::deque<series_point>& incident_log::series(std::uint64_t id) const {
    auto it = series_.find(id);
    return it == series_.end() ? no_series : it->second;
}

void incident_log::forget(const std::vector<std::uint64_t>& retired) {
    for (std::uint64_t id : retired) {
        actions_.erase(id);
        series_.erase(id);
        rendered_.erase(id);
    }
}

void incident_log::changed(std::span<const std::uint64_t> ids) {
    for (std::uint64_t id : ids) rendered_.erase(id);
}

bool incident_log::settled(const incident::incident& inc, const action_status_fn& status) const {
    if (inc.state != incident::incident_state::resolved) return false;
    for (const auto& s : inc.steps)
        if (s.state == incident::step_state::scheduled || s.state == incident::step_state::awaiting_approval) return false;
    for (const auto& a : actions(inc.id))
        if (status(a) == delivery_status::pending) return false;
    return true;
}

void incident_log::sample(const pipeline::pipeline& p, core::timestamp now, std::size_t max_points) {
    p.incidents().for_each_open([&](const incident::incident& inc) {
        auto rule = p.rule_index(inc.rule);
        if (rule >= p.rules().size()) return;
        auto m = p.metrics(rule, inc.key, now);
        series_point pt{now, 0, 0, 0, 0};
        if (m) pt = {now, m->rate, m->baseline_rate, m->negative_ratio, m->count};
        auto& s = series_[inc.id];
        if (s.empty()) {
            // Start the chart with the evidence at opening, so it shows the rise.
            s.push_back({inc.opened_at, inc.evidence.rate, inc.evidence.baseline_rate, inc.evidence.negative_ratio,
                         inc.evidence.count});
        }
        s.push_back(pt);
        while (s.size() > max_points) s.pop_front();
    });
}

void incident_log::write(core::json_writer& w, const pipeline::pipeline& p, const incident::incident& inc,
                         const std::vector<incident::playbook_settings>& playbooks, const action_status_fn& status,
                         const view_options& o) const {
    w.begin_object();
    w.member("id", static_cast<std::uint64_t>(inc.id))
        .member("rule", inc.rule)
        .member("key", inc.key)
        .member("severity", incident::to_string(inc.severity))
        .member("state", incident::to_string(inc.state))
        .member("opened_at", core::format_rfc3339(inc.opened_at));
    maybe_time(w, "acknowledged_at", inc.acknowledged_at);
    maybe_time(w, "resolved_at", inc.resolved_at);
    w.key("evidence").begin_object();
    incident::write_evidence(w, inc.evidence, incident::evidence_form::full);
    write_samples(w, p, inc.id);
    w.end_object();
    write_actions(w, inc, playbooks, status);
    if (o.detail) {
        write_steps(w, inc, playbooks, status, o);
        w.key("history").begin_array();
        for (const auto& h : inc.history)
            w.begin_object().member("at", core::format_rfc3339(h.at)).member("who", h.who).member("what", h.what).end_object();
        w.end_array();
        if (o.series) write_series(w, inc.id);
    }
    w.end_object();
}

void incident_log::write_samples(core::json_writer& w, const pipeline::pipeline& p, std::uint64_t id) {
    w.key("samples").begin_array();
    for (const auto& s : p.evidence(id)) {
        w.begin_object()
            .member("id", s.id)
            .member("author", s.author)
            .member("author_vouched", s.author_vouched)
            .member("source", s.source)
            .member("network", s.network)
            .member("text", s.text)
            .member("url", s.url)
            .member("lang", s.lang)
            .member("compound", s.compound)
            .member("at", core::format_rfc3339(s.at))
            .end_object();
    }
    w.end_array();
}

// Every emitted action with its delivery status, then statement steps that were vetoed or are
// still waiting, so a report shows what did not go out too.
void incident_log::write_actions(core::json_writer& w, const incident::incident& inc,
                                 const std::vector<incident::playbook_settings>& playbooks,
                                 const action_status_fn& status) const {
    w.key("actions").begin_array();
    for (const auto& a : actions(inc.id)) {
        w.begin_object()
            .member("step", static_cast<std::uint64_t>(a.step))
            .member("phase", a.on_resolve ? "resolve" : "open")
            .member("channel", a.channel)
            .member("kind", incident::to_string(a.kind))
            .member("status", to_string(status(a)))
            .member("at", core::format_rfc3339(a.at));
        // The report keeps what was posted, byte for byte.
        if (a.kind == incident::action_kind::statement) w.member("text", a.text);
        if (a.event != incident::action_event::none) w.member("event", incident::to_string(a.event));
        w.end_object();
    }
    for (const auto& s : inc.steps) {
        if (s.state != incident::step_state::vetoed && s.state != incident::step_state::scheduled &&
            s.state != incident::step_state::awaiting_approval)
            continue;
        if (s.kind == incident::step_kind::escalate && s.state != incident::step_state::vetoed) continue;
        const auto st = step_of(playbooks, inc.playbook, s);
        if (!st) continue;
        for (const auto& ch : st->channels) {
            w.begin_object()
                .member("step", static_cast<std::uint64_t>(s.index))
                .member("phase", s.on_resolve ? "resolve" : "open")
                .member("channel", ch)
                .member("kind", incident::to_string(incident::action_kind_of(s.kind)))
                .member("status", s.state == incident::step_state::vetoed ? incident::to_string(s.state)
                                                                         : to_string(delivery_status::pending));
            maybe_time(w, "at", s.due);
            if (s.kind == incident::step_kind::statement) w.member("text", s.preview);
            w.end_object();
        }
    }
    w.end_array();
}

void incident_log::write_steps(core::json_writer& w, const incident::incident& inc,
                               const std::vector<incident::playbook_settings>& playbooks, const action_status_fn& status,
                               const view_options& o) const {
    const auto& emitted = actions(inc.id);
    w.key("steps").begin_array();
    for (const auto& s : inc.steps) {
        const auto st = step_of(playbooks, inc.playbook, s);
        w.begin_object()
            .member("index", static_cast<std::uint64_t>(s.index))
            .member("phase", s.on_resolve ? "resolve" : "open")
            .member("kind", incident::to_string(s.kind))
            .member("state", incident::to_string(s.state));
        w.key("channels").begin_array();
        if (st)
            for (const auto& ch : st->channels) w.value(ch);
        w.end_array();
        if (st && s.kind == incident::step_kind::statement) {
            w.member("statement", st->statement)
                .member("approval", incident::to_string(s.fresh_approval ? incident::approval::required
                                                                          : st->approval_mode));
        }
        if (s.fresh_approval) w.member("changed_since_opening", true);
        w.member("text", s.preview);
        if (!s.language.empty()) w.member("language", s.language);
        std::optional<delivery_status> delivery;
        for (const auto& a : emitted)
            if (a.step == s.index && a.on_resolve == s.on_resolve && a.event != incident::action_event::veto_restarted) delivery = status(a);
        if (delivery) w.member("status", to_string(*delivery));
        maybe_time(w, "due", s.due);
        w.key("due_in_ms");
        if (s.due && s.state == incident::step_state::scheduled && o.wall_ms)
            w.value(std::max<std::int64_t>(0, o.wall_ms(*s.due - o.now)));
        else
            w.null();
        w.end_object();
    }
    w.end_array();
}

void incident_log::write_series(core::json_writer& w, std::uint64_t id) const {
    w.key("series").begin_array();
    for (const auto& pt : series(id)) {
        w.begin_object()
            .member("at", core::format_rfc3339(pt.at))
            .member("rate", pt.rate)
            .member("baseline_rate", pt.baseline_rate)
            .member("negative_ratio", pt.negative_ratio)
            .member("count", pt.count)
            .end_object();
    }
    w.end_array();
}

std::string incident_log::write_all(const pipeline::pipeline& p, const std::vector<incident::playbook_settings>& playbooks,
                                    const action_status_fn& status, const view_options& o, bool newest_first,
                                    std::optional<std::uint64_t> mentions_processed) const {
    std::string out;
    core::json_writer w(out);
    w.begin_object();
    w.key("incidents").begin_array();
    const auto& all = p.incidents().incidents();
    if (newest_first) {
        for (auto it = all.rbegin(); it != all.rend(); ++it) write(w, p, *it, playbooks, status, o);
    } else {
        for (const auto& inc : all) write(w, p, inc, playbooks, status, o);
    }
    w.end_array();
    if (mentions_processed) w.member("mentions_processed", *mentions_processed);
    w.member("now", core::format_rfc3339(o.now));
    w.end_object();
    return out;
}

std::string incident_log::write_list(const pipeline::pipeline& p,
                                     const std::vector<incident::playbook_settings>& playbooks,
                                     const action_status_fn& status, const view_options& o,
                                     std::optional<std::size_t> resolved_limit) const {
    view_options detail = o;
    detail.detail = true;
    detail.series = true;
    std::string out;
    core::json_writer w(out);
    w.begin_object();
    w.key("incidents").begin_array();
    const auto& all = p.incidents().incidents();
    std::string one;
    std::size_t resolved = 0, omitted = 0;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (resolved_limit && it->state == incident::incident_state::resolved && resolved++ >= *resolved_limit) {
            ++omitted;
            continue;
        }
        if (auto c = rendered_.find(it->id); c != rendered_.end()) {
            w.raw(c->second);
            continue;
        }
        one.clear();
        core::json_writer iw(one);
        write(iw, p, *it, playbooks, status, detail);
        w.raw(one);
        if (settled(*it, status)) rendered_.emplace(it->id, one);
    }
    w.end_array();
    if (resolved_limit) w.member("resolved_omitted", static_cast<std::uint64_t>(omitted));
    w.member("now", core::format_rfc3339(o.now));
    w.end_object();
    return out;
}

}  // namespace crisisd::report
