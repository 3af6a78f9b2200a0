// The daemon's wiring: the runtime (runtime/: intake, step handler, tick, commands, reload) is
// given an Asio executor, the live clock, the real channels, the admin API and /metrics. What
// the runtime decides lives there; this file connects it to sockets and reports.
#include "app/daemon.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <span>

#include "admin/api.hpp"
#include "admin/metrics.hpp"
#include "report/admin_views.hpp"
#include "report/incident_log.hpp"
#include "report/live_views.hpp"
#include "app/cli.hpp"
#include "core/log.hpp"
#include "net/http_server.hpp"
#include "net/poll.hpp"
#include "notify/channel.hpp"
#include "outbox/channel_tokens.hpp"
#include "outbox/delivery.hpp"
#include "runtime/commands.hpp"
#include "runtime/follow_ups.hpp"
#include "runtime/housekeeping.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/cluster_peers.hpp"
#include "runtime/cluster_routes.hpp"
#include "runtime/intake.hpp"
#include "runtime/restore.hpp"
#include "runtime/rule_reload.hpp"
#include "runtime/step_handler.hpp"
#include "runtime/step_writer.hpp"
#include "sources/source_leases.hpp"
#include "sources/source_set.hpp"
#include "state/database.hpp"

namespace crisisd::app {

namespace asio = boost::asio;

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

// The runtime's executor on the daemon's io_context.
struct asio_executor final : runtime::executor {
    asio::io_context& io;
    explicit asio_executor(asio::io_context& i) : io(i) {}
    void post(std::function<void()> fn) override { asio::post(io, std::move(fn)); }
};

// Work that blocks (a statement's lease confirmation in cluster mode), off the event loop.
struct blocking_executor final : runtime::executor {
    asio::thread_pool pool{1};
    void post(std::function<void()> fn) override { asio::post(pool, std::move(fn)); }
};

}  // namespace

