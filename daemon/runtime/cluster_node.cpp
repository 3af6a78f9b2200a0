#include "runtime/cluster_node.hpp"

#include <algorithm>

#include "cluster/incident_ids.hpp"
#include "cluster/mention_stream.hpp"
#include "core/log.hpp"

namespace crisisd::runtime {

namespace {

int partition_of_id(std::uint64_t id) { return cluster::partition_of_incident(id); }

}  // namespace

cluster_node::cluster_node(std::unique_ptr<lease_keeper> keeper, const cluster::cluster_settings& settings,
                           detection& det, state::database& store, const clock& clock, executor& ex,
                           executor& blocking, intake_events& events)
    : settings_(settings),
      keeper_(std::move(keeper)),
      det_(det),
      db_(store),
      clock_(clock),
      ex_(ex),
      blocking_(blocking),
      events_(events),
      partitions_(settings.leases.partitions),
      parts_(static_cast<std::size_t>(settings.leases.partitions)) {}

cluster_node::~cluster_node() { stop(false); }

std::unique_ptr<cluster_node> cluster_node::open(const cluster::cluster_settings& settings, std::string_view mode,
                                                 detection& det, state::database& store, const clock& clock,
                                                 executor& ex, executor& blocking, intake_events& events,
                                                 std::string& error) {
    auto keeper = lease_keeper::open(settings, ex, nullptr, error);
    if (!keeper) return nullptr;
    std::unique_ptr<cluster_node> node(
        new cluster_node(std::move(keeper), settings, det, store, clock, ex, blocking, events));
    if (mode == "leases") {
        core::log_warning("cluster: replica " + settings.name +
                          " runs the lease preview: it holds partition leases and shows them in /metrics, "
                          "but it sends no page or statement");
        return node;
    }
    const auto names = cluster::names_in(settings.name_space);
    node->store_state_ = cluster::partition_store::open(node->keeper_->connection(), settings.leases.replicas, error, names.state);
    if (!node->store_state_) return nullptr;
    core::log_info("cluster: the NATS servers take messages up to " +
                   std::to_string(node->keeper_->connection().max_payload()) +
                   " bytes (max_payload): each partition's state (its incidents, outbox records, silences and "
                   "detector windows) must fit in one, or the partition sends nothing until it does");
    node->intake_ = cluster_intake::open(*node->keeper_, settings.name, names, settings.leases.partitions, det, clock, ex,
                                         events, *node, error);
    if (!node->intake_) return nullptr;
    // What the database holds of partitions from an earlier run is not this replica's to act on:
    // each partition's state is the one in JetStream, adopted with its lease.
    det.pipe->incidents().drop([](const incident::incident&) { return true; });
    // Restoring them may have planned actions (a veto wait restarted): not this replica's either.
    det.step.clear();
    for (int p = 0; p < settings.leases.partitions; ++p) {
        store.actions().forget_partition(cluster::incident_id_partition_base, p);
        store.incidents().forget_partition(cluster::incident_id_partition_base, p);
    }
    node->install_ids();
    node->keeper_->set_change_handler([n = node.get()](const cluster::lease_round& round) { n->leases_changed(round); });
    core::log_info("cluster: replica " + settings.name + " shares " + std::to_string(settings.leases.partitions) +
                   " partitions with its peers; each partition's state is kept in JetStream");
    return node;
}

void cluster_node::install_ids() {
    if (!intake_) return;
    det_.pipe->incidents().set_id_source([this](std::string_view rule, std::string_view key) {
        const int p = partition_of_key(rule, key);
        auto& run = parts_[static_cast<std::size_t>(p)];
        // Opened only by the owner, from a batch of the partition it adopted: the sequence is its.
        mark_dirty(p);
        return cluster::incident_id(run.next_sequence++, p);
    });
}

void cluster_node::engine_replaced() { install_ids(); }

int cluster_node::partition_of_key(std::string_view rule, std::string_view key) const {
    return cluster::partition_of(rule, key, partitions_);
}

void cluster_node::start() {
    if (intake_ && !state_thread_.joinable()) state_thread_ = std::thread([this] { state_loop(); });
    keeper_->start();
    if (intake_) intake_->start();
}

void cluster_node::stop_intake(std::chrono::milliseconds deadline) {
    if (intake_) intake_->stop(deadline);
}

void cluster_node::stop(bool release) {
    stop_intake(std::chrono::milliseconds(0));
    if (release && state_thread_.joinable()) {
        // A graceful stop: what changed since the last write (deliveries, above all) is written
        // before the leases go, so the next owner does not send it again.
        flush();
        std::unique_lock lock(m_);
        cv_.wait_for(lock, std::chrono::seconds(2), [this] { return writes_.empty() && !busy_; });
    }
    {
        std::lock_guard lock(m_);
        stop_ = true;
    }
    cv_.notify_all();
    if (state_thread_.joinable()) state_thread_.join();
    keeper_->stop(release);
}

std::optional<cluster_intake_status> cluster_node::intake() const {
    if (!intake_) return std::nullopt;
    return intake_->status();
}

cluster::replica_figures cluster_node::figures() const {
    const auto st = keeper_->status();
    cluster::replica_figures f;
    f.owned = st.owned;
    f.partitions = st.partitions;
    f.owned_partitions = st.owned_partitions;
    f.members = st.members;
    f.lease_remaining_seconds = st.lease_remaining_seconds;
    f.connected = st.connected;
    f.renew_failures = st.renew_failures;
    f.acquisitions = st.acquisitions;
    f.losses = st.losses;
    if (intake_) {
        const auto is = intake_->status();
        f.publish_queue = is.queued;
        f.published = is.published;
        f.publish_failures = is.publish_failures;
        f.publish_dropped = is.dropped;
        f.duplicates = is.duplicates;
        f.stream_lag = is.stream_lag;
    }
    f.takeovers = takeovers_.load();
    if (!store_state_) return f;  // the lease diagnostic keeps no state
    f.max_payload_bytes = static_cast<double>(keeper_->connection().max_payload());
    std::lock_guard lock(sizes_m_);
    std::size_t largest = 0;
    for (const auto& [p, bytes] : value_bytes_) largest = std::max(largest, bytes);
    f.state_largest_bytes = static_cast<double>(largest);
    f.state_too_large = static_cast<int>(too_large_.size());
    f.state_compacted_writes = compacted_writes_;
    return f;
}

// ---- leases -------------------------------------------------------------------------------------

void cluster_node::leases_changed(const cluster::lease_round& round) {
    if (!intake_) return;
    for (int p : round.lost) drop(p, "lost");
    for (int p : round.released) drop(p, "released");
    const auto now = cluster::mono_clock::now();
    for (int p : round.acquired) {
        const auto epoch = keeper_->leases().epoch(p, now);
        if (!epoch) continue;
        auto& run = parts_[static_cast<std::size_t>(p)];
        if (run.at != phase::idle) drop(p, "taken again");
        run.at = phase::loading;
        run.epoch = *epoch;
        {
            std::lock_guard lock(m_);
            loads_.emplace_back(p, *epoch);
        }
        cv_.notify_all();
    }
}

void cluster_node::drop(int p, const char* why) {
    auto& run = parts_[static_cast<std::size_t>(p)];
    {
        std::lock_guard lock(resume_m_);
        resume_.erase(p);
    }
    {
        std::lock_guard lock(sizes_m_);
        value_bytes_.erase(p);
        too_large_.erase(p);
    }
    if (run.at == phase::idle) return;
    auto waiting = std::move(run.waiting);
    run = partition_run{};
    for (auto& w : waiting) w.done(false);
    auto& pipe = *det_.pipe;
    const auto ids = pipe.incidents().drop([p](const incident::incident& inc) { return partition_of_id(inc.id) == p; });
    for (auto id : ids) needs_gen_.erase(id);
    db_.actions().forget_partition(cluster::incident_id_partition_base, p);
    db_.incidents().forget_partition(cluster::incident_id_partition_base, p);
    for (std::size_t i = 0; i < pipe.rules().size(); ++i) {
        const std::string& rule = pipe.rule(i).name;
        pipe.detector().forget_keys(i, [&](std::string_view key) { return partition_of_key(rule, key) == p; });
    }
    core::log_info("cluster: partition " + std::to_string(p) + " " + why + ": its " + std::to_string(ids.size()) +
                   " incident(s) and their actions left this replica");
    if (hooks_.incidents_changed && !ids.empty()) hooks_.incidents_changed(ids);
    if (hooks_.outbox_changed) hooks_.outbox_changed();
}

void cluster_node::adopt(int p, std::uint64_t epoch, partition_state st, bool fresh) {
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::loading || run.epoch != epoch ||
        !keeper_->leases().may_send(p, cluster::mono_clock::now(), epoch))
        return;   // lost or taken again meanwhile: a later load wins
    auto& pipe = *det_.pipe;
    const auto now = clock_.now();
    run.next_sequence = std::max<std::uint64_t>(1, st.next_sequence);
    run.last_stream_sequence = st.last_stream_sequence;
    run.counted = st.counted;
    run.window_from = st.window_from;
    for (auto& [rule, bytes] : st.detectors) {
        const auto i = pipe.rule_index(rule);
        if (i >= pipe.rules().size()) continue;
        pipe.detector().forget_keys(i, [&](std::string_view key) { return partition_of_key(rule, key) == p; });
        if (!pipe.detector().load_rule(i, bytes))
            core::log_warning("cluster: partition " + std::to_string(p) + ": detector state of rule " + rule +
                              " is unreadable; its keys start afresh");
    }
    for (const auto& s : st.silences) {
        if (s.until <= now) continue;
        pipe.incidents().silence(s.rule, s.key, s.until, s.who, now);
        db_.silences().save(s);
    }
    std::size_t pending = 0;
    for (const auto& r : st.records) {
        pending += r.state == state::record_state::pending ? 1 : 0;
        if (!db_.actions().adopt(r))
            core::log_error("cluster: partition " + std::to_string(p) + ": cannot adopt action " + r.key + " (" +
                            db_.actions().last_error() + ")");
    }
    std::vector<std::uint64_t> ids;
    for (const auto& inc : st.incidents) ids.push_back(inc.id);
    for (const auto& inc : st.incidents) db_.incidents().save(inc);
    // As a reload would: waits keep their ends, and one that ended while nobody owned the
    // partition fires at the next tick (not "restarted", as after a long downtime).
    pipe.incidents().restore(std::move(st.incidents), incident::engine::restore_reason::reload, now, det_.step.actions);
    run.at = phase::ready;
    {
        std::lock_guard lock(resume_m_);
        resume_[p] = resume{epoch, run.last_stream_sequence, run.window_from};
    }
    // Written back under this epoch at once: from now on a stale owner's write is refused.
    mark_dirty(p);
    if (!fresh) takeovers_.fetch_add(1);
    core::log_info("cluster: partition " + std::to_string(p) + (fresh ? " taken (no state yet)" : " taken over") + ": " +
                   std::to_string(ids.size()) + " incident(s), " + std::to_string(pending) +
                   " pending action(s), stream from " + std::to_string(run.last_stream_sequence + 1));
    if (hooks_.incidents_changed && !ids.empty()) hooks_.incidents_changed(ids);
    if (hooks_.outbox_changed) hooks_.outbox_changed();
}

