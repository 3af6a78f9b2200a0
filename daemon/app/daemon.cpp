#include "app/daemon.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <map>

#include "admin/api.hpp"
#include "admin/metrics.hpp"
#include "app/incident_log.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "ingest/dedup_window.hpp"
#include "ingest/file_source.hpp"
#include "ingest/frame_queue.hpp"
#include "ingest/http_source.hpp"
#include "ingest/jetstream_resume.hpp"
#include "ingest/rate_limiter.hpp"
#include "ingest/websocket_source.hpp"
#include "ingest/x_source.hpp"
#include "net/http_server.hpp"
#include "notify/channel.hpp"
#include "outbox/delivery.hpp"
#include "state/database.hpp"
#include "parse/frame_parser.hpp"
#include "pipeline/pipeline.hpp"
#include "runtime/commands.hpp"
#include "runtime/follow_ups.hpp"
#include "runtime/step_writer.hpp"
#include "web/assets.hpp"

namespace crisisd::app {

namespace asio = boost::asio;

std::string action_payload(const incident::action& a, const incident::incident* inc, std::string_view console_url) {
    std::string out;
    core::json_writer w(out);
    w.begin_object()
        .member("idempotency_key", a.idempotency_key)
        .member("kind", incident::to_string(a.kind))
        .member("channel", a.channel)
        .member("text", a.text)
        .member("at", core::format_rfc3339(a.at));
    if (!a.event.empty()) w.member("event", a.event);
    // How it was approved travels with a statement: the outbox refuses `required` without an approver.
    if (a.kind == incident::action_kind::statement)
        w.member("statement", a.statement).member("language", a.language)
            .member("approval", incident::to_string(a.approval_mode)).member("approved_by", a.approved_by);
    if (inc) {
        w.key("incident").begin_object();
        w.member("id", static_cast<std::uint64_t>(inc->id))
            .member("rule", inc->rule)
            .member("key", inc->key)
            .member("severity", inc->severity)
            .member("state", incident::to_string(inc->state))
            .member("opened_at", core::format_rfc3339(inc->opened_at));
        if (inc->resolved_at) w.member("resolved_at", core::format_rfc3339(*inc->resolved_at));
        w.key("evidence").begin_object();
        w.member("count", inc->evidence.count)
            .member("negative_count", inc->evidence.negative_count)
            .member("negative_ratio", inc->evidence.negative_ratio)
            .member("unique_authors", inc->evidence.unique_authors)
            .member("volume_ratio", inc->evidence.volume_ratio)
            .member("rate", inc->evidence.rate)
            .member("baseline_rate", inc->evidence.baseline_rate);
        w.end_object();
        w.end_object();
        if (!console_url.empty()) w.member("console_url", std::string(console_url) + "#incident-" + std::to_string(inc->id));
    }
    w.end_object();
    return out;
}

namespace {

admin::command_status to_status(incident::command_result r) {
    switch (r) {
        case incident::command_result::done: return admin::command_status::done;
        case incident::command_result::already_done: return admin::command_status::already_done;
        case incident::command_result::not_found: return admin::command_status::not_found;
        case incident::command_result::not_allowed: return admin::command_status::not_allowed;
    }
    return admin::command_status::done;
}

std::vector<admin::asset> console_assets() {
    // Paths live as long as the program: the embedded files never change.
    static const std::vector<std::string> paths = [] {
        std::vector<std::string> p;
        for (const auto& f : web::embedded_files()) p.push_back(f.name == "index.html" ? "/" : "/" + std::string(f.name));
        return p;
    }();
    std::vector<admin::asset> out;
    const auto& files = web::embedded_files();
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto& f = files[i];
        std::string_view type = "application/octet-stream";
        if (f.name.ends_with(".html")) type = "text/html; charset=utf-8";
        else if (f.name.ends_with(".js")) type = "text/javascript; charset=utf-8";
        else if (f.name.ends_with(".css")) type = "text/css; charset=utf-8";
        out.push_back({paths[i], type, f.data});
    }
    return out;
}

}  // namespace

struct daemon::impl final : admin::daemon_access, runtime::step_writer_events, runtime::command_events {
    asio::io_context& io;
    config::settings settings;
    daemon_options options;
    const core::clock& clock;

    admin::metrics metrics;
    std::unique_ptr<state::database> store;
    std::unique_ptr<runtime::step_writer> writer;  // after store: it writes to it
    std::unique_ptr<runtime::follow_ups> follow;
    std::unique_ptr<runtime::commands> cmds;  // after follow: it uses it
    std::map<std::string, std::unique_ptr<notify::channel>> channels;
    std::unique_ptr<outbox::delivery_loop> delivery;
    std::unique_ptr<pipeline::pipeline> pipe;
    incident_log log;
    std::unique_ptr<admin::api> api;
    std::unique_ptr<net::http_server> admin_server;

    struct source_runtime final : ingest::source_events {
        // Whatever carries the frames (websocket, file, HTTP ingest), started and stopped alike.
        struct transport {
            virtual ~transport() = default;
            virtual void start() = 0;
            virtual void stop() = 0;
        };
        template <class Source>
        struct transport_of final : transport {
            std::unique_ptr<Source> source;
            explicit transport_of(std::unique_ptr<Source> s) : source(std::move(s)) {}
            void start() override {
                if constexpr (requires { source->port(); }) return;  // http: bound in create()
                else source->start();
            }
            void stop() override { source->stop(); }
        };

        impl* owner = nullptr;
        std::string name;
        admin::source_meter& meter;  // per-frame counters without a lookup
        // Frames waiting for the pipeline (websocket and file sources; HTTP ingest is direct).
        std::optional<ingest::frame_queue> queue;
        bool ready = false;  // listed in impl::ready_sources
        std::unique_ptr<parse::frame_parser> parser;
        ingest::dedup_window dedup{16384};
        std::optional<ingest::jetstream_resume> resume;  // jetstream only
        std::int64_t replayed_up_to = 0;  // positions at or below this were processed before a restart
        std::unique_ptr<transport> ws;  // the transport, whatever its type
        bool connected = false;
        bool trusted = false;  // `trusted: true`: the authors its frames name are believed
        ingest::rate_limiter limiter;  // `max_rate`

