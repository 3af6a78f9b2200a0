#include "sources/source_set.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>

#include "core/log.hpp"
#include "ingest/facebook_source.hpp"
#include "ingest/feed_source.hpp"
#include "ingest/file_source.hpp"
#include "ingest/frame_queue.hpp"
#include "ingest/http_source.hpp"
#include "ingest/websocket_source.hpp"
#include "ingest/x_source.hpp"
#include "runtime/cluster_intake.hpp"
#include "parse/facebook.hpp"
#include "sources/feed_intake.hpp"
#include "sources/source_leases.hpp"
#include "state/database.hpp"

namespace crisisd::sources {

namespace {

// ingest::frame_queue as the runtime's frame_buffer (the transport waits on it for room).
struct queue_buffer final : runtime::frame_buffer {
    ingest::frame_queue q;
    queue_buffer(boost::asio::any_io_executor ex, std::size_t capacity, ingest::overflow_policy policy)
        : q(std::move(ex), capacity, policy) {}
    push_result push(std::string_view frame, std::int64_t tag) override {
        switch (q.push(frame, tag)) {
            case ingest::frame_queue::push_result::queued: return push_result::queued;
            case ingest::frame_queue::push_result::queued_dropped_oldest: return push_result::queued_dropped_oldest;
            case ingest::frame_queue::push_result::full: return push_result::full;
        }
        return push_result::full;
    }
    bool empty() const override { return q.empty(); }
    std::string_view front() const override { return q.front(); }
    std::int64_t front_tag() const override { return q.front_tag(); }
    void pop() override { q.pop(); }
};

// Whatever carries the frames (websocket, X, file, HTTP ingest, feed,
// Facebook), started and stopped alike.
struct transport {
    virtual ~transport() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    // Takes changed settings without a restart when it can (an HTTP listener's token).
    virtual bool update(const ingest::source_settings&) { return false; }
};
template <class Source>
struct transport_of final : transport {
    std::unique_ptr<Source> source;
    explicit transport_of(std::unique_ptr<Source> s) : source(std::move(s)) {}
    void start() override {
        if constexpr (requires { source->port(); }) return;  // http, facebook: bound when built
        else source->start();
    }
    void stop() override { source->stop(); }
    bool update(const ingest::source_settings& s) override {
        if constexpr (std::is_same_v<Source, ingest::http_source>) return source->update(ingest::http_settings_of(s)).empty();
        else return false;
    }
};

}  // namespace

struct source_set::wiring final : ingest::source_events, runtime::source_probe {
    std::string name;
    admin::metrics& metrics;
    admin::source_meter& meter;  // per-frame counters without a lookup
    status_listener* observer;
    std::unique_ptr<queue_buffer> queue;  // websocket and file sources; HTTP ingest is direct
    runtime::lane* lane = nullptr;
    std::unique_ptr<transport> carrier;
    ingest::feed_source* feed = nullptr;       // feed sources: the carrier's transport
    std::shared_ptr<feed_intake> items;        // and its items
    ingest::source_settings settings;
    bool started = false;

    wiring(std::string n, admin::metrics& m, status_listener* o)
        : name(std::move(n)), metrics(m), meter(m.source(name)), observer(o) {}

    // --- source_events: what the transport reports ---
    void on_connected(bool up) override {
        if (!up && lane) lane->save_position();
        metrics.source_connected(name, up);
        if (observer) observer->source_state(name, up, "");
        core::log(up ? core::log_level::info : core::log_level::warning,
                  "source " + name + (up ? ": connected" : ": disconnected"));
    }
    void on_frame_rejected(std::string_view reason) override {
        meter.received();
        metrics.mention_rejected(name, reason);
    }
    void on_reconnect() override { metrics.source_reconnect(name); }
    void on_fatal(std::string_view message) override {
        core::log_error("source " + name + ": " + std::string(message) + " (not retrying; fix the configuration)");
        if (observer) observer->source_state(name, false, message);
    }