// ---- state writes -------------------------------------------------------------------------------

void cluster_node::mark_dirty(int p) {
    if (p < 0 || p >= partitions_) return;
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::ready) return;
    run.dirty = true;
    if (flush_posted_) return;
    flush_posted_ = true;
    // After what is queued on the runtime's thread now: the step writer's group commit first.
    ex_.post([this] { flush(); });
}

void cluster_node::flush() {
    flush_posted_ = false;
    bool any = false;
    for (int p = 0; p < partitions_; ++p) {
        auto& run = parts_[static_cast<std::size_t>(p)];
        if (!run.dirty || run.at != phase::ready) continue;
        run.dirty = false;
        ++run.gen;
        auto fit = encode_partition_state_within(snapshot(p), store_state_->value_limit());
        if (fit.left_out != run.left_out) {
            if (fit.left_out > 0)
                core::log_warning("cluster: partition " + std::to_string(p) + ": its state is over the NATS servers' "
                                  "max_payload with every incident; " + std::to_string(fit.left_out) +
                                  " resolved incident(s) with nothing left to do are left out of it (a new owner will "
                                  "not list them)");
            run.left_out = fit.left_out;
        }
        {
            std::lock_guard lock(sizes_m_);
            value_bytes_[p] = fit.value.size();
            if (fit.left_out > 0) ++compacted_writes_;
        }
        std::lock_guard lock(m_);
        writes_[p] = write_job{run.epoch, run.gen, std::move(fit.value)};
        any = true;
    }
    if (any) cv_.notify_all();
}