        source_runtime(impl* o, const ingest::source_settings& s, std::unique_ptr<parse::frame_parser> p)
            : owner(o),
              name(s.name),
              meter(o->metrics.source(name)),
              parser(std::move(p)),
              trusted(s.trusted),
              limiter(s.max_rate) {}
        ~source_runtime() override { save_position(); }

        void restore_position() {
            const auto saved = owner->store->cursors().load(name);
            if (!saved.found) return;
            if (!saved.position) {
                core::log_warning("source " + name + ": ignoring unreadable saved cursor");
                return;
            }
            replayed_up_to = *saved.position;
            resume->restore(replayed_up_to);
            core::log_info("source " + name + ": resuming after time_us " + std::to_string(replayed_up_to));
        }
        void advance(std::int64_t position) {
            if (!resume || position <= 0) return;
            resume->advance(position);
            if (resume->should_persist()) save_position();
        }
        void save_position() {
            if (!resume || resume->position() <= 0 || !owner->store) return;
            owner->store->cursors().save(name, resume->position());
            resume->persisted();
        }

        void on_connected(bool up) override {
            connected = up;
            if (!up) save_position();
            owner->metrics.source_connected(name, up);
            if (owner->options.observer) owner->options.observer->source_state(name, up, "");
            core::log(up ? core::log_level::info : core::log_level::warning,
                      "source " + name + (up ? ": connected" : ": disconnected"));
        }
        void on_frame_rejected(std::string_view reason) override {
            meter.received();
            owner->metrics.mention_rejected(name, reason);
        }
        void on_reconnect() override { owner->metrics.source_reconnect(name); }
        void on_fatal(std::string_view message) override {
            core::log_error("source " + name + ": " + std::string(message) + " (not retrying; fix the configuration)");
            if (owner->options.observer) owner->options.observer->source_state(name, false, message);
        }
    };
    std::vector<std::unique_ptr<source_runtime>> sources;

    asio::steady_timer tick_timer;
    bool running = false;
    bool stopping = false;
    core::mention scratch_mention;
    pipeline::step_result step;
    std::string console_url;

    impl(asio::io_context& i, config::settings s, daemon_options o)
        : io(i), settings(std::move(s)), options(o), clock(*o.clock), tick_timer(i) {}

    // --- daemon_access (admin API) ---
    std::string action_status(const incident::action& a) const {
        auto rec = store->actions().find(a.idempotency_key);
        if (!rec) return "pending";
        switch (rec->state) {
            case outbox::record_state::sent: return "sent";
            case outbox::record_state::dead: return "failed";
            case outbox::record_state::pending: return "pending";
        }
        return "pending";
    }