struct daemon::impl final : admin::daemon_access,
                            runtime::step_writer_events,
                            runtime::command_events,
                            runtime::step_events,
                            runtime::tick_events,
                            runtime::intake_events {
    asio::io_context& io;
    config::settings settings;
    daemon_options options;
    const core::clock& clock;
    runtime::live_clock rclock;
    asio_executor exec;

    admin::metrics metrics;
    std::unique_ptr<state::database> store;
    runtime::detection det;
    std::unique_ptr<runtime::step_writer> writer;  // after store: it writes to it
    std::unique_ptr<runtime::follow_ups> follow;
    std::unique_ptr<runtime::commands> cmds;  // after follow: it uses it
    std::unique_ptr<runtime::step_handler> steps;
    std::unique_ptr<runtime::housekeeping> keeper;
    std::unique_ptr<runtime::intake> in;  // after store: saves cursors when it goes
    std::unique_ptr<outbox::database_token_store> tokens;  // after store, before channels: they use it
    std::map<std::string, std::unique_ptr<notify::channel>> channels;
    std::unique_ptr<outbox::delivery_loop> delivery;
    report::incident_log log;
    std::unique_ptr<report::live_views> views;  // after store and log: it reads them
    std::unique_ptr<admin::api> api;
    std::unique_ptr<net::http_server> admin_server;
    std::unique_ptr<sources::source_set> srcs;  // after intake: its transports feed it
    // Cluster mode (issue 15). Declared last so that its threads, which post to exec,
    // are joined first; the confirm pool, whose work uses it, before it.
    std::unique_ptr<runtime::cluster_node> cluster;
    // The member directory and shared statement caps (opened once the listener is bound: its URL
    // is announced), and the API's view of them. Before confirm_exec, whose work uses them.
    std::unique_ptr<runtime::cluster_peers> peers;
    std::unique_ptr<runtime::cluster_routes> routes;
    std::unique_ptr<blocking_executor> confirm_exec;
    std::unique_ptr<sources::source_leases> source_leases;  // after srcs: its thread posts to them

    asio::steady_timer tick_timer;
    bool running = false;
    bool stopping = false;

    impl(asio::io_context& i, config::settings s, daemon_options o)
        : io(i), settings(std::move(s)), options(o), clock(*o.clock), rclock(*o.clock), exec(i), tick_timer(i) {}

    std::optional<create_error> build();
    void build_runtime();
    std::optional<create_error> build_delivery();

    // --- daemon_access (admin API) ---
    std::string incidents_json(std::optional<std::size_t> resolved_limit) override {
        return views->all_json(*det.pipe, settings.playbooks, resolved_limit);
    }

    std::vector<std::uint64_t> live_incident_ids() override {
        std::vector<std::uint64_t> ids;
        det.pipe->incidents().for_each_open([&](const incident::incident& inc) { ids.push_back(inc.id); });
        return ids;
    }
    std::string now_rfc3339() override { return core::format_rfc3339(clock.now()); }

    std::optional<std::string> incident_json(std::uint64_t id) override {
        return views->one_json(*det.pipe, settings.playbooks, id, true);
    }
    std::optional<std::string> incident_feed_json(std::uint64_t id) override {
        return views->one_json(*det.pipe, settings.playbooks, id, false);
    }

    std::string missing_incident(std::uint64_t id) override {
        return report::missing_incident(id, det.pipe->incidents().next_id(), settings.storage.resolved_grace);
    }

    admin::command_outcome command(std::string_view verb, std::uint64_t id, std::optional<std::size_t> step_index,
                                   std::string_view who) override {
        const auto r = cmds->apply(verb, id, step_index, who, det.pipe->incidents(), det.step, det.touched);
        if (!r) return {admin::command_status::bad_request, "unknown command"};
        const bool known = det.pipe->incidents().find(id) != nullptr;
        steps->handle();
        if (*r == incident::command_result::not_found && !known) return {to_status(*r), missing_incident(id)};
        return {to_status(*r), std::string(runtime::describe(*r))};
    }

    admin::command_outcome silence(std::string_view rule, std::string_view key, std::chrono::seconds length,
                                   std::string_view who) override {
        const auto r = cmds->silence(settings.rules, rule, key, length, who, det.pipe->incidents());
        if (!r) return {admin::command_status::not_found, "no such rule"};
        if (cluster) cluster->silenced(rule, key);
        return {to_status(*r), std::string(runtime::describe(*r))};
    }

    // --- command_events: what the commands report ---
    void command_applied(std::string_view verb, std::uint64_t id, std::string_view who,
                         std::string_view result) override {
        if (options.observer) options.observer->command(verb, id, who, result);
    }

    std::string dead_letters_json() override { return report::dead_letters_json(store->actions().dead_letters(100)); }

    void audit(const admin::audit_entry& e) override { cmds->audit(e.who, e.address, e.action, e.target, e.outcome); }

    std::string audit_json(std::size_t limit) override { return report::audit_json(store->audit().newest(limit)); }

    bool healthy(std::string& detail) override {
        if (stopping) {
            detail = "shutting down";
            return false;
        }
        if (writer->backlogged()) {
            detail = "the state database refuses writes (" + writer->error() + "): " + std::to_string(writer->unsaved_actions()) +
                     " action(s) wait to be recorded; pages among them go out meanwhile, statements only once recorded";
            return false;
        }
        return true;
    }

    // --- step_writer_events ---
    void write_failed() override { metrics.outbox_write_failed(); }
    void duplicate_refused(const incident::action&) override { metrics.duplicate_action(); }
    void action_queued(const incident::action& a) override {
        if (cluster) cluster->action_queued(a.incident_id);
        log.emitted(a);
        if (options.observer) options.observer->action_queued(a);
    }
    void outbox_changed(bool wake) override {
        update_outbox_metrics();
        if (wake) delivery->wake();
    }
    // Pages do not wait for a full disk: the outbox sends them from memory (issue 13).
    void page_unrecorded(const runtime::pending_action& p) override {
        if (delivery) delivery->deliver_unrecorded(runtime::unrecorded_row(p));  // else it waits for its row
    }
    std::optional<core::timestamp> page_sent_from_memory(const incident::action& a) override {
        return delivery ? delivery->unrecorded_sent_at(a.idempotency_key) : std::nullopt;
    }
    void page_recorded(const incident::action& a) override {
        if (delivery) delivery->recorded(a.idempotency_key);
    }

    // --- step_events ---
    void incident_opened(const incident::incident& inc, double latency) override {
        metrics.incident_opened(inc.rule, latency);
        if (options.observer) options.observer->incident_opened(inc);
    }
    void incident_resolved(const incident::incident& inc) override {
        metrics.incident_resolved(inc.rule);
        if (options.observer) options.observer->incident_resolved(inc);
    }
    void incident_suppressed(std::string_view rule) override {
        metrics.incident_suppressed(rule, "max_incidents_per_hour");
    }
    void incidents_retired(const std::vector<std::uint64_t>& ids) override { log.forget(ids); }
    void open_incidents(std::size_t n) override { metrics.open_incidents(n); }
    void incidents_changed(const std::vector<std::uint64_t>& ids) override {
        if (cluster)
            for (auto id : ids) cluster->changed(id);
        log.changed(ids);
        if (api) api->incidents_changed(ids);
    }

    // --- tick_events ---
    void clock_stepped(core::duration) override {
        metrics.clock_stepped();
        log.forget_views();  // every time an incident shows moved with the clock (pipeline::shift)
    }
    void ticked(core::timestamp now, const pipeline::pipeline& p) override {
        log.sample(p, now);
        metrics.live_keys(p.live_keys());
        metrics.evicted_keys(p.detector().evicted_keys());
        if (cluster) metrics.cluster_leases(cluster->figures());
        // A pull source stops by its lease's deadline, even while the lease thread waits on NATS.
        if (source_leases) source_leases->reconcile();
    }

    std::optional<create_error> build_cluster();
    std::optional<create_error> build_source_leases();

    // --- intake_events ---
    void mentions_processed(std::uint64_t n) override { metrics.mentions_processed(n); }
    void stepped(runtime::clock::monotonic_time arrival) override {
        steps->handle(arrival);
    }
    // Steps of frames handled in one go (an HTTP body's slice, a drain batch) are committed
    // together, right after, before the loop turns to anything else (issue 13: group commit).
    void frames_arriving() override {
        if (writer->holding()) return;
        writer->hold();
        asio::post(io, [this] { writer->release(det.pipe->incidents()); });
    }

    // An action sent, given up or refused: its partition's state, the outbox gauges and the
    // console feed (which renders the incident on the next tick) learn of it.
    void delivery_settled(const state::record& r) {
        if (cluster) cluster->changed(r.incident_id);
        update_outbox_metrics();
        const auto id = r.incident_id;
        log.changed(std::span(&id, 1));
        if (api) api->incidents_changed(std::span(&id, 1));
    }

    void update_outbox_metrics() {
        metrics.outbox_state(store->actions().count(state::record_state::pending),
                             store->actions().count(state::record_state::dead));
    }

    void schedule_tick() {
        // Every 250 ms of wall time, or sooner when the engine has a deadline.
        const auto wait = keeper->next_wait(std::chrono::milliseconds(250));
        tick_timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
        tick_timer.async_wait([this](boost::system::error_code ec) {
            if (ec || !running) return;
            // A set wall clock is noticed here, before the tick runs on the moved timeline.
            const auto before = rclock.now();
            if (auto step = rclock.take_step()) keeper->rebase(*step, before);
            keeper->tick();
            // Once a tick, however many incidents changed since the last (consoles count down
            // and poll their chart themselves).
            if (api) api->flush_feed();
            schedule_tick();
        });
    }

    std::string reload(config::settings next, std::vector<std::string>& notes) {
        // Channels carry deliveries in flight and the outbox refers to them by name, so they are
        // built once; a reload that changes them is refused whole rather than applied in half.
        if (next.channels != settings.channels)
            return "channels changed: channels take effect at a restart (systemctl restart crisisd), "
                   "so nothing of this configuration was applied";
        // An HTTP source whose address cannot be bound would stop ingest; the running one stays.
        if (auto err = srcs->check(next.sources); !err.empty())
            return err + "; nothing of this configuration was applied";
        if (auto err = runtime::reload_rules(det, settings.rules, pipeline_settings_of(next), *cmds, clock.now(), notes);
            !err.empty())
            return err;
        if (cluster) cluster->engine_replaced();
        settings.storage.resolved_grace = next.storage.resolved_grace;
        auto restart_needed = [&](std::string_view what) {
            notes.push_back(std::string(what) + " changed: the running value stays until the next restart");
        };
        srcs->reload(settings.sources, next.sources, running, notes);
        if (admin::restart_needed(settings.admin, next.admin)) restart_needed("admin");
        // Tokens are rotated (and revoked) by editing the file and reloading, whatever else changed.
        if (api)
            if (auto note = api->load_tokens(); !note.empty()) notes.push_back("admin tokens: " + note);
        if (next.storage.path != settings.storage.path) restart_needed("storage");
        settings.rules = std::move(next.rules);
        settings.playbooks = std::move(next.playbooks);
        settings.statements = std::move(next.statements);
        metrics.live_keys(det.pipe->live_keys());
        // Steps the new playbooks changed now wait for approval: saved, so a restart agrees.
        steps->touch_live_steps();
        steps->handle();
        // New playbooks and statements may change how any open incident reads: consoles get them all.
        log.forget_views();  // a settled incident's steps may read the playbooks' channels
        if (api) api->incidents_changed(live_incident_ids());
        return "";
    }
};