partition_state cluster_node::snapshot(int p) const {
    const auto& run = parts_[static_cast<std::size_t>(p)];
    const auto& pipe = *det_.pipe;
    partition_state st;
    st.partition = p;
    st.epoch = run.epoch;
    st.next_sequence = run.next_sequence;
    st.last_stream_sequence = run.last_stream_sequence;
    st.counted = run.counted;
    st.window_from = run.window_from;
    for (const auto& inc : pipe.incidents().incidents()) {
        if (partition_of_id(inc.id) != p) continue;
        st.incidents.push_back(inc);
        for (auto& r : db_.actions().for_incident(inc.id)) st.records.push_back(std::move(r));
    }
    for (auto& s : db_.silences().running(clock_.now()))
        if (s.key.empty() || partition_of_key(s.rule, s.key) == p) st.silences.push_back(std::move(s));
    for (std::size_t i = 0; i < pipe.rules().size(); ++i) {
        const std::string& rule = pipe.rule(i).name;
        bool any = false;
        auto bytes = pipe.detector().save_keys(i, [&](std::string_view key) {
            const bool ours = partition_of_key(rule, key) == p;
            any = any || ours;
            return ours;
        });
        if (any) st.detectors.emplace(rule, std::move(bytes));
    }
    return st;
}

void cluster_node::written(int p, std::uint64_t epoch, std::uint64_t gen) {
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::ready || run.epoch != epoch) return;
    run.written = std::max(run.written, gen);
    std::vector<waiter> ready;
    std::erase_if(run.waiting, [&](waiter& w) {
        if (w.gen > run.written) return false;
        ready.push_back(std::move(w));
        return true;
    });
    std::erase_if(needs_gen_, [&](const auto& e) { return partition_of_id(e.first) == p && e.second <= run.written; });
    std::uint64_t counted = 0;
    for (const auto& w : ready) counted += w.counted;
    if (counted > 0) events_.mentions_processed(counted);
    for (auto& w : ready) w.done(true);
}