    incident_log::view_options view(bool detail) const {
        incident_log::view_options o;
        o.now = clock.now();
        o.detail = detail;
        const core::clock* c = &clock;
        o.wall_ms = [c](core::duration d) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(c->wall_delay(d)).count();
        };
        return o;
    }

    std::string incidents_json() override {
        return log.write_all(*pipe, settings.playbooks, [this](const incident::action& a) { return action_status(a); },
                             view(true), true, std::nullopt);
    }

    std::optional<std::string> incident_json(std::uint64_t id) override {
        const auto* inc = pipe->incidents().find(id);
        if (!inc) return std::nullopt;
        std::string out;
        core::json_writer w(out);
        log.write(w, *pipe, *inc, settings.playbooks, [this](const incident::action& a) { return action_status(a); },
                  view(true));
        return out;
    }

    // An incident resolved longer than storage.resolved_grace ago has left memory (ids below
    // next_id were all opened). Its snapshot, actions and history stay in the state database,
    // but reading one back per request would put SQLite on the admin path for a record nobody
    // can act on any more, so the API says where it went instead.
    std::string missing_incident(std::uint64_t id) override {
        if (id == 0 || id >= pipe->incidents().next_id()) return "no such incident";
        return "incident " + std::to_string(id) + " was resolved more than " +
               core::format_duration(std::chrono::floor<std::chrono::seconds>(settings.storage.resolved_grace)) +
               " ago and is no longer held in memory (storage.resolved_grace); its record stays in the state database";
    }

    admin::command_outcome command(std::string_view verb, std::uint64_t id, std::optional<std::size_t> step_index,
                                   std::string_view who) override {
        const auto r = cmds->apply(verb, id, step_index, who, pipe->incidents(), step, touched);
        if (!r) return {admin::command_status::bad_request, "unknown command"};
        const bool known = pipe->incidents().find(id) != nullptr;
        handle_step(std::nullopt);
        publish();
        if (*r == incident::command_result::not_found && !known) return {to_status(*r), missing_incident(id)};
        return {to_status(*r), std::string(runtime::describe(*r))};
    }

    admin::command_outcome silence(std::string_view rule, std::string_view key, std::chrono::seconds length,
                                   std::string_view who) override {
        const auto r = cmds->silence(settings.rules, rule, key, length, who, pipe->incidents());
        if (!r) return {admin::command_status::not_found, "no such rule"};
        return {to_status(*r), std::string(runtime::describe(*r))};
    }

    // --- command_events: what the commands report ---
    void command_applied(std::string_view verb, std::uint64_t id, std::string_view who,
                         std::string_view result) override {
        if (options.observer) options.observer->command(verb, id, who, result);
    }

    std::string dead_letters_json() override {
        std::string out;
        core::json_writer w(out);
        w.begin_object().key("dead_letters").begin_array();
        for (const auto& rec : store->actions().dead_letters(100)) {
            w.begin_object()
                .member("key", rec.key)
                .member("incident_id", rec.incident_id)
                .member("channel", rec.channel)
                .member("kind", rec.kind)
                .member("attempts", rec.attempts)
                .member("error", rec.last_error)
                .member("created_at", core::format_rfc3339(rec.created_at));
            if (rec.done_at) w.member("dead_at", core::format_rfc3339(*rec.done_at));
            w.end_object();
        }
        w.end_array().end_object();
        return out;
    }

    void audit(const admin::audit_entry& e) override { cmds->audit(e.who, e.address, e.action, e.target, e.outcome); }

    std::string audit_json(std::size_t limit) override {
        std::string out;
        core::json_writer w(out);
        w.begin_object().key("audit").begin_array();
        for (const auto& rec : store->audit().newest(limit)) {
            w.begin_object()
                .member("seq", static_cast<std::int64_t>(rec.seq))
                .member("at", core::format_rfc3339(rec.at))
                .member("who", rec.who)
                .member("address", rec.address)
                .member("action", rec.action)
                .member("target", rec.target)
                .member("outcome", rec.outcome)
                .end_object();
        }
        w.end_array().end_object();
        return out;
    }

    // Snapshots of the incidents this step or a command changed go in the same transaction as the
    // step's actions: after a crash the outbox and the incidents agree. What a tick changes
    // without an action (an escalation skipped after an acknowledgement) is recomputed by the
    // engine after a restore, so it needs no snapshot of its own.
    std::vector<std::uint64_t> changed_incidents() {
        std::vector<std::uint64_t> ids = touched;
        ids.insert(ids.end(), step.opened.begin(), step.opened.end());
        ids.insert(ids.end(), step.resolved.begin(), step.resolved.end());
        for (const auto& a : step.actions) ids.push_back(a.incident_id);
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        touched.clear();
        return ids;
    }
    std::vector<std::uint64_t> touched;  // incidents changed by a command since the last save
    static bool has_live_step(const incident::incident& inc) {
        return std::any_of(inc.steps.begin(), inc.steps.end(), [](const incident::step_status& st) {
            return st.state == incident::step_state::awaiting_approval ||
                   (st.state == incident::step_state::scheduled && st.due);
        });
    }

    bool healthy(std::string& detail) override {
        if (stopping) {
            detail = "shutting down";
            return false;
        }
        if (writer->backlogged()) {
            detail = "the state database refuses writes (" + writer->error() + "): " + std::to_string(writer->unsaved_actions()) +
                     " action(s) wait to be recorded before they are sent";
            return false;
        }
        return true;
    }

    // --- step_writer_events: what the step writer reports ---
    void write_failed() override { metrics.outbox_write_failed(); }
    void duplicate_refused(const incident::action&) override { metrics.duplicate_action(); }
    void action_queued(const incident::action& a) override {
        log.emitted(a);
        if (options.observer) options.observer->action_queued(a);
    }
    void outbox_changed(bool wake) override {
        update_outbox_metrics();
        if (wake) delivery->wake();
    }

    // --- the pipeline ---
    void publish() {
        // The full incident list is costly to render; only consoles listening need it.
        if (api && api->has_listeners()) api->publish("incidents", incidents_json());
    }

    void handle_step(std::optional<std::chrono::steady_clock::time_point> arrival) {
        if (step.empty() && touched.empty()) return;
        for (auto id : step.opened) {
            const auto* inc = pipe->incidents().find(id);
            if (!inc) continue;
            double latency = 0;
            if (arrival)
                latency = std::chrono::duration<double>(std::chrono::steady_clock::now() - *arrival).count();
            metrics.incident_opened(inc->rule, latency);
            core::log(core::log_level::notice, "incident " + std::to_string(id) + " opened: rule=" + inc->rule +
                                                   " key=" + inc->key + " severity=" + inc->severity);
            if (options.observer) options.observer->incident_opened(*inc);
        }
        for (auto id : step.resolved) {
            const auto* inc = pipe->incidents().find(id);
            if (!inc) continue;
            metrics.incident_resolved(inc->rule);
            core::log(core::log_level::notice, "incident " + std::to_string(id) + " resolved: rule=" + inc->rule +
                                                   " key=" + inc->key);
            if (options.observer) options.observer->incident_resolved(*inc);
        }
        for (auto id : step.resolved) follow->add(pipe->incidents(), id, "resolved", clock.now(), step.actions);
        log.forget(step.retired);
        note_suppressed();
        std::vector<runtime::pending_action> actions;
        actions.reserve(step.actions.size());
        for (const auto& a : step.actions)
            actions.push_back({a, action_payload(a, pipe->incidents().find(a.incident_id), console_url)});
        writer->write(pipe->incidents(), std::move(actions), changed_incidents());
        std::size_t open = 0;
        for (const auto& inc : pipe->incidents().incidents())
            if (inc.state != incident::incident_state::resolved) ++open;
        metrics.open_incidents(open);
        step.clear();
    }

    // Incidents a rule's max_incidents_per_hour kept from opening: one warning when a rule
    // starts refusing, one line with the count when it opens an incident again. A burst also
    // ends when an hour passes without a refusal (the rule may simply have gone quiet).
    struct suppression_burst {
        std::uint64_t refused = 0;
        core::timestamp last{};
    };
    std::map<std::string, suppression_burst> suppressing;  // by rule name
    void note_suppressed() {
        const auto now = clock.now();
        for (const auto& s : step.suppressed) {
            const auto& rule = pipe->rule(s.rule);
            metrics.incident_suppressed(rule.name, "max_incidents_per_hour");
            auto [it, first] = suppressing.try_emplace(rule.name);
            if (!first && now - it->second.last > std::chrono::hours(1)) {
                it->second = suppression_burst{};
                first = true;
            }
            ++it->second.refused;
            it->second.last = now;
            if (first)
                core::log_warning("rule " + rule.name + ": " + std::to_string(s.opened_last_hour) +
                                  " incidents opened in the last hour, its max_incidents_per_hour; key " + s.key +
                                  " and further keys open no incident until fewer opened in the hour before");
        }
        for (auto id : step.opened) {
            const auto* inc = pipe->incidents().find(id);
            auto it = inc ? suppressing.find(inc->rule) : suppressing.end();
            if (it == suppressing.end()) continue;
            core::log(core::log_level::notice, "rule " + it->first + ": opens incidents again; " +
                                                   std::to_string(it->second.refused) +
                                                   " firing key(s) opened none while it was at its cap");
            suppressing.erase(it);
        }
    }

    void update_outbox_metrics() {
        metrics.outbox_state(store->actions().count(state::record_state::pending), store->actions().count(state::record_state::dead));
    }

    // Returns "" when the frame was taken (a mention, or a valid frame that is not one), else
    // the reject reason; HTTP ingest reports it per line.
    std::string_view on_frame(source_runtime& src, std::string_view frame) {
        if (stopping) return "shutting_down";
        auto arrival = std::chrono::steady_clock::now();
        src.meter.received();
        src.meter.message_at(arrival.time_since_epoch().count());
        auto reason = process_frame(src, frame, arrival);
        if (processed_unreported > 0) {
            metrics.mentions_processed(processed_unreported);
            processed_unreported = 0;
        }
        return reason;
    }

    // --- the queue between websocket/file sources and the pipeline ---
    // Sources put frames into their own bounded queue (sized and with the overflow policy from
    // their config); one drain on the io thread feeds the pipeline, which is single-threaded, in
    // batches and round-robin over the sources, so one busy stream cannot starve another and
    // sockets and timers get a turn between batches.
    std::vector<source_runtime*> ready_sources;  // sources with queued frames
    bool drain_posted = false;
    std::uint64_t processed_unreported = 0;  // mentions processed since metrics last heard
    static constexpr std::size_t drain_batch = 1024;

    void enqueue(source_runtime& src, std::string_view frame) {
        if (stopping) return;
        auto arrival = std::chrono::steady_clock::now().time_since_epoch().count();
        src.meter.received();
        src.meter.message_at(arrival);
        auto& q = *src.queue;
        auto pushed = q.push(frame, arrival);
        if (pushed == ingest::frame_queue::push_result::full) {
            // Only a source without flow control gets here; "block" still loses nothing: the
            // oldest frame goes through the pipeline now to make room.
            process_front(src);
            pushed = q.push(frame, arrival);
        }
        if (pushed == ingest::frame_queue::push_result::queued_dropped_oldest) src.meter.dropped();
        if (!src.ready) {
            src.ready = true;
            ready_sources.push_back(&src);
        }
        if (!drain_posted) {
            drain_posted = true;
            asio::post(io, [this] { drain(); });
        }
    }

    void process_front(source_runtime& src) {
        auto& q = *src.queue;
        using steady = std::chrono::steady_clock;
        process_frame(src, q.front(), steady::time_point(steady::duration(q.front_tag())));
        q.pop();
    }

    void drain() {
        drain_posted = false;
        std::size_t budget = drain_batch;
        while (budget > 0 && !ready_sources.empty()) {
            const std::size_t share = std::max<std::size_t>(budget / ready_sources.size(), 1);
            for (std::size_t i = 0; i < ready_sources.size() && budget > 0;) {
                auto& src = *ready_sources[i];
                for (std::size_t n = 0; n < share && budget > 0 && !src.queue->empty(); ++n, --budget)
                    process_front(src);
                if (src.queue->empty()) {
                    src.ready = false;
                    ready_sources.erase(ready_sources.begin() + static_cast<std::ptrdiff_t>(i));
                } else {
                    ++i;
                }
            }
        }
        if (processed_unreported > 0) {
            metrics.mentions_processed(processed_unreported);
            processed_unreported = 0;
        }
        if (!ready_sources.empty() && !drain_posted) {
            drain_posted = true;
            asio::post(io, [this] { drain(); });
        }
    }

    // Parse, dedup, pipeline, and the step's consequences. "" or the reject reason.
    std::string_view process_frame(source_runtime& src, std::string_view frame,
                                   std::chrono::steady_clock::time_point arrival) {
        auto& m = scratch_mention;
        auto r = src.parser->parse(frame, m);
        if (r.kind == parse::frame_kind::rejected) {
            metrics.mention_rejected(src.name, parse::to_string(r.reason));
            return parse::to_string(r.reason);
        }
        // A restart resumes a few seconds before the saved position; what it replays up to that
        // position was processed by the previous run.
        const bool replayed = r.position > 0 && r.position <= src.replayed_up_to;
        if (r.kind == parse::frame_kind::ignored || replayed || !src.dedup.first_time(src.parser->dedup_key())) {
            metrics.source_frame(src.name, r.kind == parse::frame_kind::ignored ? "ignored" : "duplicate");
            src.advance(r.position);
            return {};
        }
        if (r.kind == parse::frame_kind::deleted) {
            metrics.source_frame(src.name, "deleted");
            src.advance(r.position);
            return {};
        }
        // Identity comes from the source: its configured name, and its authors believed only
        // when the platform vouches for them or the source is trusted.
        m.source = src.name;
        m.author_vouched = m.author_vouched || src.trusted;
        if (!src.limiter.admit(arrival)) {
            metrics.mention_rejected(src.name, ingest::rate_limiter::reason);
            src.advance(r.position);
            return ingest::rate_limiter::reason;
        }
        pipe->process(m, clock.now(), step);
        ++processed_unreported;
        src.advance(r.position);
        if (!step.empty()) {
            handle_step(arrival);
            publish();
        }
        return {};
    }

    void schedule_tick() {
        // Detection clears by silence and veto waits end with no mention arriving, so the
        // pipeline is driven by a timer too: every 250 ms of wall time, or sooner when the
        // engine has a deadline.
        auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::milliseconds(250));
        if (auto next = pipe->next_deadline()) {
            auto now = clock.now();
            auto until = *next > now ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                           clock.wall_delay(*next - now))
                                     : std::chrono::steady_clock::duration::zero();
            wait = std::min(wait, until);
        }
        tick_timer.expires_after(wait);
        tick_timer.async_wait([this](boost::system::error_code ec) {
            if (ec || !running) return;
            auto now = clock.now();
            writer->retry(pipe->incidents());
            pipe->tick(now, step);
            log.sample(*pipe, now);
            metrics.live_keys(pipe->live_keys());
            metrics.evicted_keys(pipe->detector().evicted_keys());
            if (std::chrono::steady_clock::now() - detector_saved_at >= std::chrono::seconds(60)) save_detector();
            if (std::chrono::steady_clock::now() - swept_at >= std::chrono::hours(1)) sweep_state();
            bool changed = !step.empty();
            handle_step(std::nullopt);
            if (changed || ++ticks_since_publish >= 4) {
                // Consoles also get a refresh every second for the chart and the countdowns.
                ticks_since_publish = 0;
                publish();
            }
            schedule_tick();
        });
    }
    int ticks_since_publish = 0;

    // Detector windows and baselines go to the state database every minute and at shutdown, so
    // a restart (or a crash, losing at most a minute) neither blinds nor startles the detector.
    std::chrono::steady_clock::time_point detector_saved_at = std::chrono::steady_clock::now();
    void save_detector() {
        detector_saved_at = std::chrono::steady_clock::now();
        store->begin();
        store->detectors().save(*pipe);
        store->commit();
    }

    // storage.retention: what was resolved long ago leaves the database, hourly and at start,
    // so the file stays flat however long crisisd runs (an index finds the old incidents).
    std::chrono::steady_clock::time_point swept_at = std::chrono::steady_clock::now();
    void sweep_state() {
        swept_at = std::chrono::steady_clock::now();
        const auto gone = store->sweep(clock.now(), settings.storage.retention);
        if (gone.incidents > 0 || gone.actions > 0)
            core::log_info("state database: " + std::to_string(gone.incidents) + " incident(s) resolved over " +
                           core::format_duration(settings.storage.retention) + " ago left it, with " +
                           std::to_string(gone.actions) + " action(s)");
    }

    // Builds one source's runtime (parser, transport) and adds it to `sources`; an HTTP source
    // binds its listener here. Error text, with nothing added, when it cannot be built.
    std::string add_source(const ingest::source_settings& s) {
        parse::parser_settings ps_format;
        ps_format.format = s.format;
        ps_format.max_bytes = s.max_message_bytes;
        ps_format.field_map = s.field_map;
        ps_format.only_when = s.only_when;
        auto parser = parse::make_parser(ps_format);
        if (!parser) return "source '" + s.name + "': unknown format '" + s.format + "'";
        sources.push_back(std::make_unique<source_runtime>(this, s, std::move(parser)));
        auto* src = sources.back().get();
        using runtime = source_runtime;
        if (s.type != "http") src->queue.emplace(io.get_executor(), s.queue_capacity, s.queue_overflow);
        auto deliver = [this, src](std::string_view frame) { enqueue(*src, frame); };
        if (s.type == "websocket") {
            auto ws = std::make_unique<ingest::websocket_source>(io.get_executor(), s, deliver, *src);
            if (s.format == "jetstream") {
                std::vector<std::string> collections = s.collections;
                if (collections.empty()) collections.emplace_back("app.bsky.feed.post");
                src->resume.emplace(s.url, std::move(collections), s.dids,
                                    std::chrono::duration_cast<std::chrono::microseconds>(s.resume_lookback));
                src->restore_position();
                ws->set_url_provider([src] { return src->resume->url(); });
            }
            if (!s.subscribe.empty()) ws->set_subscribe_messages(s.subscribe);
            ws->set_flow_control(&*src->queue);
            src->ws = std::make_unique<runtime::transport_of<ingest::websocket_source>>(std::move(ws));
        } else if (s.type == "x") {
            auto x = std::make_unique<ingest::x_source>(io.get_executor(), s, deliver, *src);
            x->set_flow_control(&*src->queue);
            src->ws = std::make_unique<runtime::transport_of<ingest::x_source>>(std::move(x));
        } else if (s.type == "file") {
            auto file = std::make_unique<ingest::file_source>(
                io.get_executor(), s, deliver,
                [name = s.name](const std::string& error) {
                    if (error.empty()) core::log_info("source " + name + ": end of input");
                },
                *src);
            file->set_flow_control(&*src->queue);
            src->ws = std::make_unique<runtime::transport_of<ingest::file_source>>(std::move(file));
        } else if (s.type == "http") {
            ingest::http_source_settings hs;
            hs.name = s.name;
            hs.listen = s.listen;
            hs.token = s.token;
            hs.max_body_bytes = s.max_body_bytes;
            hs.max_line_bytes = s.max_message_bytes;
            auto http = std::make_unique<ingest::http_source>(
                io.get_executor(), hs, [this, src](std::string_view line) { return on_frame(*src, line); }, *src);
            // Bound here rather than in start(), so a taken port is a start-up error with a reason.
            if (auto err = http->start(); !err.empty()) {
                sources.pop_back();
                return "source '" + s.name + "': " + err;
            }
            src->ws = std::make_unique<runtime::transport_of<ingest::http_source>>(std::move(http));
        } else {
            sources.pop_back();
            return "source '" + s.name + "': type '" + s.type + "' is not supported by run";
        }
        metrics.source_connected(s.name, s.type == "http");
        return "";
    }
    // Sources a reload stopped: kept until the daemon goes, since their transports may still
    // have handlers in flight that call back into them.
    std::vector<std::unique_ptr<source_runtime>> retired_sources;

    // --- reload ---
    std::string reload(config::settings next, std::vector<std::string>& notes) {
        // Channels carry deliveries in flight and the outbox refers to them by name, so they are
        // built once; a playbook naming a channel that is not running would dead-letter pages.
        // Rather than half a reload, none.
        auto same_channel = [](const notify::channel_settings& a, const notify::channel_settings& b) {
            return a.name == b.name && a.type == b.type && a.url == b.url && a.headers == b.headers &&
                   a.ca_file == b.ca_file && a.path == b.path && a.timeout == b.timeout && a.token == b.token &&
                   a.visibility == b.visibility && a.routing_key == b.routing_key && a.identifier == b.identifier &&
                   a.password == b.password && a.statements_per_hour == b.statements_per_hour &&
                   a.retry.initial == b.retry.initial && a.retry.max == b.retry.max &&
                   a.retry.max_attempts == b.retry.max_attempts;
        };
        if (!std::equal(next.channels.begin(), next.channels.end(), settings.channels.begin(), settings.channels.end(),
                        same_channel))
            return "channels changed: channels take effect at a restart (systemctl restart crisisd), "
                   "so nothing of this configuration was applied";
        auto now = clock.now();
        incident::engine_settings es;
        es.playbooks = next.playbooks;
        es.statements = next.statements;
        es.resolved_grace = next.storage.resolved_grace;
        settings.storage.resolved_grace = next.storage.resolved_grace;
        std::vector<std::string> changed_rules;
        for (const auto& r : next.rules) {
            auto old = std::find_if(settings.rules.begin(), settings.rules.end(),
                                    [&](const auto& o) { return o.name == r.name; });
            if (old == settings.rules.end()) changed_rules.push_back(r.name + " (new)");
            else if (!same_rule(*old, r)) changed_rules.push_back(r.name);
        }
        for (const auto& o : settings.rules)
            if (std::none_of(next.rules.begin(), next.rules.end(), [&](const auto& r) { return r.name == o.name; }))
                changed_rules.push_back(o.name + " (removed)");
        bool same_order = next.rules.size() == settings.rules.size() &&
                          std::equal(next.rules.begin(), next.rules.end(), settings.rules.begin(),
                                     [](const auto& a, const auto& b) { return a.name == b.name; });
        std::unique_ptr<pipeline::pipeline> fresh;
        if (!changed_rules.empty() || !same_order) {
            pipeline::pipeline_settings ps;
            ps.rules = next.rules;
            ps.incidents = es;
            auto created = pipeline::pipeline::create(std::move(ps));
            if (auto* e = std::get_if<std::string>(&created)) return *e;
            fresh = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
        }
        // The incident engine is rebuilt for the new playbooks; incidents move over as they do
        // across a restart, so open ones keep their steps, timers and numbers.
        incident::engine engine(es);
        std::vector<incident::action> none;  // a reload restarts no wait, so it emits nothing
        engine.restore(pipe->incidents().incidents(), incident::engine::restore_reason::reload, now, none);
        engine.set_next_id(std::max(engine.next_id(), pipe->incidents().next_id()));
        cmds->carry_silences(engine, next.rules, now);
        if (fresh) {
            // Rules whose state means the same (state::rule_fingerprint: same matching, keying,
            // window and baseline) hand their windows, baselines and firing state to the new
            // pipeline, as they would across a restart; a changed threshold does not blind them.
            const auto carried = state::carry_detector_state(*pipe, *fresh);
            std::size_t unchanged = 0, retuned = 0;
            for (std::size_t i = 0; i < carried.size(); ++i)
                if (carried[i]) ++(same_rule(pipe->rule(pipe->rule_index(fresh->rule(i).name)), fresh->rule(i)) ? unchanged : retuned);
            fresh->incidents() = std::move(engine);
            pipe = std::move(fresh);
            std::string list;
            for (const auto& n : changed_rules) list += (list.empty() ? "" : ", ") + n;
            notes.push_back("rules changed: " + (list.empty() ? std::string("order only") : list) +
                            "; detector state kept by " + std::to_string(unchanged) + " unchanged rule(s) and " +
                            std::to_string(retuned) +
                            " whose conditions alone changed, the others start afresh");
        } else {
            pipe->incidents() = std::move(engine);
        }

        auto restart_needed = [&](std::string_view what) {
            notes.push_back(std::string(what) + " changed: the running value stays until the next restart");
        };
        reload_sources(next.sources, notes);
        const auto& a = settings.admin;
        const auto& b = next.admin;
        if (b.listen != a.listen || b.tokens_file != a.tokens_file || b.hosts != a.hosts ||
            b.metrics_open != a.metrics_open || b.behind_proxy != a.behind_proxy || b.cert_file != a.cert_file ||
            b.key_file != a.key_file)
            restart_needed("admin");
        // Tokens are rotated (and revoked) by editing the file and reloading, whatever else changed.
        if (api)
            if (auto note = api->load_tokens(); !note.empty()) notes.push_back("admin tokens: " + note);
        if (next.storage.path != settings.storage.path) restart_needed("storage");
        settings.rules = std::move(next.rules);
        settings.playbooks = std::move(next.playbooks);
        settings.statements = std::move(next.statements);
        metrics.live_keys(pipe->live_keys());
        // Steps the new playbooks changed now wait for approval: saved, so a restart agrees.
        for (const auto& inc : pipe->incidents().incidents())
            if (has_live_step(inc)) touched.push_back(inc.id);
        handle_step(std::nullopt);
        publish();
        return "";
    }

    // Sources whose settings did not change keep running (no reconnect, no gap); changed ones are
    // stopped and started with the new settings, removed ones stopped, new ones started.
    void reload_sources(const std::vector<ingest::source_settings>& next, std::vector<std::string>& notes) {
        auto find = [](const std::vector<ingest::source_settings>& list, const std::string& name) {
            return std::find_if(list.begin(), list.end(), [&](const auto& x) { return x.name == name; });
        };
        std::string stopped, started;
        // Stop first, so a changed HTTP source can bind its port again.
        for (auto it = sources.begin(); it != sources.end();) {
            auto wanted = find(next, (*it)->name);
            auto was = find(settings.sources, (*it)->name);
            if (wanted != next.end() && was != settings.sources.end() && *wanted == *was) {
                ++it;
                continue;
            }
            stopped += (stopped.empty() ? "" : ", ") + (*it)->name;
            if (wanted == next.end()) metrics.source_removed((*it)->name);
            (*it)->ws->stop();
            (*it)->save_position();
            retired_sources.push_back(std::move(*it));
            it = sources.erase(it);
        }
        std::vector<ingest::source_settings> kept;
        for (const auto& s : next) {
            bool running_now = std::any_of(sources.begin(), sources.end(), [&](const auto& r) { return r->name == s.name; });
            if (running_now) {
                kept.push_back(s);
                continue;
            }
            if (auto err = add_source(s); !err.empty()) {
                core::log_error("reload: " + err + "; the source is not running");
                continue;
            }
            if (running) sources.back()->ws->start();
            started += (started.empty() ? "" : ", ") + s.name;
            kept.push_back(s);
        }
        if (!stopped.empty()) notes.push_back("sources stopped: " + stopped);
        if (!started.empty()) notes.push_back("sources started: " + started);
        settings.sources = std::move(kept);
    }

    static bool same_group(const detect::condition_group& a, const detect::condition_group& b) {
        return a.all == b.all && a.hold == b.hold &&
               std::equal(a.conditions.begin(), a.conditions.end(), b.conditions.begin(), b.conditions.end(),
                          [](const auto& x, const auto& y) {
                              return x.what == y.what && x.op == y.op && x.threshold == y.threshold;
                          });
    }
    // Everything that shapes a rule's detector state or the incidents it opens.
    static bool same_rule(const pipeline::rule_settings& a, const pipeline::rule_settings& b) {
        const auto &m = a.match, &n = b.match;
        const auto &d = a.detect, &e = b.detect;
        return a.severity == b.severity && a.playbook == b.playbook &&
               a.max_incidents_per_hour == b.max_incidents_per_hour && m.keywords == n.keywords &&
               m.exclude == n.exclude && m.languages == n.languages && m.sources == n.sources &&
               d.group_by == e.group_by && d.window == e.window && d.baseline == e.baseline &&
               d.min_baseline_rate == e.min_baseline_rate && d.negative_threshold == e.negative_threshold &&
               d.max_per_author == e.max_per_author && d.max_keys == e.max_keys && d.cooldown == e.cooldown &&
               same_group(d.fire_when, e.fire_when) && same_group(d.clear_when, e.clear_when);
    }
};

