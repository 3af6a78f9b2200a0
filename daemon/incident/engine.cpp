#include "incident/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "incident/template.hpp"

namespace crisisd::incident {

step_identity identity_of(const step_settings& s) {
    step_identity id;
    id.kind = s.kind;
    id.channels = s.channels;
    // Only what the kind uses, so an unused field edited in the YAML is not a change.
    switch (s.kind) {
        case step_kind::statement:
            id.statement = s.statement;
            id.approval_mode = s.approval_mode;
            if (s.approval_mode == approval::veto) id.wait = s.wait;
            break;
        case step_kind::escalate:
            id.after = s.after;
            id.unless_acknowledged = s.unless_acknowledged;
            break;
        case step_kind::notify: break;
    }
    return id;
}

namespace {

constexpr std::string_view system_actor = "crisisd";

std::string open_key(std::string_view rule, std::string_view key) {
    std::string k;
    k.reserve(rule.size() + key.size() + 1);
    k.append(rule).push_back('\0');
    k.append(key);
    return k;
}

bool approved(const statement_settings& s) { return !s.approved_by.empty() && !s.approved_at.empty(); }

std::string compact(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

// Majority language of the incident's mentions among those the statement has a text for; ties
// go to the fallback language, then to the alphabetically first. Without any such mention the
// fallback, and without a fallback text any text at all.
std::string choose_language(const statement_settings& s, const std::map<std::string, std::size_t>& languages) {
    std::string best;
    std::size_t best_count = 0;
    for (const auto& [lang, n] : languages) {
        if (n == 0 || !s.text.contains(lang)) continue;
        if (n > best_count || (n == best_count && lang == s.fallback_language)) {
            best = lang;
            best_count = n;
        }
    }
    if (!best.empty()) return best;
    if (s.text.contains(s.fallback_language)) return s.fallback_language;
    return s.text.empty() ? std::string{} : s.text.begin()->first;
}

}  // namespace

struct engine::impl {
    engine_settings settings;
    std::unordered_map<std::string, std::size_t> playbook_index;
    std::unordered_map<std::string, std::size_t> statement_index;

    std::vector<incident> incidents;
    std::unordered_map<std::uint64_t, std::size_t> by_id;
    std::unordered_map<std::string, std::uint64_t> open_by_key;  // rule + '\0' + key
    std::uint64_t next_id = 1;
    std::function<std::uint64_t(std::string_view, std::string_view)> id_source;  // cluster mode

    // Incidents by the earliest due time of their scheduled steps, so next_deadline() and tick()
    // never walk incidents with nothing due (a year of them, in a long-running daemon).
    std::set<std::pair<core::timestamp, std::uint64_t>> due_queue;
    std::unordered_map<std::uint64_t, core::timestamp> due_of;  // id -> its key in due_queue
    // Resolved incidents with nothing left to do, by when they leave memory (retire()).
    std::set<std::pair<core::timestamp, std::uint64_t>> retire_queue;
    std::unordered_map<std::uint64_t, core::timestamp> retire_of;

    struct silence_entry {
        core::timestamp until{};
        std::string who;
    };
    std::map<std::string, silence_entry, std::less<>> silences;  // rule + '\0' + key ("" = all)

    explicit impl(engine_settings s) : settings(std::move(s)) {
        for (std::size_t i = 0; i < settings.playbooks.size(); ++i)
            playbook_index.emplace(settings.playbooks[i].name, i);
        for (std::size_t i = 0; i < settings.statements.size(); ++i)
            statement_index.emplace(settings.statements[i].name, i);
    }

    const playbook_settings* playbook_of(const incident& inc) const {
        auto it = playbook_index.find(inc.playbook);
        return it == playbook_index.end() ? nullptr : &settings.playbooks[it->second];
    }

    // The configured step at an incident step's place, or null when the playbook (since a reload
    // or restart) no longer has one there. Used when a step starts (to record its identity) and at
    // restore (to see whether it changed); a started step runs from its recorded identity.
    const step_settings* settings_of(const incident& inc, const step_status& st) const {
        const playbook_settings* pb = playbook_of(inc);
        if (pb == nullptr) return nullptr;
        if (!st.on_resolve) return st.index < pb->steps.size() ? &pb->steps[st.index] : nullptr;
        // on_resolve steps are bound by their position among the incident's own on_resolve steps,
        // so a playbook that gained or lost an opening step still finds them.
        const auto n_open = static_cast<std::size_t>(
            std::count_if(inc.steps.begin(), inc.steps.end(), [](const step_status& s) { return !s.on_resolve; }));
        if (st.index < n_open || st.index - n_open >= pb->on_resolve.size()) return nullptr;
        return &pb->on_resolve[st.index - n_open];
    }