void cluster_node::refused(int p, std::uint64_t epoch, const std::string& why) {
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.epoch != epoch || run.at == phase::idle) return;
    // Someone else wrote the partition's state under our lease (a stale owner whose clock ran
    // slow, or a replica given our name): what this replica holds may be behind it. It lets go of
    // the partition and, while the lease still holds, adopts the state anew.
    core::log_error("cluster: partition " + std::to_string(p) + ": its state was written by another replica (" + why +
                    "); reading it again");
    drop(p, "re-read");
    if (!keeper_->leases().may_send(p, cluster::mono_clock::now(), epoch)) return;
    run.at = phase::loading;
    run.epoch = epoch;
    {
        std::lock_guard lock(m_);
        loads_.emplace_back(p, epoch);
    }
    cv_.notify_all();
}

void cluster_node::state_loop() {
    auto& leases = keeper_->leases();
    for (;;) {
        std::optional<std::pair<int, std::uint64_t>> load;
        std::optional<std::pair<int, write_job>> write;
        {
            std::unique_lock lock(m_);
            busy_ = false;
            cv_.notify_all();   // stop() may wait for the queue to drain
            cv_.wait(lock, [this] { return stop_ || !loads_.empty() || !writes_.empty(); });
            if (stop_) return;
            busy_ = true;
            if (!loads_.empty()) {
                load = loads_.front();
                loads_.pop_front();
            } else {
                auto it = writes_.begin();
                write.emplace(it->first, std::move(it->second));
                writes_.erase(it);
            }
        }
        if (load) {
            const auto [p, epoch] = *load;
            for (;;) {
                if (!leases.may_send(p, cluster::mono_clock::now(), epoch)) break;
                auto l = store_state_->load(p);
                if (!l.ok) {
                    core::log_warning("cluster: partition " + std::to_string(p) + ": cannot read its state (" + l.error +
                                      "); trying again");
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    std::lock_guard lock(m_);
                    if (stop_) return;
                    continue;
                }
                std::optional<partition_state> st;
                if (!l.value.empty()) {
                    st = decode_partition_state(l.value);
                    if (!st) {
                        // Acting on half a partition could post twice; holding it pages nobody.
                        core::log_error("cluster: partition " + std::to_string(p) +
                                        ": its state in JetStream is unreadable by this build; not taking it over");
                        break;
                    }
                }
                revision_[p] = l.revision;
                const bool fresh = !st;
                if (!st) {
                    st.emplace();
                    st->partition = p;
                }
                ex_.post([this, p, epoch, s = std::move(*st), fresh]() mutable { adopt(p, epoch, std::move(s), fresh); });
                break;
            }
            continue;
        }
        const int p = write->first;
        auto& job = write->second;
        bool complained = false;
        for (;;) {
            if (!leases.may_send(p, cluster::mono_clock::now(), job.epoch)) break;   // lost: the next owner writes
            const auto w = store_state_->write(p, job.value, revision_[p]);
            if (w.result != cluster::partition_store::outcome::too_large) {
                std::lock_guard lock(sizes_m_);
                if (too_large_.erase(p) > 0)
                    core::log_info("cluster: partition " + std::to_string(p) + ": its state fits again; it sends again");
            }
            if (w.result == cluster::partition_store::outcome::ok) {
                revision_[p] = w.revision;
                ex_.post([this, p, e = job.epoch, g = job.gen] { written(p, e, g); });
                break;
            }
            if (w.result == cluster::partition_store::outcome::conflict) {
                // Our own write may have been stored with its answer lost: then the entry is ours.
                auto l = store_state_->load(p);
                std::optional<partition_state> st;
                if (l.ok && !l.value.empty()) st = decode_partition_state(l.value);
                if (l.ok && st && st->epoch == job.epoch) {
                    revision_[p] = l.revision;
                    continue;
                }
                ex_.post([this, p, e = job.epoch, why = w.error] { refused(p, e, why); });
                break;
            }
            if (w.result == cluster::partition_store::outcome::too_large) {
                // The same value never fits: the partition's next change makes a new one (an
                // incident resolved, a record delivered, a batch observed), tried then. Until one
                // fits nothing of the partition is sent or acknowledged, and its lease stays here:
                // another owner could not write it either. The other partitions go on.
                std::lock_guard lock(sizes_m_);
                if (too_large_.insert(p).second) {
                    core::log_error("cluster: partition " + std::to_string(p) + ": its state (" +
                                    std::to_string(job.value.size()) + " bytes) is over the NATS servers' max_payload (" +
                                    std::to_string(keeper_->connection().max_payload()) +
                                    " bytes) even without its finished incidents; nothing of the partition is sent or "
                                    "acknowledged until it fits. Raise max_payload on every NATS server, or use more "
                                    "partitions (cluster.partitions) so each holds less");
                }
                break;
            }
            // Unreachable: try again, unless a newer state of the partition is waiting. Nothing
            // waiting for this write is sent meanwhile.
            if (!complained)
                core::log_warning("cluster: partition " + std::to_string(p) + ": cannot write its state (" + w.error +
                                  "); its sends wait, trying again");
            complained = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            std::lock_guard lock(m_);
            if (stop_) return;
            if (auto it = writes_.find(p); it != writes_.end()) {
                job = std::move(it->second);
                writes_.erase(it);
            }
        }
    }
}