daemon::daemon(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
daemon::~daemon() {
    if (impl_) {
        impl_->running = false;
        impl_->tick_timer.cancel();
        for (auto& s : impl_->sources)
            if (s->ws) s->ws->stop();
        if (impl_->delivery) impl_->delivery->stop();
        if (impl_->admin_server) impl_->admin_server->stop();
    }
}

std::variant<std::unique_ptr<daemon>, create_error> daemon::create(asio::io_context& io, config::settings settings,
                                                                  daemon_options options) {
    if (!options.clock) return create_error{"daemon needs a clock", std::nullopt};
    auto im = std::make_unique<impl>(io, std::move(settings), options);

    auto opened = state::database::open(im->settings.storage.path);
    if (auto* e = std::get_if<state::open_error>(&opened)) return create_error{e->message, e->kind};
    im->store = std::move(std::get<std::unique_ptr<state::database>>(opened));
    im->writer = std::make_unique<runtime::step_writer>(*im->store, *options.clock, *im);
    {
        // The channels built below, by name: a channel that cannot be built fails create().
        std::map<std::string, std::string, std::less<>> channel_types;
        for (const auto& c : im->settings.channels) channel_types.emplace(c.name, c.type);
        im->follow = std::make_unique<runtime::follow_ups>(*im->store, std::move(channel_types));
    }
    im->cmds = std::make_unique<runtime::commands>(*im->store, *options.clock, *im, *im->follow);

    pipeline::pipeline_settings ps;
    ps.rules = im->settings.rules;
    ps.incidents.playbooks = im->settings.playbooks;
    ps.incidents.statements = im->settings.statements;
    ps.incidents.resolved_grace = im->settings.storage.resolved_grace;
    auto created = pipeline::pipeline::create(std::move(ps));
    if (auto* e = std::get_if<std::string>(&created)) return create_error{*e, std::nullopt};
    im->pipe = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
    im->sweep_state();
    // Incident numbers continue after a restart, so idempotency keys never collide with those
    // of actions already in the outbox (state::counters says how).
    {
        const auto next = im->store->counter().next_incident_id();
        if (next.counter_unreadable) core::log_warning("state database: ignoring unreadable next_incident_id");
        if (next.counter_missing)
            core::log_warning("state database: next_incident_id is missing; incident numbers continue at " +
                              std::to_string(next.id) + ", after the highest one the outbox holds");
        im->pipe->incidents().set_next_id(next.id);
    }
    {
        auto restored = im->store->detectors().restore(*im->pipe);
        if (restored.rules > 0)
            core::log_info("restored detector state of " + std::to_string(restored.rules) + " rule(s), " +
                           std::to_string(im->pipe->live_keys()) + " key(s)");
        if (restored.changed > 0)
            core::log_info(std::to_string(restored.changed) + " rule(s) changed since their detector state was saved; they start fresh");
        if (restored.unreadable > 0)
            core::log_warning("state database: ignoring " + std::to_string(restored.unreadable) + " unreadable detector snapshot(s)");
    }
    // Silences still running when the daemon stopped (a reload rebuilds the engine from them too).
    im->cmds->restore_silences(im->pipe->incidents());
    // Incidents open before a restart stay open, with their step timers and history; resolved
    // ones come back for storage.resolved_grace (the console shows them), older ones stay in
    // the database until the retention sweep.
    {
        auto loaded = im->store->incidents().live(options.clock->now() - im->settings.storage.resolved_grace);
        for (std::size_t i = 0; i < loaded.unreadable; ++i)
            core::log_warning("state database: ignoring an unreadable incident snapshot");
        auto& saved = loaded.incidents;
        if (!saved.empty()) {
            std::size_t live = 0;
            for (const auto& inc : saved) live += inc.state != incident::incident_state::resolved ? 1 : 0;
            // Actions (a veto wait restarted) are written at start(), once the console has its URL.
            auto& restored = im->pipe->incidents();
            restored.restore(std::move(saved), incident::engine::restore_reason::restart, options.clock->now(),
                             im->step.actions);
            for (const auto& inc : restored.incidents())
                if (impl::has_live_step(inc)) im->touched.push_back(inc.id);
            if (live > 0) core::log_info("restored " + std::to_string(live) + " open incident(s) from the state database");
        }
    }

    auto* raw = im.get();
    notify::log_sink sink = [raw](std::string_view channel, const notify::delivery& d) {
        core::log(core::log_level::notice, "channel " + std::string(channel) + ": " + d.payload);
        (void)raw;
    };
    for (const auto& c : im->settings.channels) {
        std::string error;
        auto ch = notify::make_channel(c, io.get_executor(), sink, error);
        if (!ch) return create_error{error, std::nullopt};
        im->channels.emplace(c.name, std::move(ch));
    }
    std::map<std::string, notify::channel*> by_name;
    for (auto& [name, ch] : im->channels) by_name.emplace(name, ch.get());
    outbox::delivery_events events;
    events.on_attempt = [raw](const state::record& r, const notify::delivery_result& res) {
        raw->metrics.action(r.channel, notify::to_string(res.result));
        if (res.result == notify::outcome::retry) {
            core::log_warning("delivery to " + r.channel + " failed (" + res.detail + "), will retry");
            if (raw->options.observer) raw->options.observer->action_retry(r, res.detail);
        }
    };
    events.on_sent = [raw](const state::record& r) {
        auto latency = std::chrono::duration<double>(raw->clock.now() - r.created_at).count();
        raw->metrics.delivered(r.channel, latency);
        raw->update_outbox_metrics();
        if (raw->options.observer) raw->options.observer->action_delivered(r);
        raw->publish();
    };
    events.on_dead = [raw](const state::record& r, std::string_view why) {
        raw->metrics.action(r.channel, "dead");
        raw->update_outbox_metrics();
        core::log_error("delivery to " + r.channel + " given up (" + std::string(why) + "): action " + r.key);
        if (raw->options.observer) raw->options.observer->action_dead(r, why);
        raw->publish();
    };
    // Counted as crisisd_actions_total{outcome="refused"}; the delivery loop logs the error.
    events.on_refused = [raw](const state::record& r, std::string_view why) {
        raw->metrics.action(r.channel, "refused");
        raw->update_outbox_metrics();
        if (raw->options.observer) raw->options.observer->action_dead(r, why);
        raw->publish();
    };
    im->delivery = std::make_unique<outbox::delivery_loop>(io.get_executor(), *im->store, std::move(by_name),
                                                           *options.clock, std::move(events));

    auto assets = console_assets();
    im->api = std::make_unique<admin::api>(im->settings.admin, im->metrics, *im, std::move(assets));
    // A tokens file that is gone or broken does not stop paging: the API then answers 401 and
    // the journal and crisisd_admin_tokens_file_errors_total say why.
    // The demo's own token comes first, so that a demo without a tokens file is not told that
    // the console will refuse everything.
    if (!options.extra_admin_token.empty()) im->api->add_token("demo", admin::role::admin, options.extra_admin_token);
    im->api->load_tokens();

    for (const auto& s : im->settings.sources)
        if (auto err = im->add_source(s); !err.empty()) return create_error{err, std::nullopt};
    im->update_outbox_metrics();
    return std::unique_ptr<daemon>(new daemon(std::move(im)));
}

std::string daemon::start() {
    auto& s = *impl_;
    net::http_server_options o;
    o.listen = s.settings.admin.listen;
    o.cert_file = s.settings.admin.cert_file;
    o.key_file = s.settings.admin.key_file;
    s.admin_server = std::make_unique<net::http_server>(
        s.io.get_executor(), o, [&s](const net::http_request_in& req) { return s.api->handle(req); });
    if (auto ec = s.admin_server->start()) return "admin listener " + s.settings.admin.listen + ": " + ec.message();
    s.api->set_port(s.admin_server->port());
    auto host = s.settings.admin.listen.substr(0, s.settings.admin.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    s.console_url = std::string(s.settings.admin.cert_file.empty() ? "http://" : "https://") + host + ":" + std::to_string(s.admin_server->port()) + "/";
    s.running = true;
    // What restoring the incidents decided (a veto wait restarted, a changed step waiting for
    // approval) is recorded and announced before anything else happens.
    s.handle_step(std::nullopt);
    s.delivery->start();
    // Connect channels ahead of the first page, so it does not wait for TCP and TLS.
    for (auto& [name, ch] : s.channels)
        asio::co_spawn(s.io, ch->warm_up(), asio::detached);
    for (auto& src : s.sources) src->ws->start();
    s.schedule_tick();
    core::log_info("admin API and console on " + s.console_url);
    return "";
}

void daemon::shutdown(std::chrono::milliseconds deadline, std::function<void()> done) {
    auto& s = *impl_;
    s.stopping = true;
    for (auto& src : s.sources) src->ws->stop();
    auto timer = std::make_shared<asio::steady_timer>(s.io);
    auto started = std::chrono::steady_clock::now();
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, timer, started, deadline, done, poll]() {
        auto& st = *impl_;
        // Frames already queued are mentions received: they go through the pipeline first.
        bool flushed = st.ready_sources.empty() && st.delivery->in_flight() == 0 && st.delivery->idle();
        if (flushed || std::chrono::steady_clock::now() - started >= deadline) {
            if (!flushed) core::log_warning("shutdown: deliveries still pending; they stay in the outbox for next start");
            st.running = false;
            st.tick_timer.cancel();
            st.save_detector();
            st.delivery->stop();
            st.admin_server->stop();
            done();
            *poll = nullptr;  // break the self-reference
            return;
        }
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([poll](boost::system::error_code) {
            if (*poll) (*poll)();
        });
    };
    asio::post(s.io, [poll] { (*poll)(); });
}

std::string daemon::reload(config::settings next, std::vector<std::string>& notes) {
    return impl_->reload(std::move(next), notes);
}

void daemon::audit_reload(std::string_view what, std::string_view outcome) {
    impl_->audit({"SIGHUP", "", "reload", std::string(what), std::string(outcome)});
}

std::uint16_t daemon::admin_port() const { return impl_->admin_server ? impl_->admin_server->port() : 0; }

bool daemon::quiescent() const {
    for (const auto& inc : impl_->pipe->incidents().incidents())
        if (inc.state != incident::incident_state::resolved) return false;
    return impl_->store->actions().count(state::record_state::pending) == 0 && impl_->delivery->in_flight() == 0;
}

std::uint64_t daemon::mentions_processed() const { return impl_->pipe->processed(); }
// Counted by id, not by the incidents in memory: resolved ones leave after storage.resolved_grace.
std::size_t daemon::incidents_opened() const { return impl_->pipe->incidents().next_id() - 1; }

std::string daemon::report_json() const {
    auto& s = *impl_;
    return s.log.write_all(*s.pipe, s.settings.playbooks, [&s](const incident::action& a) { return s.action_status(a); },
                           s.view(false), false, s.pipe->processed());
}

}  // namespace crisisd::app