    const statement_settings* statement_named(const std::string& name) const {
        auto it = statement_index.find(name);
        return it == statement_index.end() ? nullptr : &settings.statements[it->second];
    }

    // ---- rendering ------------------------------------------------------------------------

    // Placeholders are filled from incident fields and the playbook's settings (status_url, and
    // time_zone and next_update_in for the times) only, never from mention text (which an
    // attacker writes). A placeholder without a value (unknown, or empty like a playbook without
    // status_url) stays as written and is named in `unfilled`: such a text is never posted. The
    // config loader rejects both before they get here.
    std::string render(std::string_view tpl, const incident& inc, core::timestamp now,
                       std::vector<std::string>& unfilled) const {
        return render_template(tpl, [&](std::string_view name) { return field(name, inc, now); }, &unfilled);
    }

    std::optional<std::string> field(std::string_view name, const incident& inc, core::timestamp now) const {
        if (name == "topic") return configured_topic(playbook_of(inc), inc.key);
        if (name == "rule") return inc.rule;
        if (name == "severity") return std::string(to_string(inc.severity));
        if (name == "incident_id") return std::to_string(inc.id);
        const playbook_settings* pb = playbook_of(inc);
        // Times in the playbook's zone ("14:30"; "14:30 UTC" without one): incident/template.hpp.
        static const playbook_settings defaults;
        const playbook_settings& times = pb != nullptr ? *pb : defaults;
        if (name == "started_at") return started_at_text(inc.opened_at, now, times.time_zone);
        if (name == "next_update") return next_update_text(now, times.next_update_in, times.time_zone);
        if (name == "status_url" && pb != nullptr) return pb->status_url;
        return std::nullopt;
    }

    // "{status_url}, {x}": the placeholders a text could not fill, for the history.
    static std::string braced(const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) {
            const std::string b = "{" + n + "}";
            if (out.find(b) != std::string::npos) continue;
            out += (out.empty() ? "" : ", ") + b;
        }
        return out;
    }

    std::string summary(const incident& inc, action_event event, core::timestamp now) const {
        std::string s = "[" + std::string(to_string(inc.severity)) + "] " + inc.rule + ": " + inc.key + " — incident " +
                        std::to_string(inc.id) + " ";
        if (event == action_event::opened) {
            const detect::metrics_snapshot& e = inc.evidence;
            s += "opened (" + compact(e.count) + " mentions, " + compact(e.negative_count) + " negative, " +
                 compact(e.unique_authors) + " authors, volume x" + compact(e.volume_ratio) + ")";
        } else if (event == action_event::escalated) {
            s += "escalated: not acknowledged after " +
                 core::format_duration(std::chrono::floor<std::chrono::seconds>(now - inc.opened_at));
        } else {
            s += "resolved after " +
                 core::format_duration(std::chrono::floor<std::chrono::seconds>(now - inc.opened_at));
        }
        return s;
    }

    // ---- steps ----------------------------------------------------------------------------

    void note(incident& inc, core::timestamp at, std::string_view who, std::string what) {
        inc.history.push_back(history_entry{at, std::string(who), std::move(what)});
    }

    static std::string step_name(const step_status& st) { return "step " + std::to_string(st.index); }

    // A step that still has something to do: a due time, or a person's decision.
    static bool live(const step_status& st) {
        return (st.state == step_state::scheduled && st.due) || st.state == step_state::awaiting_approval;
    }

    static void skip(step_status& st) {
        st.state = step_state::skipped;
        st.due.reset();
    }