// ---- the intake's partitions --------------------------------------------------------------------

std::optional<partition_owner::resume> cluster_node::resume_point(int p) const {
    std::lock_guard lock(resume_m_);
    auto it = resume_.find(p);
    if (it == resume_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::uint64_t> cluster_node::last_processed(int p, std::uint64_t epoch) const {
    const auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::ready || run.epoch != epoch) return std::nullopt;
    return run.last_stream_sequence;
}

void cluster_node::batch_processed(int p, std::uint64_t epoch, std::uint64_t last, std::uint64_t counted,
                                   std::uint64_t window_from, std::function<void(bool)> done) {
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::ready || run.epoch != epoch) {
        done(false);
        return;
    }
    run.last_stream_sequence = std::max(run.last_stream_sequence, last);
    run.counted += counted;
    run.window_from = window_from;
    {
        // A consumer made again while this epoch lasts (a fetch failed) starts where the recent
        // ids are now, not where the adopted state said.
        std::lock_guard lock(resume_m_);
        if (auto it = resume_.find(p); it != resume_.end() && it->second.epoch == epoch) {
            it->second.after = run.last_stream_sequence;
            it->second.from = run.window_from;
        }
    }
    mark_dirty(p);
    run.waiting.push_back(waiter{run.gen + 1, std::move(done), counted});
}

