#include "runtime/cluster_intake.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <functional>
#include <future>
#include <random>
#include <utility>

#include "core/log.hpp"
#include "runtime/partition_state.hpp"
#include "text/normalize.hpp"

namespace crisisd::runtime {

namespace {
constexpr std::size_t npos = static_cast<std::size_t>(-1);
}  // namespace

recent_mentions::recent_mentions(std::size_t keep) : keep_(keep), ring_(keep + keep / 2 + 1) {
    // At most half full, so probe runs stay short.
    index_.assign(std::bit_ceil(ring_.size() * 2), 0);
    mask_ = index_.size() - 1;
}

std::size_t recent_mentions::find(std::uint64_t hash) const {
    for (std::size_t cell = hash & mask_;; cell = (cell + 1) & mask_) {
        const std::uint32_t entry = index_[cell];
        if (entry == 0) return npos;
        if (ring_[entry - 1] == hash) return cell;
    }
}

void recent_mentions::erase_cell(std::size_t cell) {
    // Backward-shift deletion (as ingest::dedup_window): no tombstones pile up.
    std::size_t hole = cell;
    for (std::size_t next = (hole + 1) & mask_; index_[next] != 0; next = (next + 1) & mask_) {
        const std::size_t home = ring_[index_[next] - 1] & mask_;
        const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
        if (stays) continue;
        index_[hole] = index_[next];
        hole = next;
    }
    index_[hole] = 0;
}

bool recent_mentions::first_time(std::string_view source, std::string_view id) {
    key_.assign(source).push_back('\0');
    key_.append(id);
    // Spread by splitmix64's finalizer: the index uses the low bits.
    std::uint64_t h = std::hash<std::string_view>{}(key_);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    if (find(h) != npos) return false;
    if (size_ == ring_.size()) {
        // The slot about to be overwritten holds the oldest hash: forget it first.
        const auto entry = static_cast<std::uint32_t>(next_ + 1);
        std::size_t cell = ring_[next_] & mask_;
        while (index_[cell] != entry) cell = (cell + 1) & mask_;
        erase_cell(cell);
        --size_;
    }
    ring_[next_] = h;
    std::size_t cell = h & mask_;
    while (index_[cell] != 0) cell = (cell + 1) & mask_;
    index_[cell] = static_cast<std::uint32_t>(next_ + 1);
    next_ = (next_ + 1) % ring_.size();
    ++size_;
    return true;
}

void recent_mentions::message_done(std::uint64_t seq, std::size_t entries) {
    messages_.emplace_back(seq, entries);
    entries_ += entries;
    // The oldest message goes once the newer ones hold `keep` entries without it.
    while (messages_.size() > 1 && entries_ - messages_.front().second >= keep_) {
        entries_ -= messages_.front().second;
        messages_.pop_front();
    }
}

std::unique_ptr<cluster_intake> cluster_intake::open(lease_keeper& keeper, std::string_view front,
                                                     const cluster::nats_names& names, int partitions, detection& det,
                                                     const clock& clock, executor& ex, intake_events& events,
                                                     partition_owner& owner, std::string& error) {
    cluster::stream_settings ss;
    ss.name = names.stream;
    ss.subject_prefix = names.mention_subjects;
    ss.partitions = partitions;
    auto stream = cluster::mention_stream::open(keeper.connection(), ss, error);
    if (!stream) return nullptr;
    // The front's name in message ids must differ between runs (a restarted replica numbers its
    // batches from 0 again, and JetStream would take them for the last run's).
    std::random_device rd;
    char nonce[17];
    std::snprintf(nonce, sizeof nonce, "%08x%08x", rd(), rd());
    return std::unique_ptr<cluster_intake>(new cluster_intake(keeper, std::move(stream), std::string(front) + "." + nonce,
                                                              partitions, det, clock, ex, events, owner));
}

cluster_intake::cluster_intake(lease_keeper& keeper, std::unique_ptr<cluster::mention_stream> stream, std::string front,
                               int partitions, detection& det, const clock& clock, executor& ex, intake_events& events,
                               partition_owner& owner)
    : keeper_(keeper),
      stream_(std::move(stream)),
      partitions_(partitions),
      det_(det),
      clock_(clock),
      ex_(ex),
      events_(events),
      owner_(owner),
      front_(std::move(front)),
      lag_(new std::atomic<std::uint64_t>[static_cast<std::size_t>(partitions)]) {
    for (int p = 0; p < partitions; ++p) lag_[static_cast<std::size_t>(p)] = 0;
}

cluster_intake::~cluster_intake() { stop(std::chrono::milliseconds(0)); }

void cluster_intake::start() {
    if (publisher_.joinable()) return;
    publisher_ = std::thread([this] { publish_loop(); });
    consumer_ = std::thread([this] { consume_loop(); });
}

void cluster_intake::stop(std::chrono::milliseconds deadline) {
    // The consumer first: its batches wait for the executor, which is the caller's thread.
    consumer_stop_ = true;
    if (consumer_.joinable()) consumer_.join();
    std::function<void()> wake;
    {
        std::unique_lock lock(m_);
        drain_ = deadline.count() > 0;
        if (drain_)
            cv_.wait_for(lock, deadline, [this] { return queue_.empty(); });
        stop_ = true;
        wake = room_changed();
    }
    cv_.notify_all();
    room_.notify_all();
    if (wake) wake();
    if (publisher_.joinable()) publisher_.join();
}

std::function<void()> cluster_intake::room_changed() {
    // Room for one more mention: its entries go to at most every partition once.
    const bool full = queue_.size() + static_cast<std::size_t>(partitions_) > queue_limit && !failing_ && !stop_;
    full_.store(full, std::memory_order_release);
    if (full || !room_wake_) return {};
    return std::exchange(room_wake_, nullptr);
}

void cluster_intake::notify_when_room(std::function<void()> wake) {
    {
        std::lock_guard lock(m_);
        if (full_.load(std::memory_order_relaxed)) {
            room_wake_ = std::move(wake);
            return;
        }
    }
    wake();
}

int cluster_intake::partition_of_incident(std::string_view rule, std::string_view key) const {
    return cluster::partition_of(rule, key, partitions_);
}

void cluster_intake::route(const core::mention& m, clock::monotonic_time) {
    const int home = cluster::partition_of(m.source, m.id, partitions_);
    std::vector<int> targets{home};
    det_.pipe->route(m, pairs_);
    for (const auto& [rule, key] : pairs_) {
        const int p = cluster::partition_of(det_.pipe->rule(rule).name, key, partitions_);
        if (std::find(targets.begin(), targets.end(), p) == targets.end()) targets.push_back(p);
    }
    auto entry = cluster::encode_batch_entry(m, true);
    std::unique_lock lock(m_);
    if (queue_.size() + targets.size() > queue_limit && !failing_ && !stop_) {
        // Fronts taking mentions faster than the stream stores them: this thread waits for the
        // publisher's next round, which slows intake (and HTTP ingest's answers) to what the
        // cluster stores instead of dropping what was accepted. Not while publishing fails (NATS
        // unreachable): then the oldest entries go below, or the whole replica would stall.
        room_.wait_for(lock, std::chrono::seconds(1), [&] {
            return queue_.size() + targets.size() <= queue_limit || failing_ || stop_;
        });
    }
    const bool was_empty = queue_.empty();
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (queue_.size() >= queue_limit) {
            // NATS unreachable for long (or the wait above ran out): the oldest queued entry
            // goes, as a full drop_oldest source queue would, rather than memory without bound.
            // Counted as settled at once, though a batch in flight is older: only after NATS was
            // away this long, when a source's shared point may then run a batch ahead.
            queue_.pop_front();
            dropped_.fetch_add(1);
            settled_.fetch_add(1);
        }
        ++routed_;
        if (i + 1 < targets.size()) {
            auto copy = entry;
            cluster::set_entry_counts(copy, targets[i] == home);
            queue_.push_back({targets[i], std::move(copy)});
        } else {
            cluster::set_entry_counts(entry, targets[i] == home);
            queue_.push_back({targets[i], std::move(entry)});
        }
    }
    auto wake = room_changed();  // full now, most likely; a wake handed back runs outside m_ all the same
    // The publisher waits for the first entry, or lingers for a round to fill: wake it only then.
    if (was_empty || queue_.size() >= fill_entries) cv_.notify_one();
    lock.unlock();
    if (wake) wake();
}