    // Renders a statement step's text, once: what the console shows for approval or veto is
    // exactly what is posted, so {next_update} and {started_at} are computed here, at `at` (the
    // moment it is shown), and never again at posting. False (the step skipped, the history
    // saying why) when the statement cannot be posted at all.
    bool show_statement(incident& inc, step_status& st, core::timestamp at) {
        const step_identity& id = *st.identity;
        const statement_settings* stmt = statement_named(id.statement);
        st.preview.clear();
        st.language.clear();
        if (stmt == nullptr || !approved(*stmt) || id.channels.empty() || stmt->text.empty()) {
            skip(st);
            note(inc, at, system_actor, "skipped " + step_name(st) + ": statement '" + id.statement +
                                            "' is missing, unapproved or has no channel");
            return false;
        }
        const std::string language = choose_language(*stmt, inc.languages);
        std::vector<std::string> unfilled;
        std::string text = render(stmt->text.at(language), inc, at, unfilled);
        // Never a literal "{status_url}" in public: a text with a placeholder left is not posted.
        if (!unfilled.empty()) {
            skip(st);
            note(inc, at, system_actor, "skipped " + step_name(st) + ": statement '" + stmt->name + "' (" + language +
                                            ") has no value for " + braced(unfilled));
            return false;
        }
        st.preview = std::move(text);
        st.language = language;
        return true;
    }

    // Puts a step into its starting state when its phase begins (opening, or resolution for
    // on_resolve steps); `base` is that moment. This is where the step's identity is recorded.
    void start_step(incident& inc, step_status& st, core::timestamp base) {
        const step_settings* cfg = settings_of(inc, st);
        if (cfg == nullptr) {
            skip(st);
            note(inc, base, system_actor, "skipped " + step_name(st) + ": no longer in the playbook");
            return;
        }
        st.identity = identity_of(*cfg);
        st.kind = cfg->kind;
        st.fresh_approval = false;
        switch (cfg->kind) {
            case step_kind::notify:
                st.state = step_state::scheduled;
                st.due = base;
                break;
            case step_kind::escalate:
                st.state = step_state::scheduled;
                st.due = base + cfg->after;
                break;
            case step_kind::statement:
                if (!show_statement(inc, st, base)) return;
                if (cfg->approval_mode == approval::required) {
                    st.state = step_state::awaiting_approval;
                    st.due.reset();
                } else {
                    st.state = step_state::scheduled;
                    st.due = cfg->approval_mode == approval::veto ? base + cfg->wait : base;
                }
                break;
        }
    }

    // Hands a step's actions out. `who` is whoever caused it (the approver, or crisisd).
    // A step runs as recorded when it started (its identity), never as whatever the playbook now
    // holds at its position.
    void emit(incident& inc, step_status& st, std::string_view who, core::timestamp now, std::vector<action>& out) {
        if (!st.identity) {
            skip(st);
            note(inc, now, system_actor, "skipped " + step_name(st) + ": not started from the playbook");
            return;
        }
        const step_identity& id = *st.identity;
        const std::string phase = st.on_resolve ? "resolve" : "open";
        const std::string prefix = std::to_string(inc.id) + "/" + phase + "/" + std::to_string(st.index) + "/";
        auto base_action = [&](const std::string& channel) {
            action a;
            a.idempotency_key = prefix + channel;
            a.incident_id = inc.id;
            a.step = st.index;
            a.on_resolve = st.on_resolve;
            a.channel = channel;
            a.at = now;
            return a;
        };
        if (id.kind == step_kind::statement) {
            const statement_settings* stmt = statement_named(id.statement);
            // Checked again at the last moment: an unapproved text must never reach the public.
            if (stmt == nullptr || !approved(*stmt) || id.channels.empty() || st.preview.empty()) {
                skip(st);
                note(inc, now, system_actor, "skipped " + step_name(st) + ": statement not approved");
                return;
            }
            const bool needs_person = id.approval_mode == approval::required || st.fresh_approval;
            if (needs_person && who == system_actor) {
                // Only approve() emits such a step; should anything else try, it waits for a person.
                st.state = step_state::awaiting_approval;
                st.due.reset();
                note(inc, now, system_actor, step_name(st) + " needs a person's approval: not posted");
                return;
            }
            action a = base_action(id.channels.front());
            a.kind = action_kind::statement;
            a.statement = stmt->name;
            a.language = st.language.empty() ? choose_language(*stmt, inc.languages) : st.language;
            // Byte for byte what was shown for approval or veto: never rendered again here.
            a.text = st.preview;
            a.approval_mode = needs_person ? approval::required : id.approval_mode;
            if (who != system_actor) a.approved_by = std::string(who);
            note(inc, now, who,
                 "posted " + step_name(st) + ": statement " + stmt->name + " (" + a.language + ") to " + a.channel +
                     ": \"" + a.text + "\"");
            out.push_back(std::move(a));
        } else {
            const action_event event = id.kind == step_kind::escalate ? action_event::escalated
                                       : st.on_resolve                 ? action_event::resolved
                                                                       : action_event::opened;
            const std::string text = summary(inc, event, now);
            std::vector<std::string_view> sent;
            std::string channels;
            for (const std::string& ch : id.channels) {
                if (std::find(sent.begin(), sent.end(), ch) != sent.end()) continue;
                sent.push_back(ch);
                action a = base_action(ch);
                a.kind = action_kind::notify;
                a.event = event;
                a.text = text;
                out.push_back(std::move(a));
                channels += (channels.empty() ? "" : ", ") + ch;
            }
            note(inc, now, who, (id.kind == step_kind::escalate ? "escalated " : "notified ") + step_name(st) + ": " + channels);
        }
        st.state = step_state::emitted;
        st.due.reset();
    }