// ---- sends --------------------------------------------------------------------------------------

void cluster_node::action_queued(std::uint64_t id) {
    if (!intake_) return;
    const int p = partition_of_id(id);
    if (p >= partitions_) return;
    auto& run = parts_[static_cast<std::size_t>(p)];
    if (run.at != phase::ready) return;
    mark_dirty(p);
    needs_gen_[id] = run.gen + 1;
}

void cluster_node::changed(std::uint64_t id) {
    if (!intake_) return;
    const int p = partition_of_id(id);
    if (p < partitions_) mark_dirty(p);
}

void cluster_node::silenced(std::string_view rule, std::string_view key) {
    if (!intake_) return;
    if (!key.empty()) {
        mark_dirty(partition_of_key(rule, key));
        return;
    }
    for (int p = 0; p < partitions_; ++p) mark_dirty(p);
}

void cluster_node::may_deliver(const state::record& r, std::function<void(bool)> done) {
    const int p = partition_of_id(r.incident_id);
    const auto now = cluster::mono_clock::now();
    if (!intake_ || p >= partitions_ || parts_[static_cast<std::size_t>(p)].at != phase::ready ||
        !keeper_->leases().may_send(p, now, parts_[static_cast<std::size_t>(p)].epoch)) {
        decided(r.seq, r.key, false);
        done(false);
        return;
    }
    auto& run = parts_[static_cast<std::size_t>(p)];
    std::uint64_t need = 0;
    if (auto it = needs_gen_.find(r.incident_id); it != needs_gen_.end()) need = it->second;
    if (r.kind == "statement") {
        // Its attempt is marked started in the database now: written to the partition's state
        // before the post, so a next owner checks with the destination before posting again.
        mark_dirty(p);
        need = run.gen + 1;
    }
    auto go = [this, p, r, done = std::move(done)](bool ok) mutable {
        if (!ok) {
            decided(r.seq, r.key, false);
            done(false);
            return;
        }
        confirm_and_send(p, r, std::move(done));
    };
    if (need <= run.written) {
        go(true);
        return;
    }
    run.waiting.push_back(waiter{need, std::move(go), 0});
}

void cluster_node::confirm_and_send(int p, const state::record& r, std::function<void(bool)> done) {
    const auto epoch = parts_[static_cast<std::size_t>(p)].epoch;
    const bool ok = keeper_->leases().may_send(p, cluster::mono_clock::now(), epoch);
    if (!ok || r.kind != "statement") {
        decided(r.seq, r.key, ok);
        done(ok);
        return;
    }
    blocking_.post([this, seq = r.seq, key = r.key, p, epoch, done = std::move(done)] {
        const bool confirmed = keeper_->leases().confirm(p);
        ex_.post([this, seq, key, p, epoch, confirmed, done] {
            const bool holds = confirmed && keeper_->leases().may_send(p, cluster::mono_clock::now(), epoch);
            decided(seq, key, holds);
            done(holds);
        });
    });
}

void cluster_node::decided(std::int64_t seq, const std::string& key, bool ok) {
    if (!ok && fenced_logged_.insert(seq).second)
        core::log_warning("cluster: action " + key + " held: this replica does not hold its partition's lease");
}

}  // namespace crisisd::runtime