// The runtime's parts, on the state database that build() opened.
void daemon::impl::build_runtime() {
    writer = std::make_unique<runtime::step_writer>(*store, clock, *this);
    views = std::make_unique<report::live_views>(clock, *store, log);
    // The channels built later, by name: a channel that cannot be built fails create().
    std::map<std::string, std::string, std::less<>> channel_types;
    for (const auto& c : settings.channels) channel_types.emplace(c.name, c.type);
    follow = std::make_unique<runtime::follow_ups>(*store, std::move(channel_types));
    cmds = std::make_unique<runtime::commands>(*store, clock, *this, *follow);
    steps = std::make_unique<runtime::step_handler>(det, *writer, *follow, rclock, *this);
    runtime::housekeeping_settings hs;
    hs.retention = settings.storage.retention;
    hs.sweep_every = settings.storage.sweep_interval();  // follows storage.retention
    keeper = std::make_unique<runtime::housekeeping>(*store, det, *writer, *steps, rclock, *this, hs);
    in = std::make_unique<runtime::intake>(*store, det, rclock, exec, *this);
}

// Channels and the delivery loop that sends the outbox to them.
std::optional<create_error> daemon::impl::build_delivery() {
    notify::log_sink sink = [](std::string_view channel, const notify::delivery& d) {
        core::log(core::log_level::notice, "channel " + std::string(channel) + ": " + d.payload);
    };
    tokens = std::make_unique<outbox::database_token_store>(*store, clock);
    for (const auto& c : settings.channels) {
        std::string error;
        auto ch = notify::make_channel(c, io.get_executor(), sink, error, tokens.get());
        if (!ch) return create_error{error, std::nullopt};
        channels.emplace(c.name, std::move(ch));
    }
    std::map<std::string, notify::channel*> by_name;
    for (auto& [name, ch] : channels) by_name.emplace(name, ch.get());
    outbox::delivery_events events;
    events.on_attempt = [this](const state::record& r, const notify::delivery_result& res) {
        if (cluster) cluster->changed(r.incident_id);
        metrics.action(r.channel, notify::to_string(res.result));
        if (res.result == notify::outcome::retry) {
            core::log_warning("delivery to " + r.channel + " failed (" + res.detail + "), will retry");
            if (options.observer) options.observer->action_retry(r, res.detail);
        }
    };
    events.on_sent = [this](const state::record& r) {
        metrics.delivered(r.channel, std::chrono::duration<double>(clock.now() - r.created_at).count());
        if (options.observer) options.observer->action_delivered(r);
        delivery_settled(r);
    };
    events.on_dead = [this](const state::record& r, std::string_view why) {
        metrics.action(r.channel, "dead");
        core::log_error("delivery to " + r.channel + " given up (" + std::string(why) + "): action " + r.key);
        if (options.observer) options.observer->action_dead(r, why);
        delivery_settled(r);
    };
    // Counted as crisisd_actions_total{outcome="refused"}; the delivery loop logs the error.
    events.on_refused = [this](const state::record& r, std::string_view why) {
        metrics.action(r.channel, "refused");
        if (options.observer) options.observer->action_dead(r, why);
        delivery_settled(r);
    };
    if (cluster && cluster->sends()) {
        events.instance = runtime::cluster_node::delivery_instance;
        events.fence = [this](const state::record& r, std::function<void(bool)> done) { cluster->may_deliver(r, done); };
        // Statement caps hold across the cluster: a slot is taken from the shared count before the post.
        events.shared_cap = [this](const state::record& r, int cap, auto done) {
            using verdict = outbox::delivery_events::cap_verdict;
            if (!peers) return done(verdict::hold);
            peers->reserve_statement(r.channel, cap, clock.now(), r.key, *confirm_exec, [done](cluster::cap_outcome o) {
                done(o == cluster::cap_outcome::reserved ? verdict::send
                     : o == cluster::cap_outcome::over_cap ? verdict::skip : verdict::hold);
            });
        };
    }
    delivery = std::make_unique<outbox::delivery_loop>(io.get_executor(), *store, std::move(by_name), clock,
                                                       std::move(events));
    return std::nullopt;
}