    void run_due(incident& inc, core::timestamp now, std::vector<action>& out) {
        for (step_status& st : inc.steps) {
            if (st.state != step_state::scheduled || !st.due || *st.due > now) continue;
            const auto& id = st.identity;
            if (id && id->kind == step_kind::escalate && id->unless_acknowledged && inc.acknowledged_at) {
                st.state = step_state::skipped;
                st.due.reset();
                continue;
            }
            emit(inc, st, system_actor, now, out);
        }
        refresh_pending(inc);
    }

    // Called after anything that may change an incident's steps: re-files it in due_queue by
    // its earliest due step, and once it is resolved with nothing left to do, in retire_queue.
    void refresh_pending(const incident& inc) {
        std::optional<core::timestamp> earliest;
        bool busy = false;
        for (const step_status& st : inc.steps) {
            busy = busy || live(st);
            if (st.state == step_state::scheduled && st.due && (!earliest || *st.due < *earliest)) earliest = st.due;
        }
        auto old = due_of.find(inc.id);
        if (old != due_of.end() && (!earliest || old->second != *earliest)) {
            due_queue.erase({old->second, inc.id});
            due_of.erase(old);
            old = due_of.end();
        }
        if (earliest && old == due_of.end()) {
            due_queue.emplace(*earliest, inc.id);
            due_of.emplace(inc.id, *earliest);
        }
        // The grace counts from the incident's last change (its last history entry: resolution,
        // or a later approval of an on_resolve statement), so people who just acted on an
        // incident still find it. Nothing brings a resolved, quiet incident back to life.
        if (inc.state == incident_state::resolved && !busy && settings.resolved_grace && !retire_of.contains(inc.id)) {
            const core::timestamp last = inc.history.empty() ? inc.resolved_at.value_or(inc.opened_at) : inc.history.back().at;
            const core::timestamp at = last + *settings.resolved_grace;
            retire_queue.emplace(at, inc.id);
            retire_of.emplace(inc.id, at);
        }
    }

    void retire(core::timestamp now, std::vector<std::uint64_t>& retired) {
        if (retire_queue.empty() || retire_queue.begin()->first > now) return;
        std::unordered_map<std::uint64_t, bool> leaving;
        while (!retire_queue.empty() && retire_queue.begin()->first <= now) {
            const std::uint64_t id = retire_queue.begin()->second;
            retire_queue.erase(retire_queue.begin());
            retire_of.erase(id);
            const incident* inc = lookup(id);
            if (inc == nullptr || inc->state != incident_state::resolved ||
                std::any_of(inc->steps.begin(), inc->steps.end(), live))
                continue;  // defensive: refresh_pending files it again once it is quiet
            leaving.emplace(id, true);
        }
        if (leaving.empty()) return;
        // One compaction for the batch keeps opening order (max_incidents_per_hour counts the
        // newest incidents from the back) at O(incidents in memory) per retirement tick.
        std::erase_if(incidents, [&](const incident& inc) { return leaving.contains(inc.id); });
        by_id.clear();
        for (std::size_t i = 0; i < incidents.size(); ++i) by_id.emplace(incidents[i].id, i);
        for (const auto& [id, unused] : leaving) {
            if (auto d = due_of.find(id); d != due_of.end()) {
                due_queue.erase({d->second, id});
                due_of.erase(d);
            }
            retired.push_back(id);
        }
        std::sort(retired.end() - static_cast<std::ptrdiff_t>(leaving.size()), retired.end());
    }