    // --- source_probe: what intake reports ---
    void received(runtime::clock::monotonic_time arrival) override {
        meter.received();
        meter.message_at(arrival.time_since_epoch().count());
    }
    void received_batch(runtime::clock::monotonic_time arrival, std::size_t frames) override {
        meter.received(frames);
        meter.message_at(arrival.time_since_epoch().count());
    }
    void dropped() override { meter.dropped(); }
    void rejected(std::string_view reason) override { metrics.mention_rejected(name, reason); }
    void skipped(std::string_view why) override { metrics.source_frame(name, why); }
};

source_set::source_set(boost::asio::any_io_executor ex, runtime::intake& intake, admin::metrics& metrics,
                       status_listener* listener, state::database& store, const core::clock& clock)
    : ex_(std::move(ex)), intake_(intake), metrics_(metrics), listener_(listener), store_(store), clock_(clock) {}

source_set::~source_set() { stop(); }

std::string source_set::add(const ingest::source_settings& s) {
    parse::parser_settings ps;
    ps.format = s.format;
    // Item frames are written by crisisd from a document no larger than the limit; JSON escaping may
    // make one a little longer than what it was cut from.
    ps.max_bytes = s.format == "item" ? s.max_message_bytes * 2 + 4096 : s.max_message_bytes;
    ps.field_map = s.field_map;
    ps.only_when = s.only_when;
    auto parser = parse::make_parser(ps);
    if (!parser) return "source '" + s.name + "': unknown format '" + s.format + "'";
    auto w = std::make_unique<wiring>(s.name, metrics_, listener_);
    w->settings = s;
    const runtime::lane_settings ls{s.name, s.trusted, s.max_rate};
    if (s.type == "websocket" || s.type == "x" || s.type == "file") {
        build_stream(s, *w, ls, std::move(parser));
    } else if (s.type == "http" || s.type == "facebook") {
        if (auto err = build_listener(s, *w, ls, std::move(parser)); !err.empty()) return "source '" + s.name + "': " + err;
    } else if (s.type == "feed") {
        build_feed(s, *w, ls, std::move(parser));
    } else {
        return "source '" + s.name + "': type '" + s.type + "' is not supported by run";
    }
    metrics_.source_connected(s.name, s.type == "http" || s.type == "facebook");
    live_.push_back(std::move(w));
    return "";
}

void source_set::build_stream(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                              std::unique_ptr<parse::frame_parser> parser) {
    w.queue = std::make_unique<queue_buffer>(ex_, s.queue_capacity, s.queue_overflow);
    auto deliver = [this, raw = &w](std::string_view frame) { intake_.enqueue(*raw->lane, frame); };
    if (s.type == "websocket") {
        auto ws = std::make_unique<ingest::websocket_source>(ex_, s, deliver, w);
        w.lane = &intake_.add(ls, std::move(parser), w.queue.get(), w);
        if (s.format == "jetstream") {
            std::vector<std::string> collections = s.collections;
            if (collections.empty()) collections.emplace_back("app.bsky.feed.post");
            intake_.resume_jetstream(*w.lane, ingest::jetstream_resume(s.url, std::move(collections), s.dids,
                                                                        std::chrono::duration_cast<std::chrono::microseconds>(s.resume_lookback)));
            ws->set_url_provider([lane = w.lane] { return lane->resume()->url(); });
        }
        if (!s.subscribe.empty()) ws->set_subscribe_messages(s.subscribe);
        ws->set_flow_control(&w.queue->q);
        ws->set_frames_handler([this, raw = &w](std::span<const std::string_view> frames) { intake_.enqueue(*raw->lane, frames); });
        w.carrier = std::make_unique<transport_of<ingest::websocket_source>>(std::move(ws));
    } else if (s.type == "x") {
        auto x = std::make_unique<ingest::x_source>(ex_, s, deliver, w);
        x->set_flow_control(&w.queue->q);
        if (auto r = resumed_.find(s.name); r != resumed_.end()) {
            x->backfill_first_connection();
            resumed_.erase(r);
        }
        w.lane = &intake_.add(ls, std::move(parser), w.queue.get(), w);
        w.carrier = std::make_unique<transport_of<ingest::x_source>>(std::move(x));
    } else {
        auto file = std::make_unique<ingest::file_source>(
            ex_, s, deliver,
            [name = s.name](const std::string& error) {
                if (error.empty()) core::log_info("source " + name + ": end of input");
            },
            w);
        file->set_flow_control(&w.queue->q);
        w.lane = &intake_.add(ls, std::move(parser), w.queue.get(), w);
        w.carrier = std::make_unique<transport_of<ingest::file_source>>(std::move(file));
    }
}

namespace {

// Room while intake accepts frames (always but in cluster mode, where a front whose stream is
// behind has none): an HTTP ingest request waits for it between lines, holding its answer, rather
// than the runtime's thread waiting inside the cluster's route().
class intake_room final : public ingest::flow_control {
public:
    intake_room(boost::asio::any_io_executor ex, runtime::intake& in) : ex_(std::move(ex)), intake_(in) {}
    bool has_room() const override { return intake_.accepting(); }
    std::size_t room() const override { return has_room() ? static_cast<std::size_t>(-1) : 0; }
    boost::asio::awaitable<void> wait_for_room() override {
        // Held by the wake-up too, which may come after the request is gone.
        auto timer = std::make_shared<boost::asio::steady_timer>(ex_, boost::asio::steady_timer::time_point::max());
        intake_.when_accepting([timer] { timer->cancel(); });
        co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

private:
    boost::asio::any_io_executor ex_;
    runtime::intake& intake_;
};

}  // namespace

// Bound here rather than in start(), so a taken port is a start-up error with a reason.
std::string source_set::build_listener(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                                       std::unique_ptr<parse::frame_parser> parser) {
    if (s.type == "http") {
        auto http = std::make_unique<ingest::http_source>(
            ex_, ingest::http_settings_of(s), [this, raw = &w](std::string_view line) { return intake_.offer(*raw->lane, line); },
            w);
        if (auto err = http->start(); !err.empty()) return err;
        if (!intake_room_) intake_room_ = std::make_unique<intake_room>(ex_, intake_);
        http->set_flow_control(intake_room_.get());
        w.lane = &intake_.add(ls, std::move(parser), nullptr, w);
        w.carrier = std::make_unique<transport_of<ingest::http_source>>(std::move(http));
        return "";
    }
    ingest::facebook_source_settings fs;
    fs.name = s.name;
    fs.listen = s.listen;
    fs.verify_token = s.verify_token;
    fs.app_secret = s.app_secret;
    fs.max_body_bytes = s.max_body_bytes;
    // A signed delivery's posts and comments, each as one frame, processed while Meta waits.
    auto on_body = [this, raw = &w, limit = s.max_body_bytes](std::string_view body) -> std::string_view {
        auto changes = parse::read_facebook_webhook(body, limit);
        if (changes.error) {
            raw->on_frame_rejected(parse::to_string(*changes.error));
            return parse::to_string(*changes.error);
        }
        for (std::size_t i = 0; i < changes.ignored; ++i) metrics_.source_frame(raw->name, "ignored");
        for (std::size_t i = 0; i < changes.unusable; ++i) raw->on_frame_rejected("missing_id");
        for (const auto& frame : changes.frames) intake_.offer(*raw->lane, frame);
        return {};
    };
    auto fb = std::make_unique<ingest::facebook_source>(ex_, fs, on_body, w);
    if (auto err = fb->start(); !err.empty()) return err;
    w.lane = &intake_.add(ls, std::move(parser), nullptr, w);
    w.carrier = std::make_unique<transport_of<ingest::facebook_source>>(std::move(fb));
    return "";
}

void source_set::build_feed(const ingest::source_settings& s, wiring& w, runtime::lane_settings ls,
                            std::unique_ptr<parse::frame_parser> parser) {
    w.queue = std::make_unique<queue_buffer>(ex_, s.queue_capacity, s.queue_overflow);
    ingest::feed_source_settings fs;
    fs.name = s.name;
    fs.url = s.url;
    fs.ca_file = s.ca_file;
    fs.interval = s.interval;
    fs.max_document_bytes = s.max_message_bytes;
    if (auto r = resumed_.find(s.name); r != resumed_.end()) {
        fs.etag = r->second.etag;
        fs.last_modified = r->second.last_modified;
        resumed_.erase(r);
    }
    auto items = std::make_shared<feed_intake>(
        s.name, s.max_message_bytes, store_, clock_,
        feed_intake::hooks{[this, raw = &w](std::string_view frame) { intake_.enqueue(*raw->lane, frame); },
                           [this, name = s.name](std::string_view kind) { metrics_.source_frame(name, kind); },
                           [raw = &w](std::string_view reason) { raw->on_frame_rejected(reason); }});
    auto feed = std::make_unique<ingest::feed_source>(
        ex_, fs, [items](std::string_view doc) { items->on_document(doc); }, w);
    w.lane = &intake_.add(ls, std::move(parser), w.queue.get(), w);
    w.feed = feed.get();
    w.items = std::move(items);
    w.carrier = std::make_unique<transport_of<ingest::feed_source>>(std::move(feed));
}

std::optional<source_cursor> source_set::cursor_of(const std::string& name) const {
    auto it = std::find_if(live_.begin(), live_.end(), [&](const auto& w) { return w->name == name; });
    if (it == live_.end() || !(*it)->started) return std::nullopt;
    const auto& w = **it;
    source_cursor c;
    if (w.feed) {
        const auto* recent = w.items->recent();
        if (!recent || !w.queue->empty()) return std::nullopt;
        c.polled = true;
        c.items = *recent;
        const auto v = w.feed->last_validators();
        c.etag = v.etag;
        c.last_modified = v.last_modified;
        return c;
    }
    // A Jetstream position moves only with frames the intake processed.
    if (auto* r = w.lane->resume(); r && r->position() > 0) {
        c.position = r->position();
        return c;
    }
    return std::nullopt;
}

void source_set::resume_from(const std::string& name, const source_cursor& c) {
    auto it = std::find_if(live_.begin(), live_.end(), [&](const auto& w) { return w->name == name; });
    if (it == live_.end() || (*it)->started) return;
    auto settings = (*it)->settings;
    // Retired first: its lane saves the position it was built with, which the shared one replaces.
    retire(it);
    if (c.position > 0 && !store_.cursors().save(name, c.position))
        core::log_error("source " + name + ": cannot record its shared cursor (" + store_.last_error() + ")");
    if (settings.type == "feed" && c.polled) {
        if (!feed_intake::import(store_, name, c.items, clock_.now()))
            core::log_error("source " + name + ": cannot record the items its last holder saw (" + store_.last_error() +
                            "); its first poll here may count them again");
        resumed_[name] = c;
    }
    // X's stream has no cursor; what it sent while the source moved comes with a backfill.
    if (settings.type == "x") resumed_[name] = c;
    if (auto err = add(settings); !err.empty()) core::log_error("source " + name + ": " + err);
}

cursor_hooks source_set::shared_cursors(const runtime::cluster_intake* front) {
    cursor_hooks h;
    h.collect = [this](const std::string& name) { return cursor_of(name); };
    h.import = [this](const std::string& name, const source_cursor& c) { resume_from(name, c); };
    if (front) {
        h.routed = [front] { return front->routed(); };
        h.settled = [front] { return front->settled(); };
    }
    h.written = [this](const std::string& name) { metrics_.cluster_source_cursor_written(name); };
    return h;
}

bool source_set::may_run(const ingest::source_settings& s) const {
    return !leased_ || !is_pull_source(s) || std::find(held_.begin(), held_.end(), s.name) != held_.end();
}

void source_set::start() {
    started_ = true;
    for (auto& w : live_)
        if (!w->started && may_run(w->settings)) {
            w->carrier->start();
            w->started = true;
        }
}

void source_set::retire(std::vector<std::unique_ptr<wiring>>::iterator it) {
    (*it)->carrier->stop();
    intake_.remove(*(*it)->lane);
    retired_.push_back(std::move(*it));
    live_.erase(it);
}

void source_set::hold(const std::string& name, bool held) {
    const auto h = std::find(held_.begin(), held_.end(), name);
    auto it = std::find_if(live_.begin(), live_.end(), [&](const auto& w) { return w->name == name; });
    if (!held) {
        if (h != held_.end()) held_.erase(h);
        if (!started_) return;  // not started yet, or stopping: nothing runs
        // A transport that has run is retired: a fresh one is built when the lease comes back,
        // so nothing of the old connection (its queue, its lane) outlives the lease.
        if (it != live_.end() && (*it)->started) {
            retire(it);
            metrics_.source_connected(name, false);
            auto settings = (*retired_.back()).settings;
            if (auto err = add(settings); !err.empty()) core::log_error("source " + name + ": " + err);
        }
        return;
    }
    if (h == held_.end()) held_.push_back(name);
    if (started_) start();
}

void source_set::stop() {
    started_ = false;  // a lease gained while the daemon stops starts nothing (hold())
    for (auto& w : live_)
        if (w->carrier) w->carrier->stop();
}

std::string source_set::check(const std::vector<ingest::source_settings>& next) const {
    for (const auto& src : next)
        if (src.type == "http")
            if (auto err = ingest::http_source::check_listen(ex_, src.listen); !err.empty())
                return "source '" + src.name + "': " + err;
    return "";
}

void source_set::reload(std::vector<ingest::source_settings>& running, const std::vector<ingest::source_settings>& next,
                     bool started, std::vector<std::string>& notes) {
    auto find = [](const std::vector<ingest::source_settings>& list, const std::string& name) {
        return std::find_if(list.begin(), list.end(), [&](const auto& x) { return x.name == name; });
    };
    std::string stopped, added;
    // Stop first, so a changed HTTP source can bind its port again.
    for (auto it = live_.begin(); it != live_.end();) {
        auto wanted = find(next, (*it)->name);
        auto was = find(running, (*it)->name);
        if (wanted != next.end() && was != running.end() &&
            (*wanted == *was || (ingest::http_update_in_place(*was, *wanted) && (*it)->carrier->update(*wanted)))) {
            ++it;
            continue;
        }
        stopped += (stopped.empty() ? "" : ", ") + (*it)->name;
        if (wanted == next.end()) metrics_.source_removed((*it)->name);
        (*it)->carrier->stop();
        intake_.remove(*(*it)->lane);
        retired_.push_back(std::move(*it));
        it = live_.erase(it);
    }
    std::vector<ingest::source_settings> kept;
    for (const auto& s : next) {
        const bool running_now = std::any_of(live_.begin(), live_.end(), [&](const auto& w) { return w->name == s.name; });
        if (!running_now) {
            if (auto err = add(s); !err.empty()) {
                core::log_error("reload: " + err + "; the source is not running");
                metrics_.source_connected(s.name, false);  // its gauge must not keep the old source's 1
                continue;
            }
            if (started && may_run(s)) {
                live_.back()->carrier->start();
                live_.back()->started = true;
            } else if (started) {
                notes.push_back("source " + s.name +
                                " runs only on the replica holding its lease (a pull source new to this replica's "
                                "configuration gets a lease at the next restart)");
            }
            added += (added.empty() ? "" : ", ") + s.name;
        }
        kept.push_back(s);
    }
    if (!stopped.empty()) notes.push_back("sources stopped: " + stopped);
    if (!added.empty()) notes.push_back("sources started: " + added);
    running = std::move(kept);
}

}  // namespace crisisd::sources
