#include "admin/feed.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "admin/api.hpp"
#include "admin/cluster_feed.hpp"
#include "admin/metrics.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"

namespace crisisd::admin {

struct feed::client {
    token_digest digest{};
    std::shared_ptr<net::sse_stream> stream;  // set by attach()
    // Owes the client the whole live list: it is new, or it fell behind and missed changes.
    // Read and written by flush() only.
    bool resync = true;
    std::chrono::steady_clock::time_point last_sent{};  // flush() only
};

// Cluster mode: the peers' incidents as last heard, and when this replica last told them all.
struct feed::relay {
    explicit relay(cluster_access& c) : cluster(c), mirror(c.self_name()) {}
    cluster_access& cluster;
    cluster_feed mirror;
    bool said_hello = false;
    bool full_round_due = true;   // at start, and when a peer said hello
    std::chrono::steady_clock::time_point last_full{};
};

namespace {
// A client that got nothing for this long gets {"now":…}, so a console can tell a quiet daemon
// from a dead feed.
constexpr auto keepalive = std::chrono::seconds(5);
}  // namespace

feed::feed(daemon_access& daemon, metrics& m, std::size_t max_streams, std::size_t buffer_bytes)
    : daemon_(daemon), metrics_(m), max_streams_(max_streams), buffer_bytes_(buffer_bytes) {}

feed::~feed() {
    std::lock_guard lock(mutex_);
    for (auto& c : live_) c->stream->close();
}

void feed::mark(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    dirty_.push_back(id);
}

void feed::mark(std::span<const std::uint64_t> ids) {
    std::lock_guard lock(mutex_);
    dirty_.insert(dirty_.end(), ids.begin(), ids.end());
}

std::size_t feed::count_locked() {
    std::erase_if(live_, [](const auto& c) { return !c->stream->is_open(); });
    std::erase_if(admitted_, [](const auto& w) { return w.expired(); });
    const auto n = live_.size() + admitted_.size();
    metrics_.event_streams(n);
    return n;
}

std::shared_ptr<feed::client> feed::admit(const token_digest& digest) {
    std::lock_guard lock(mutex_);
    if (count_locked() >= max_streams_) {
        metrics_.event_stream_refused();
        // A console retrying every few seconds would fill the journal; one line a minute says it.
        const auto now = std::chrono::steady_clock::now();
        if (refusal_logged_ == std::chrono::steady_clock::time_point{} || now - refusal_logged_ >= std::chrono::minutes(1)) {
            refusal_logged_ = now;
            core::log_warning("admin: an event stream was refused: " + std::to_string(max_streams_) +
                              " are open (admin.max_event_streams); crisisd_admin_event_streams_refused_total counts them");
        }
        return nullptr;
    }
    auto c = std::make_shared<client>();
    c->digest = digest;
    admitted_.push_back(c);
    metrics_.event_streams(live_.size() + admitted_.size());
    return c;
}

void feed::attach(const std::shared_ptr<client>& c, std::shared_ptr<net::sse_stream> stream) {
    std::lock_guard lock(mutex_);
    c->stream = std::move(stream);
    std::erase_if(admitted_, [&](const auto& w) { return w.expired() || w.lock() == c; });
    live_.push_back(c);
}

void feed::close_if_not(const std::function<bool(const token_digest&)>& keep) {
    std::vector<std::shared_ptr<client>> gone;
    {
        std::lock_guard lock(mutex_);
        for (auto it = live_.begin(); it != live_.end();) {
            if (keep((*it)->digest)) {
                ++it;
                continue;
            }
            gone.push_back(std::move(*it));
            it = live_.erase(it);
        }
        count_locked();
    }
    for (auto& c : gone) c->stream->close();
}

std::size_t feed::streams() {
    std::lock_guard lock(mutex_);
    return count_locked();
}

void feed::enable_cluster(cluster_access& cluster) {
    relay_ = std::make_unique<relay>(cluster);
}

void feed::peer_message(std::string_view message) {
    if (!relay_) return;
    std::lock_guard lock(mutex_);
    if (inbox_bytes_ + message.size() > max_peer_backlog) {
        inbox_dropped_ = true;
        return;
    }
    inbox_bytes_ += message.size();
    inbox_.emplace_back(message);
}

std::vector<std::string> feed::relay_round(const std::vector<std::string>& rendered,
                                           const std::vector<std::uint64_t>& removed) {
    auto& r = *relay_;
    std::vector<std::string> inbox;
    bool dropped = false;
    {
        std::lock_guard lock(mutex_);
        inbox.swap(inbox_);
        inbox_bytes_ = 0;
        dropped = std::exchange(inbox_dropped_, false);
    }
    auto publish = [&](std::string m) { r.cluster.publish_feed(std::move(m)); };
    // A replica that just started, or that missed messages, asks every peer for a full round.
    if (!r.said_hello || dropped) {
        if (dropped) core::log_warning("admin: console feed messages from peers were dropped (over " +
                                       std::to_string(max_peer_backlog) + " bytes waiting); asking for a full round");
        publish(r.mirror.hello());
        r.said_hello = true;
    }
    std::vector<std::string> relayed;
    for (const auto& m : inbox) {
        bool asked = false;
        if (auto body = r.mirror.take(m, asked)) relayed.push_back(std::move(*body));
        r.full_round_due = r.full_round_due || asked;
    }
    std::vector<std::string> members;
    for (auto& p : r.cluster.peers()) members.push_back(std::move(p.name));
    const auto now = std::chrono::steady_clock::now();
    for (auto& body : r.mirror.keep_only(members, now)) relayed.push_back(std::move(body));

    if (!rendered.empty() || !removed.empty())
        for (auto& m : r.mirror.changes(rendered, removed)) publish(std::move(m));
    if (r.full_round_due || now - r.last_full >= full_round_interval) {
        r.full_round_due = false;
        r.last_full = now;
        auto live = daemon_.live_incident_ids();
        std::sort(live.begin(), live.end());
        std::vector<std::string> all;
        for (auto id : live)
            if (auto one = daemon_.incident_feed_json(id)) all.push_back(with_replica(*one, r.mirror.self()));
        if (!all.empty())
            for (auto& m : r.mirror.changes(all, {})) publish(std::move(m));
        publish(r.mirror.live(live));
    }
    return relayed;
}

void feed::flush() {
    std::vector<std::uint64_t> ids;
    std::vector<std::shared_ptr<client>> clients;
    {
        std::lock_guard lock(mutex_);
        ids.swap(dirty_);
        count_locked();
        clients = live_;
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const bool any_current = std::any_of(clients.begin(), clients.end(), [](const auto& c) { return !c->resync; });

    // The changed incidents are rendered when a console here is current, and in cluster mode
    // always: the peers' consoles want them. Nobody listens anywhere: dropped unrendered (a
    // console that connects later gets the live list, which has them).
    std::vector<std::string> rendered;
    std::vector<std::uint64_t> removed;
    if ((any_current || relay_) && !ids.empty()) {
        for (auto id : ids) {
            if (auto one = daemon_.incident_feed_json(id))
                rendered.push_back(relay_ ? with_replica(*one, relay_->mirror.self()) : std::move(*one));
            else
                removed.push_back(id);
        }
    }
    const auto relayed = relay_ ? relay_round(rendered, removed) : std::vector<std::string>{};
    if (clients.empty()) return;

    std::string changes;
    if (any_current && !ids.empty()) {
        core::json_writer w(changes);
        w.begin_object();
        if (relay_) w.member("replica", relay_->mirror.self());
        w.key("incidents").begin_array();
        for (const auto& one : rendered) w.raw(one);
        w.end_array().key("removed").begin_array();
        for (auto id : removed) w.value(id);
        w.end_array().member("now", daemon_.now_rfc3339()).end_object();
    }

    std::optional<std::string> list;  // rendered at most once, for whoever needs it
    auto live_list = [&]() -> const std::string& {
        if (!list) {
            auto live = daemon_.live_incident_ids();
            // Newest first, this replica's and (in cluster mode) its peers' together.
            std::vector<std::pair<std::uint64_t, std::string>> all;
            for (auto id : live)
                if (auto one = daemon_.incident_feed_json(id))
                    all.emplace_back(id, relay_ ? with_replica(*one, relay_->mirror.self()) : std::move(*one));
            if (relay_) {
                auto owner = [this](std::uint64_t id) -> std::optional<std::string> {
                    const auto route = relay_->cluster.route(id);
                    if (route.where == incident_route::kind::here) return relay_->mirror.self();
                    if (route.where == incident_route::kind::peer) return route.to.name;
                    return std::nullopt;
                };
                for (auto& one : relay_->mirror.live_incidents(live, owner)) all.push_back(std::move(one));
            }
            std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
            list.emplace();
            core::json_writer w(*list);
            w.begin_object().key("incidents").begin_array();
            for (const auto& [id, one] : all) w.raw(one);
            w.end_array().member("now", daemon_.now_rfc3339()).end_object();
        }
        return *list;
    };

    const auto now = std::chrono::steady_clock::now();
    std::string ping;
    for (auto& c : clients) {
        const auto queued = c->stream->queued_bytes();
        if (c->resync) {
            // Behind (or new): nothing until it has read all it was sent, then the newest state.
            if (queued != 0) continue;
            if (c->stream->send(live_list(), "incidents")) {
                c->resync = false;
                c->last_sent = now;
            }
            continue;
        }
        if (changes.empty() && relayed.empty()) {
            if (queued != 0 || now - c->last_sent < keepalive) continue;
            if (ping.empty()) {
                core::json_writer w(ping);
                w.begin_object().member("now", daemon_.now_rfc3339()).end_object();
            }
            if (c->stream->send(ping, "now")) c->last_sent = now;
            continue;
        }
        // One event always fits an empty queue, however large: a bound below one list must not
        // starve a client that keeps up.
        auto fits = [&](const std::string& body) {
            const auto q = c->stream->queued_bytes();
            return q == 0 || q + body.size() <= buffer_bytes_;
        };
        bool behind = !changes.empty() && (!fits(changes) || !c->stream->send(changes, "changes"));
        for (const auto& body : relayed) {
            if (behind) break;
            if (!fits(body) || !c->stream->send(body, "changes")) behind = true;
        }
        if (!behind) {
            c->last_sent = now;
            continue;
        }
        c->resync = true;
        metrics_.event_stream_behind();
    }
}

}  // namespace crisisd::admin