    void shift(core::duration delta) {
        for (incident& inc : incidents) {
            inc.opened_at += delta;
            if (inc.acknowledged_at) *inc.acknowledged_at += delta;
            if (inc.resolved_at) *inc.resolved_at += delta;
            for (step_status& st : inc.steps)
                if (st.due) *st.due += delta;
            for (history_entry& h : inc.history) h.at += delta;
        }
        // Both queues keep their order under one shift; they are rebuilt because a set's keys
        // cannot be changed in place.
        auto moved = [delta](std::set<std::pair<core::timestamp, std::uint64_t>>& queue,
                             std::unordered_map<std::uint64_t, core::timestamp>& of) {
            std::set<std::pair<core::timestamp, std::uint64_t>> next;
            for (const auto& [at, id] : queue) next.emplace(at + delta, id);
            queue = std::move(next);
            for (auto& [id, at] : of) at += delta;
        };
        moved(due_queue, due_of);
        moved(retire_queue, retire_of);
        for (auto& [key, s] : silences) s.until += delta;
    }

    // ---- transitions ----------------------------------------------------------------------

    std::uint64_t open(const opening& o, core::timestamp now, std::vector<action>& out) {
        const std::string k = open_key(o.rule, o.key);
        if (auto it = open_by_key.find(k); it != open_by_key.end()) return it->second;
        if (is_silenced(o.rule, o.key, now)) return 0;

        incident inc;
        inc.id = id_source ? id_source(o.rule, o.key) : next_id++;
        inc.rule = o.rule;
        inc.key = o.key;
        inc.severity = o.severity;
        inc.playbook = o.playbook;
        inc.opened_at = now;
        inc.evidence = o.evidence;
        inc.languages = o.languages;
        note(inc, now, system_actor, std::string(to_string(action_event::opened)));
        if (const playbook_settings* pb = playbook_of(inc)) {
            auto add = [&inc](const step_settings& s, bool on_resolve) {
                step_status st;
                st.index = inc.steps.size();
                st.on_resolve = on_resolve;
                st.kind = s.kind;
                inc.steps.push_back(std::move(st));
            };
            for (const step_settings& s : pb->steps) add(s, false);
            for (const step_settings& s : pb->on_resolve) add(s, true);
        } else if (!o.playbook.empty()) {
            note(inc, now, system_actor, "playbook '" + o.playbook + "' not found: recorded only");
        }
        for (step_status& st : inc.steps)
            if (!st.on_resolve) start_step(inc, st, now);

        const std::size_t pos = incidents.size();
        by_id.emplace(inc.id, pos);
        open_by_key.emplace(k, inc.id);
        incidents.push_back(std::move(inc));
        run_due(incidents[pos], now, out);
        return incidents[pos].id;
    }

    void resolve(incident& inc, std::string_view who, core::timestamp now, std::vector<action>& out) {
        inc.state = incident_state::resolved;
        inc.resolved_at = now;
        open_by_key.erase(open_key(inc.rule, inc.key));
        note(inc, now, who, std::string(to_string(action_event::resolved)));
        for (step_status& st : inc.steps) {
            if (st.on_resolve) continue;
            if (st.state == step_state::scheduled || st.state == step_state::awaiting_approval) {
                st.state = step_state::skipped;
                st.due.reset();
                note(inc, now, system_actor, "skipped " + step_name(st) + ": resolved first");
            }
        }
        for (step_status& st : inc.steps)
            if (st.on_resolve && st.state == step_state::scheduled && !st.due) start_step(inc, st, now);
        run_due(inc, now, out);
    }

    // ---- restore ----------------------------------------------------------------------------