// Cluster mode (cluster_mode()): the replica's leases and, for "partitions", its partitioned
// intake, the partitions' state in JetStream and the fence on delivery.
std::optional<create_error> daemon::impl::build_cluster() {
    if (!settings.cluster) return std::nullopt;
    std::string error;
    confirm_exec = std::make_unique<blocking_executor>();
    cluster = runtime::cluster_node::open(*settings.cluster, cluster_mode(), det, *store, rclock, exec, *confirm_exec,
                                          *this, error);
    if (!cluster) return create_error{.message = "cluster: " + error, .state = {}, .single_node_state = false, .temporary = true};
    runtime::cluster_node::hooks h;
    h.incidents_changed = [this](const std::vector<std::uint64_t>& ids) {
        log.changed(ids);
        if (api) api->incidents_changed(ids);
        metrics.open_incidents(live_incident_ids().size());
    };
    h.outbox_changed = [this] {
        update_outbox_metrics();
        if (delivery) delivery->wake();
    };
    cluster->set_hooks(std::move(h));
    if (auto* router = cluster->router()) in->set_router(router);
    return std::nullopt;
}

// Cluster mode: each pull source runs on the one replica holding its lease (sources/source_leases.hpp).
std::optional<create_error> daemon::impl::build_source_leases() {
    if (!settings.cluster) return std::nullopt;
    std::vector<std::string> pull;
    for (const auto& s : settings.sources)
        if (sources::is_pull_source(s)) pull.push_back(s.name);
    if (pull.empty()) return std::nullopt;
    srcs->lease_pull_sources();
    std::string error;
    source_leases = sources::source_leases::open(
        *settings.cluster, std::move(pull), exec,
        [this](const std::string& name, bool held) {
            metrics.cluster_source_held(name, held);
            srcs->hold(name, held);
        },
        srcs->shared_cursors(cluster ? cluster->front() : nullptr), error);
    if (!source_leases) return create_error{.message = "cluster: source leases: " + error, .state = {}, .single_node_state = false,
                                                   .temporary = true};
    for (const auto& name : source_leases->names()) metrics.cluster_source_held(name, false);
    return std::nullopt;
}