void cluster_intake::publish_loop() {
    std::vector<cluster::batch_entry> taken;
    std::vector<cluster::outgoing_mention> batch;   // the round's messages, until each is stored
    std::vector<std::size_t> entries;               // batch[i]'s entries
    bool failing = false;
    std::function<void()> wake;  // room_changed()'s, called outside m_
    const std::size_t max_bytes = std::min(message_bytes, stream_->max_payload());
    for (;;) {
        taken.clear();
        {
            std::unique_lock lock(m_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (stop_ && (!drain_ || queue_.empty())) return;
            // A few milliseconds for the round to fill: fewer, larger messages.
            if (!stop_ && queue_.size() < fill_entries)
                cv_.wait_for(lock, linger, [this] { return stop_ || queue_.size() >= fill_entries; });
            while (!queue_.empty() && taken.size() < round_entries) {
                taken.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            wake = room_changed();
        }
        const auto round_size = taken.size();
        room_.notify_all();
        if (wake) std::exchange(wake, nullptr)();
        std::size_t too_large = 0;
        auto packed = cluster::pack_batches(taken, max_bytes, too_large);
        if (too_large > 0) {
            dropped_.fetch_add(static_cast<long>(too_large));
            core::log_error("cluster: " + std::to_string(too_large) + " mention(s) larger than a stream message (" +
                            std::to_string(max_bytes) + " bytes) dropped");
        }
        batch.clear();
        entries.clear();
        for (auto& b : packed) {
            batch.push_back({b.partition, cluster::batch_id(front_, next_batch_++), std::move(b.payload)});
            entries.push_back(b.mentions);
        }
        // Until every message of the round is stored: a mention the front took is not lost to
        // a leader election or a reconnect. The same id and bytes each time, so a message stored
        // with its acknowledgement lost is dropped as a duplicate. Settled as a whole, so settled()
        // never passes a message still being retried.
        while (!batch.empty()) {
            auto results = stream_->publish_batch(batch);
            std::vector<cluster::outgoing_mention> again;
            std::vector<std::size_t> again_entries;
            std::string error;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (results[i].result == cluster::publish_result::outcome::failed) {
                    error = results[i].error;
                    again.push_back(std::move(batch[i]));
                    again_entries.push_back(entries[i]);
                } else {
                    published_.fetch_add(static_cast<long>(entries[i]));
                }
            }
            batch = std::move(again);
            entries = std::move(again_entries);
            if (batch.empty()) {
                if (failing) core::log_info("cluster: publishing mentions again");
                failing = false;
                std::unique_lock lock(m_);
                failing_ = false;
                wake = room_changed();
                lock.unlock();
                if (wake) std::exchange(wake, nullptr)();
                break;
            }
            long failed = 0;
            for (auto n : entries) failed += static_cast<long>(n);
            publish_failures_.fetch_add(failed);
            if (!failing) core::log_warning("cluster: publishing mentions failed (" + error + "); retrying");
            failing = true;
            std::unique_lock lock(m_);
            failing_ = true;
            wake = room_changed();
            room_.notify_all();
            if (wake) {
                lock.unlock();
                std::exchange(wake, nullptr)();
                lock.lock();
            }
            if (cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_ && !drain_; })) return;
        }
        settled_.fetch_add(round_size);
        // Whoever waits in stop() for an empty queue learns of it here.
        cv_.notify_all();
    }
}