    // A live step against the step now at its place in the playbook (engine::restore says why
    // each case goes the way it does).
    void reconcile(incident& inc, step_status& st, core::timestamp now) {
        if (!live(st)) return;
        const step_settings* cfg = settings_of(inc, st);
        if (cfg == nullptr) {
            skip(st);
            note(inc, now, system_actor, "skipped " + step_name(st) + ": no longer in the playbook");
            return;
        }
        const step_identity configured = identity_of(*cfg);
        if (st.identity && *st.identity == configured) return;
        const std::string changed = step_name(st) + " changed in the playbook since the incident opened";
        if (cfg->kind == step_kind::statement) {
            st.identity = configured;
            st.kind = step_kind::statement;
            st.fresh_approval = true;
            if (!show_statement(inc, st, now)) return;
            st.state = step_state::awaiting_approval;
            st.due.reset();
            note(inc, now, system_actor, changed + ": needs approval");
        } else if (st.identity && st.identity->kind != step_kind::statement) {
            note(inc, now, system_actor, changed + ": runs as it was when the incident opened");
        } else if (!st.identity && st.kind == cfg->kind) {
            // A page saved before steps kept their identity: the playbook is all there is to go by,
            // and it reaches only the company's own people.
            st.identity = configured;
        } else {
            skip(st);
            note(inc, now, system_actor, "skipped " + changed + ": it is no longer this " +
                                             std::string(to_string(st.kind)) + " step");
        }
    }

    // After a restart: a veto wait that ran out while crisisd was down waits again, so a person
    // can still veto before the statement goes out, and responders are told.
    void restart_veto(incident& inc, step_status& st, core::timestamp now, std::vector<action>& out) {
        if (st.state != step_state::scheduled || !st.due || *st.due > now || !st.identity) return;
        const step_identity& id = *st.identity;
        if (id.kind != step_kind::statement || id.approval_mode != approval::veto || st.fresh_approval) return;
        // Shown anew, so rendered anew: a "next update by" from before the outage would be stale.
        if (!show_statement(inc, st, now)) return;
        st.due = now + std::max<core::duration>(id.wait, std::chrono::minutes(1));
        const std::string when = core::format_rfc3339(*st.due);
        note(inc, now, system_actor,
             "the veto wait of " + step_name(st) + " ran out while crisisd was down: it waits again until " + when);
        const std::vector<std::string>* channels = nullptr;
        for (step_kind wanted : {step_kind::notify, step_kind::escalate}) {
            for (const step_status& other : inc.steps)
                if (!other.on_resolve && other.identity && other.identity->kind == wanted && !other.identity->channels.empty()) {
                    channels = &other.identity->channels;
                    break;
                }
            if (channels != nullptr) break;
        }
        if (channels == nullptr) return;
        const std::string text = "[" + std::string(to_string(inc.severity)) + "] " + inc.rule + ": " + inc.key + " — incident " +
                                 std::to_string(inc.id) + ": statement " + id.statement + " goes out on " +
                                 id.channels.front() + " at " + when +
                                 " unless vetoed (its veto wait ran out while crisisd was down)";
        const std::string prefix = std::to_string(inc.id) + "/" + (st.on_resolve ? "resolve" : "open") + "/" +
                                   std::to_string(st.index) + "/veto_restarted/" +
                                   std::to_string(st.due->time_since_epoch().count()) + "/";
        std::vector<std::string_view> sent;
        for (const std::string& ch : *channels) {
            if (std::find(sent.begin(), sent.end(), ch) != sent.end()) continue;
            sent.push_back(ch);
            action a;
            a.idempotency_key = prefix + ch;
            a.incident_id = inc.id;
            a.step = st.index;
            a.on_resolve = st.on_resolve;
            a.kind = action_kind::notify;
            a.channel = ch;
            a.event = action_event::veto_restarted;
            a.text = text;
            a.at = now;
            out.push_back(std::move(a));
        }
    }

    incident* lookup(std::uint64_t id) {
        auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : &incidents[it->second];
    }

    // ---- silences -------------------------------------------------------------------------