std::optional<create_error> daemon::impl::build() {
    auto opened = state::database::open(settings.storage.path);
    if (auto* e = std::get_if<state::open_error>(&opened)) return create_error{e->message, e->kind};
    store = std::move(std::get<std::unique_ptr<state::database>>(opened));
    // Before NATS: a replica must not start on a single node's open incidents and outbox.
    const bool partitioned = settings.cluster && cluster_mode() != "leases";
    const auto handed = state::take_over(*store, partitioned ? settings.cluster->name : "", options.discard_local_state,
                                         clock.now());
    if (handed.refused || handed.failed)
        return create_error{.message = handed.message,
                            .state = handed.failed ? std::optional(state::open_failure::unavailable) : std::nullopt,
                            .single_node_state = handed.refused,
                            .temporary = false};
    auto created = pipeline::pipeline::create(pipeline_settings_of(settings));
    if (auto* e = std::get_if<std::string>(&created)) return create_error{*e, std::nullopt};
    det.pipe = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
    build_runtime();
    runtime::restore_state({*store, det, *cmds, *steps, *keeper}, clock.now(), settings.storage.resolved_grace);
    if (auto err = build_cluster()) return err;
    if (auto err = build_delivery()) return err;

    api = std::make_unique<admin::api>(settings.admin, metrics, *this, admin::console_assets());
    // A tokens file that is gone or broken does not stop paging: the API then answers 401 and
    // the journal and crisisd_admin_tokens_file_errors_total say why. The demo's own token comes
    // first, so that a demo without a tokens file is not told the console will refuse everything.
    if (!options.extra_admin_token.empty()) api->add_token("demo", admin::role::admin, options.extra_admin_token);
    api->load_tokens();

    srcs = std::make_unique<sources::source_set>(io.get_executor(), *in, metrics, options.observer, *store, clock);
    for (const auto& s : settings.sources)
        if (auto err = srcs->add(s); !err.empty()) return create_error{err, std::nullopt};
    if (auto err = build_source_leases()) return err;
    update_outbox_metrics();
    return std::nullopt;
}

