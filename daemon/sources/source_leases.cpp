#include "sources/source_leases.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cluster/source_cursors.hpp"
#include "core/log.hpp"

namespace crisisd::sources {

bool is_pull_source(const ingest::source_settings& s) { return s.type == "websocket" || s.type == "x" || s.type == "feed"; }

std::string source_leases::bucket_for(const std::string& lease_bucket, const std::vector<std::string>& sorted_names) {
    // FNV-1a over the names, each ended by a byte no name holds.
    std::uint32_t h = 2166136261u;
    for (const auto& n : sorted_names) {
        for (unsigned char c : n) h = (h ^ c) * 16777619u;
        h = (h ^ 0u) * 16777619u;
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", h);
    // Bucket names are at most 64 characters: keep room for "_src_" and the hash.
    return lease_bucket.substr(0, 64 - 13) + "_src_" + hex;
}

std::unique_ptr<source_leases> source_leases::open(const cluster::cluster_settings& settings,
                                                   std::vector<std::string> names, runtime::executor& ex,
                                                   hold_handler on_hold, cursor_hooks cursors, std::string& error) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    auto nats = settings.nats;
    nats.client_name = "crisisd " + settings.name + " sources";
    auto conn = cluster::nats_connection::connect(nats, error);
    if (!conn) return nullptr;
    std::unique_ptr<source_leases> s(
        new source_leases(std::move(conn), settings, std::move(names), ex, std::move(on_hold), std::move(cursors)));
    if (!s->leases_->open(error)) return nullptr;
    s->cursors_ = cluster::source_cursors::open(*s->conn_, settings.leases.replicas, error,
                                                cluster::names_in(settings.name_space).source_cursors);
    if (!s->cursors_) return nullptr;
    return s;
}

source_leases::source_leases(std::unique_ptr<cluster::nats_connection> conn, const cluster::cluster_settings& settings,
                             std::vector<std::string> names, runtime::executor& ex, hold_handler on_hold,
                             cursor_hooks cursors)
    : conn_(std::move(conn)), replica_(settings.name), names_(std::move(names)), ex_(ex), on_hold_(std::move(on_hold)),
      hooks_(std::move(cursors)), running_(names_.size(), false), slots_(names_.size()) {
    auto ls = settings.leases;
    ls.bucket = bucket_for(settings.leases.bucket, names_);
    ls.partitions = static_cast<int>(names_.size());
    leases_ = std::make_unique<cluster::partition_leases>(*conn_, settings.name, ls);
}

source_leases::~source_leases() { stop(false); }

void source_leases::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void source_leases::stop(bool release) {
    // The sources have stopped and the front has taken everything they read: their last points.
    if (release && thread_.joinable()) collect();
    {
        std::lock_guard lock(m_);
        stop_ = true;
        release_ = release_ || release;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void source_leases::run() {
    const auto interval = leases_->settings().renew_interval;
    std::unique_lock lock(m_);
    while (!stop_) {
        lock.unlock();
        const auto round = leases_->tick();
        if (round.name_in_use)
            core::log_error("cluster: another live process uses the replica name '" + leases_->name() +
                            "': give every replica its own cluster.name");
        share_cursors(false);
        // Every round: a source waiting for its resume point starts once it is claimed, and the
        // held ones' points are collected for the next round's write.
        ex_.post([this] {
            reconcile();
            collect();
        });
        lock.lock();
        cv_.wait_for(lock, interval, [this] { return stop_; });
    }
    if (release_) {
        lock.unlock();
        share_cursors(true);
        leases_->release_all();
        core::log_info("cluster: released every source lease");
    }
}

bool source_leases::claim(std::size_t i) {
    const auto& name = names_[i];
    auto l = cursors_->load(name);
    if (!l.ok) {
        core::log_warning("cluster: source " + name + ": cannot read where it stopped (" + l.error + "); trying again");
        return false;
    }
    std::optional<source_cursor> found;
    if (!l.value.empty()) {
        found = decode_source_cursor(l.value);
        if (!found)
            core::log_warning("cluster: source " + name +
                              ": its shared resume point is unreadable; it starts from this replica's own records");
    }
    source_cursor mine = found ? *found : source_cursor{};
    mine.holder = replica_;
    const auto value = encode_source_cursor(mine);
    const auto w = cursors_->write(name, value, l.revision);
    if (w.result != cluster::source_cursors::outcome::ok) {
        // A conflict is the last holder's late write landing between the read and this write:
        // the next round reads it.
        if (w.result == cluster::source_cursors::outcome::unavailable)
            core::log_warning("cluster: source " + name + ": cannot claim its resume point (" + w.error + "); trying again");
        return false;
    }
    core::log_info("cluster: source " + name + ": " +
                   (found ? "resuming where " + (found->holder.empty() ? std::string("its last holder") : found->holder) +
                                " stopped"
                          : std::string("no shared resume point yet; starting from this replica's own records")));
    std::lock_guard lock(m_);
    auto& s = slots_[i];
    s = cursor_slot{};
    s.claimed = true;
    s.found = std::move(found);
    s.revision = w.revision;
    s.written = value;
    return true;
}

void source_leases::write_pending(std::size_t i, std::unique_lock<std::mutex>& lock) {
    auto& s = slots_[i];
    auto c = *s.pending;
    c.holder = replica_;
    const auto value = encode_source_cursor(c);
    if (value == s.written) {
        s.pending.reset();
        return;
    }
    const auto expected = s.revision;
    lock.unlock();
    const auto w = cursors_->write(names_[i], value, expected);
    lock.lock();
    auto& t = slots_[i];
    if (!t.claimed || t.revision != expected) return;  // the hold ended (and maybe began again) meanwhile
    switch (w.result) {
        case cluster::source_cursors::outcome::ok:
            t.revision = w.revision;
            t.written = value;
            ++t.writes;
            break;
        case cluster::source_cursors::outcome::conflict:
            t.fenced = true;
            core::log_error("cluster: source " + names_[i] +
                            ": another replica has claimed its resume point; this replica writes it no more");
            break;
        case cluster::source_cursors::outcome::unavailable:
            break;  // the next round tries again; the lease's own renewals say that NATS is away
    }
}

void source_leases::share_cursors(bool final) {
    const auto now = cluster::mono_clock::now();
    if (final && hooks_.settled) {
        // What the front took before the stop is published by now, or soon (cluster_intake's stop).
        std::uint64_t mark = 0;
        {
            std::lock_guard lock(m_);
            for (const auto& s : slots_)
                if (s.pending) mark = std::max(mark, s.mark);
        }
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (hooks_.settled() < mark && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::vector<std::string> written;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        const bool held = leases_->may_send(static_cast<int>(i), now);
        std::unique_lock lock(m_);
        auto& s = slots_[i];
        if (!held) {
            if (s.claimed) s = cursor_slot{};  // taken again later: read again then
            continue;
        }
        if (!s.claimed) {
            if (final) continue;
            lock.unlock();
            claim(i);
            continue;
        }
        if (s.fenced || !s.pending) continue;
        if (hooks_.settled && hooks_.settled() < s.mark) continue;  // the front has not published that far
        write_pending(i, lock);
        for (; slots_[i].writes > 0; --slots_[i].writes) written.push_back(names_[i]);
    }
    if (!written.empty() && hooks_.written && !final)
        ex_.post([this, written = std::move(written)] {
            for (const auto& n : written) hooks_.written(n);
        });
}

void source_leases::collect() {
    if (!hooks_.collect) return;
    const std::uint64_t mark = hooks_.routed ? hooks_.routed() : 0;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (!running_[i]) continue;
        auto c = hooks_.collect(names_[i]);
        if (!c) continue;
        std::lock_guard lock(m_);
        auto& s = slots_[i];
        if (!s.claimed || s.fenced) continue;
        s.pending = std::move(c);
        s.mark = mark;
    }
}

void source_leases::reconcile() {
    const auto now = cluster::mono_clock::now();
    for (std::size_t i = 0; i < names_.size(); ++i) {
        const bool hold = leases_->may_send(static_cast<int>(i), now);
        if (hold && !running_[i]) {
            // Not before the lease thread has read (and claimed) where the source stopped.
            std::optional<source_cursor> found;
            {
                std::lock_guard lock(m_);
                auto& s = slots_[i];
                if (!s.claimed || s.fenced) continue;
                if (!s.imported) {
                    found = std::move(s.found);
                    s.found.reset();
                    s.imported = true;
                }
            }
            if (found && hooks_.import) hooks_.import(names_[i], *found);
        }
        if (hold == running_[i]) continue;
        running_[i] = hold;
        core::log(hold ? core::log_level::info : core::log_level::warning,
                  "cluster: source " + names_[i] +
                      (hold ? " is held by this replica: running it" : " is no longer held by this replica: stopped"));
        on_hold_(names_[i], hold);
    }
}

}  // namespace crisisd::sources