    bool is_silenced(std::string_view rule, std::string_view key, core::timestamp now) const {
        for (const std::string& k : {open_key(rule, key), open_key(rule, "")}) {
            auto it = silences.find(k);
            if (it != silences.end() && now < it->second.until) return true;
        }
        return false;
    }
};

engine::engine(engine_settings settings) : impl_(std::make_unique<impl>(std::move(settings))) {}
engine::~engine() = default;
engine::engine(engine&&) noexcept = default;
engine& engine::operator=(engine&&) noexcept = default;

std::uint64_t engine::open(const opening& o, core::timestamp now, std::vector<action>& out) {
    return impl_->open(o, now, out);
}

void engine::clear(std::string_view rule, std::string_view key, core::timestamp now, std::vector<action>& out) {
    auto it = impl_->open_by_key.find(open_key(rule, key));
    if (it == impl_->open_by_key.end()) return;
    incident* inc = impl_->lookup(it->second);
    if (inc != nullptr) impl_->resolve(*inc, system_actor, now, out);
}

void engine::tick(core::timestamp now, std::vector<action>& out) {
    auto& q = impl_->due_queue;
    if (q.empty() || q.begin()->first > now) return;
    // Incidents run in opening order, as they always have, so the actions of one tick come out
    // in the same order whatever their due times. run_due re-files each in due_queue.
    std::vector<std::size_t> due;
    for (auto it = q.begin(); it != q.end() && it->first <= now; ++it) due.push_back(impl_->by_id.at(it->second));
    std::sort(due.begin(), due.end());
    for (std::size_t pos : due) impl_->run_due(impl_->incidents[pos], now, out);
}

std::optional<core::timestamp> engine::next_deadline() const {
    if (impl_->due_queue.empty()) return std::nullopt;
    return impl_->due_queue.begin()->first;
}

void engine::retire(core::timestamp now, std::vector<std::uint64_t>& retired) { impl_->retire(now, retired); }
void engine::shift(core::duration delta) { impl_->shift(delta); }

command_result engine::acknowledge(std::uint64_t id, std::string_view who, core::timestamp now) {
    incident* inc = impl_->lookup(id);
    if (inc == nullptr) return command_result::not_found;
    if (inc->state == incident_state::acknowledged) return command_result::already_done;
    if (inc->state == incident_state::resolved) return command_result::not_allowed;
    inc->state = incident_state::acknowledged;
    inc->acknowledged_at = now;
    impl_->note(*inc, now, who, std::string(to_string(action_event::acknowledged)));
    for (step_status& st : inc->steps) {
        if (st.on_resolve || st.state != step_state::scheduled) continue;
        const auto& rec = st.identity;
        if (rec && rec->kind == step_kind::escalate && rec->unless_acknowledged) {
            st.state = step_state::skipped;
            st.due.reset();
            impl_->note(*inc, now, system_actor, "skipped " + impl::step_name(st) + ": acknowledged");
        }
    }
    impl_->refresh_pending(*inc);
    return command_result::done;
}

command_result engine::approve(std::uint64_t id, std::size_t step, std::string_view who, core::timestamp now,
                               std::vector<action>& out) {
    incident* inc = impl_->lookup(id);
    if (inc == nullptr || step >= inc->steps.size()) return command_result::not_found;
    step_status& st = inc->steps[step];
    if (st.kind != step_kind::statement) return command_result::not_allowed;
    switch (st.state) {
        case step_state::emitted: return command_result::already_done;
        case step_state::vetoed:
        case step_state::skipped: return command_result::not_allowed;
        case step_state::scheduled:
            // An on_resolve step before resolution has no due time yet: nothing to approve.
            if (!st.due) return command_result::not_allowed;
            break;
        case step_state::awaiting_approval: break;
    }
    // Approving a step under veto posts it now instead of after the wait.
    impl_->note(*inc, now, who, "approved " + impl::step_name(st));
    impl_->emit(*inc, st, who, now, out);
    impl_->refresh_pending(*inc);
    return command_result::done;
}

command_result engine::veto(std::uint64_t id, std::size_t step, std::string_view who, core::timestamp now) {
    incident* inc = impl_->lookup(id);
    if (inc == nullptr || step >= inc->steps.size()) return command_result::not_found;
    step_status& st = inc->steps[step];
    if (st.kind != step_kind::statement) return command_result::not_allowed;
    switch (st.state) {
        case step_state::vetoed: return command_result::already_done;
        case step_state::emitted:
        case step_state::skipped: return command_result::not_allowed;
        case step_state::scheduled:
        case step_state::awaiting_approval: break;
    }
    st.state = step_state::vetoed;
    st.due.reset();
    impl_->note(*inc, now, who, "vetoed " + impl::step_name(st));
    impl_->refresh_pending(*inc);
    return command_result::done;
}

command_result engine::resolve(std::uint64_t id, std::string_view who, core::timestamp now, std::vector<action>& out) {
    incident* inc = impl_->lookup(id);
    if (inc == nullptr) return command_result::not_found;
    if (inc->state == incident_state::resolved) return command_result::already_done;
    impl_->resolve(*inc, who, now, out);
    return command_result::done;
}

command_result engine::silence(std::string_view rule, std::string_view key, core::timestamp until,
                               std::string_view who, core::timestamp now) {
    const std::string k = open_key(rule, key);
    auto it = impl_->silences.find(k);
    if (it != impl_->silences.end() && it->second.until == until) return command_result::already_done;
    impl_->silences.insert_or_assign(k, impl::silence_entry{until, std::string(who)});
    // Expired silences are dropped here so the table stays as small as the live ones.
    std::erase_if(impl_->silences, [now](const auto& e) { return e.second.until <= now; });
    return command_result::done;
}

bool engine::silenced(std::string_view rule, std::string_view key, core::timestamp now) const {
    return impl_->is_silenced(rule, key, now);
}

void engine::set_next_id(std::uint64_t id) { impl_->next_id = std::max<std::uint64_t>(id, 1); }

std::uint64_t engine::next_id() const { return impl_->next_id; }

void engine::set_id_source(std::function<std::uint64_t(std::string_view rule, std::string_view key)> source) {
    impl_->id_source = std::move(source);
}

std::vector<std::uint64_t> engine::drop(const std::function<bool(const incident&)>& which) {
    std::vector<std::uint64_t> dropped;
    for (const incident& inc : impl_->incidents)
        if (which(inc)) dropped.push_back(inc.id);
    if (dropped.empty()) return dropped;
    const std::set<std::uint64_t> gone(dropped.begin(), dropped.end());
    for (std::uint64_t id : dropped) {
        const incident& inc = impl_->incidents[impl_->by_id.at(id)];
        if (auto it = impl_->open_by_key.find(open_key(inc.rule, inc.key)); it != impl_->open_by_key.end() && it->second == id)
            impl_->open_by_key.erase(it);
        if (auto d = impl_->due_of.find(id); d != impl_->due_of.end()) {
            impl_->due_queue.erase({d->second, id});
            impl_->due_of.erase(d);
        }
        if (auto d = impl_->retire_of.find(id); d != impl_->retire_of.end()) {
            impl_->retire_queue.erase({d->second, id});
            impl_->retire_of.erase(d);
        }
    }
    std::erase_if(impl_->incidents, [&](const incident& inc) { return gone.contains(inc.id); });
    impl_->by_id.clear();
    for (std::size_t i = 0; i < impl_->incidents.size(); ++i) impl_->by_id.emplace(impl_->incidents[i].id, i);
    return dropped;
}

void engine::restore(std::vector<incident> saved, restore_reason why, core::timestamp now, std::vector<action>& out) {
    for (incident& inc : saved) {
        if (impl_->by_id.contains(inc.id)) continue;
        const std::size_t pos = impl_->incidents.size();
        impl_->by_id.emplace(inc.id, pos);
        if (inc.state != incident_state::resolved) impl_->open_by_key.insert_or_assign(open_key(inc.rule, inc.key), inc.id);
        impl_->next_id = std::max(impl_->next_id, inc.id + 1);
        impl_->incidents.push_back(std::move(inc));
        incident& r = impl_->incidents.back();
        for (step_status& st : r.steps) impl_->reconcile(r, st, now);
        if (why == restore_reason::restart)
            for (step_status& st : r.steps) impl_->restart_veto(r, st, now, out);
        impl_->refresh_pending(r);
    }
}

const incident* engine::find(std::uint64_t id) const {
    auto it = impl_->by_id.find(id);
    return it == impl_->by_id.end() ? nullptr : &impl_->incidents[it->second];
}

const incident* engine::find_open(std::string_view rule, std::string_view key) const {
    auto it = impl_->open_by_key.find(open_key(rule, key));
    return it == impl_->open_by_key.end() ? nullptr : find(it->second);
}

void engine::for_each_open(const std::function<void(const incident&)>& f) const {
    for (const auto& [unused, id] : impl_->open_by_key)
        if (const incident* inc = find(id)) f(*inc);
}

const std::vector<incident>& engine::incidents() const { return impl_->incidents; }

}  // namespace crisisd::incident