daemon::daemon(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
daemon::~daemon() {
    if (impl_) {
        impl_->running = false;
        impl_->tick_timer.cancel();
        if (impl_->srcs) impl_->srcs->stop();
        if (impl_->delivery) impl_->delivery->stop();
        if (impl_->source_leases) impl_->source_leases->stop(false);
        if (impl_->cluster) impl_->cluster->stop(false);
        if (impl_->peers) impl_->peers->stop(false);
        if (impl_->admin_server) impl_->admin_server->stop();
    }
}

std::variant<std::unique_ptr<daemon>, create_error> daemon::create(asio::io_context& io, config::settings settings,
                                                                  daemon_options options) {
    if (!options.clock) return create_error{"daemon needs a clock", std::nullopt};
    // Listeners keep descriptors free for channels out of this (issue 13).
    net::raise_open_files_limit();
    auto im = std::make_unique<impl>(io, std::move(settings), options);
    if (auto err = im->build()) return std::move(*err);
    return std::unique_ptr<daemon>(new daemon(std::move(im)));
}

std::string daemon::start() {
    auto& s = *impl_;
    net::http_server_options o;
    o.listen = s.settings.admin.listen;
    o.check_head = [&s](const net::http_request_in& head) { return s.api->check_head(head); };
    o.reserve_descriptors = 16;  // ingest keeps more free, so the admin API outlasts a flood there
    o.cert_file = s.settings.admin.cert_file;
    o.key_file = s.settings.admin.key_file;
    s.admin_server = std::make_unique<net::http_server>(
        s.io.get_executor(), o, [&s](const net::http_request_in& req) { return s.api->handle(req); });
    if (auto ec = s.admin_server->start()) return "admin listener " + s.settings.admin.listen + ": " + ec.message();
    s.api->set_port(s.admin_server->port());
    const auto console_url = admin::console_url(s.settings.admin, s.admin_server->port());
    if (s.cluster) {
        // Peers reach this replica's API at advertise_url, or where the console is.
        auto url = s.settings.cluster->advertise_url.empty() ? console_url.substr(0, console_url.size() - 1)
                                                              : s.settings.cluster->advertise_url;
        std::string error;
        const auto started = std::chrono::duration_cast<std::chrono::seconds>(s.clock.now().time_since_epoch()).count();
        s.peers = runtime::cluster_peers::open(*s.settings.cluster, url, started, error);
        if (!s.peers) return "cluster: member directory: " + error;
        s.routes = std::make_unique<runtime::cluster_routes>(*s.peers, *s.cluster);
        s.api->set_cluster(s.routes.get(), s.settings.cluster->peer_token);
        if (s.settings.cluster->peer_token.empty())
            core::log_warning("cluster: no peer_token: the admin API shows and commands this replica's incidents only");
        else if (!s.peers->listen_feed([api = s.api.get()](std::string_view m) { api->feed_message(m); }, error))
            return "cluster: console feed: " + error;
        s.peers->start();
    }
    s.steps->set_console_url(console_url);
    s.running = true;
    // What restoring the incidents decided (a veto wait restarted, a changed step waiting for
    // approval) is recorded and announced before anything else happens.
    s.steps->handle();
    // The lease diagnostic must not page or post beside its peers: its outbox is not sent.
    if (!s.cluster || s.cluster->sends()) s.delivery->start();
    // Connect channels ahead of the first page, so it does not wait for TCP and TLS.
    for (auto& [name, ch] : s.channels) asio::co_spawn(s.io, ch->warm_up(), asio::detached);
    s.srcs->start();
    if (s.cluster) s.cluster->start();
    if (s.source_leases) s.source_leases->start();
    s.schedule_tick();
    core::log_info("admin API and console on " + console_url);
    return "";
}

void daemon::shutdown(std::chrono::milliseconds deadline, std::function<void()> done) {
    auto& s = *impl_;
    s.stopping = true;
    s.in->stop();
    s.srcs->stop();
    // Frames already queued are mentions received: they go through the pipeline first.
    auto drained = [&s] { return s.in->idle() && s.delivery->in_flight() == 0 && s.delivery->idle(); };
    net::poll_until(s.io.get_executor(), drained, std::chrono::milliseconds(20), deadline, [&s, done](bool flushed) {
        if (!flushed) core::log_warning("shutdown: deliveries still pending; they stay in the outbox for next start");
        s.running = false;
        s.tick_timer.cancel();
        while (s.writer->holding()) s.writer->release(s.det.pipe->incidents());
        s.keeper->save_detector();
        s.in->save_positions();
        // What the front took is published before the replica goes.
        if (s.cluster) s.cluster->stop_intake(std::chrono::seconds(2));
        s.delivery->stop();
        // Peers take the partitions over at once instead of after the lease TTL.
        if (s.cluster) s.cluster->stop(true);
        if (s.source_leases) s.source_leases->stop(true);  // the sources stopped first
        if (s.peers) s.peers->stop(true);
        s.admin_server->stop();
        done();
    });
}

std::string daemon::reload(config::settings next, std::vector<std::string>& notes) {
    return impl_->reload(std::move(next), notes);
}

void daemon::audit_reload(std::string_view what, std::string_view outcome) {
    impl_->audit({"SIGHUP", "", "reload", std::string(what), std::string(outcome)});
}

std::uint16_t daemon::admin_port() const { return impl_->admin_server ? impl_->admin_server->port() : 0; }

bool daemon::quiescent() const {
    for (const auto& inc : impl_->det.pipe->incidents().incidents())
        if (inc.state != incident::incident_state::resolved) return false;
    return impl_->store->actions().count(state::record_state::pending) == 0 && impl_->delivery->in_flight() == 0;
}

std::uint64_t daemon::mentions_processed() const { return impl_->det.pipe->processed(); }
// Counted by id, not by the incidents in memory: resolved ones leave after storage.resolved_grace.
std::size_t daemon::incidents_opened() const { return impl_->det.pipe->incidents().next_id() - 1; }

std::string daemon::report_json() const {
    auto& s = *impl_;
    return s.views->report_json(*s.det.pipe, s.settings.playbooks);
}

}  // namespace crisisd::app