void cluster_intake::consume_loop() {
    // One thread per owned partition, each blocked in its own fetch: a mention for a quiet
    // partition is taken up as it arrives instead of when one thread's round reaches it, and one
    // partition's state write does not hold up the others' batches.
    struct worker {
        std::uint64_t epoch = 0;
        std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
        std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
        std::thread thread;
    };
    std::map<int, worker> workers;
    auto& leases = keeper_.leases();
    while (!consumer_stop_) {
        const auto owned = leases.owned(cluster::mono_clock::now());
        for (auto it = workers.begin(); it != workers.end();) {
            auto& w = it->second;
            if (*w.done) {
                w.thread.join();
                it = workers.erase(it);
                continue;
            }
            const auto at = owner_.resume_point(it->first);
            if (std::find(owned.begin(), owned.end(), it->first) == owned.end() || !at || at->epoch != w.epoch)
                *w.stop = true;   // lost or adopted again: it ends after its fetch, the next starts then
            ++it;
        }
        for (int p : owned) {
            if (workers.count(p)) continue;
            const auto at = owner_.resume_point(p);
            if (!at) continue;
            auto& w = workers[p];
            w.epoch = at->epoch;
            w.thread = std::thread([this, p, e = at->epoch, stop = w.stop, done = w.done] {
                consume_partition(p, e, *stop);
                *done = true;
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& [p, w] : workers) *w.stop = true;
    for (auto& [p, w] : workers) w.thread.join();
}

void cluster_intake::consume_partition(int p, std::uint64_t epoch, const std::atomic<bool>& stop) {
    auto& lag = lag_[static_cast<std::size_t>(p)];
    // Whichever way this consumer ends, it no longer tells how far this replica is behind.
    struct lag_reset {
        std::atomic<std::uint64_t>& lag;
        ~lag_reset() { lag = 0; }
    } reset_at_end{lag};
    auto& leases = keeper_.leases();
    std::unique_ptr<cluster::partition_consumer> consumer;
    std::uint64_t made = 0;
    std::string error, last_error;
    const auto wait = std::chrono::milliseconds(200);
    auto backoff = wait;
    auto complain = [&] {
        if (error != last_error) core::log_warning("cluster: partition " + std::to_string(p) + ": " + error);
        last_error = error;
    };
    while (!stop && !consumer_stop_) {
        if (!leases.may_send(p, cluster::mono_clock::now(), epoch)) return;
        const auto at = owner_.resume_point(p);
        if (!at || at->epoch != epoch) return;
        if (!consumer) {
            // Made anew from where the state says: the recent ids' messages first (read back,
            // not processed), then what follows the last processed one.
            const std::uint64_t start = at->from > 0 && at->from <= at->after ? at->from : at->after + 1;
            consumer = cluster::partition_consumer::open(keeper_.connection(), stream_->settings(), p, error, start - 1);
            if (!consumer) {
                complain();
                // Backing off while JetStream's API does not answer (a node died, a leader is
                // being elected): every owned partition's thread retries, and requests piling
                // up kept it busy for longer.
                std::this_thread::sleep_for(backoff);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(3200));
                continue;
            }
            backoff = wait;
            made = made_.fetch_add(1) + 1;
        }
        // Shared with the executor's job, which may outlive this thread at shutdown. One message
        // waited for, then as many as were stored behind it: a fetch of more than are there waits
        // for all of them (or the whole wait), and a no-wait fetch that finds none waits too.
        auto batch = std::make_shared<std::vector<cluster::stream_message>>();
        bool fetched = consumer->fetch(*batch, 1, wait, error);
        if (fetched && !batch->empty() && batch->back().pending > 0)
            fetched = consumer->fetch(*batch, static_cast<int>(std::min<std::uint64_t>(batch->back().pending, 63)), wait, error);
        if (!fetched) {
            complain();
            // A fetch can fail at once (NATS reconnecting): no spinning until the lease lapses. A
            // consumer made again starts after what was processed.
            consumer.reset();
            std::this_thread::sleep_for(wait);
            continue;
        }
        lag = batch->empty() ? 0 : batch->back().pending;
        if (batch->empty()) continue;
        // Processed on the runtime's thread; the promise is kept once the partition's state
        // naming the batch is written (after the step writer's commit, which
        // frames_arriving() posted ahead of the state write).
        auto processed = std::make_shared<std::promise<bool>>();
        auto result = processed->get_future();
        ex_.post([this, p, epoch, made, batch, processed] {
            process_batch(p, epoch, made, *batch, [processed](bool ok) { processed->set_value(ok); });
        });
        // The executor may be stopping (shutdown): never wait for it forever.
        while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
            if (consumer_stop_) return;
        if (result.get() && leases.may_send(p, cluster::mono_clock::now(), epoch)) consumer->ack(batch->back());
    }
}

void cluster_intake::process_batch(int p, std::uint64_t epoch, std::uint64_t made,
                                   const std::vector<cluster::stream_message>& batch, std::function<void(bool)> done) {
    const auto stored = owner_.last_processed(p, epoch);
    if (!stored || !keeper_.leases().may_send(p, cluster::mono_clock::now(), epoch)) {
        // The window of this epoch is of no use any more; a later epoch's (the partition adopted
        // again while this batch waited) stays.
        if (auto it = windows_.find(p); it != windows_.end() && it->second->epoch == epoch) windows_.erase(it);
        done(false);
        return;
    }
    auto& w = windows_[p];
    if (!w || w->epoch != epoch || w->made != made) {
        // A consumer made anew starts with the messages holding the recent ids: read them again.
        w = std::make_unique<window>();
        w->epoch = epoch;
        w->made = made;
    }
    events_.frames_arriving();
    const auto filter = [this, p](std::size_t rule, std::string_view key) {
        return cluster::partition_of(det_.pipe->rule(rule).name, key, partitions_) == p;
    };
    std::uint64_t counted = 0;
    std::uint64_t last = *stored;
    const std::uint64_t processed_before = last;
    for (const auto& msg : batch) {
        // Processed already, by this owner or a predecessor (the state says so): only its ids are
        // read, into the window.
        const bool replay = already_processed(last, msg.sequence);
        const auto entries = cluster::count_batch(msg.payload);
        if (!entries) {
            // Not from a front of this build: nothing of it is acted on, and it is not read again.
            if (!replay) {
                core::log_warning("cluster: partition " + std::to_string(p) + ": message " +
                                  std::to_string(msg.sequence) + " is not a batch of mentions; skipped");
                last = msg.sequence;
            }
            continue;
        }
        cluster::batch_reader reader(msg.payload);
        bool counts = false;
        while (reader.next(decoded_, counts)) {
            if (!w->ids.first_time(decoded_.source, decoded_.id)) {
                if (!replay) duplicates_.fetch_add(1);
                continue;
            }
            if (replay) continue;
            // The front's sources took only UTF-8, and what the pipeline keeps as evidence is shown
            // and written as JSON: bytes from the stream are held to the same.
            const auto& d = decoded_;
            if (!(text::is_valid_utf8(d.text) && text::is_valid_utf8(d.id) && text::is_valid_utf8(d.source) &&
                  text::is_valid_utf8(d.author) && text::is_valid_utf8(d.network) && text::is_valid_utf8(d.lang) &&
                  text::is_valid_utf8(d.url))) {
                core::log_warning("cluster: partition " + std::to_string(p) + ": message " +
                                  std::to_string(msg.sequence) + " holds a mention that is not UTF-8; skipped");
                continue;
            }
            det_.pipe->process(decoded_, clock_.now(), det_.step, filter);
            consumed_.fetch_add(1);
            if (counts) ++counted;
            if (!det_.step.empty()) events_.stepped(clock_.monotonic());
        }
        w->ids.message_done(msg.sequence, *entries);
        if (!replay) last = msg.sequence;
    }
    if (last == processed_before) {
        done(true);   // all seen before: nothing to write, the acknowledgement may go
        return;
    }
    owner_.batch_processed(p, epoch, last, counted, w->ids.from(), std::move(done));
}

cluster_intake_status cluster_intake::status() const {
    cluster_intake_status s;
    {
        std::lock_guard lock(m_);
        s.queued = static_cast<long>(queue_.size());
    }
    s.published = published_.load();
    s.publish_failures = publish_failures_.load();
    s.dropped = dropped_.load();
    s.consumed = consumed_.load();
    s.duplicates = duplicates_.load();
    for (int p = 0; p < partitions_; ++p) s.stream_lag.push_back(lag_[static_cast<std::size_t>(p)].load());
    return s;
}

}  // namespace crisisd::runtime
