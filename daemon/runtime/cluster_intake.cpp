#include "runtime/cluster_intake.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <future>

#include "core/log.hpp"
#include "runtime/partition_state.hpp"

namespace crisisd::runtime {

namespace json = boost::json;

std::string encode_stream_mention(const core::mention& m, bool counts) {
    json::object o;
    o["id"] = m.id;
    o["text"] = m.text;
    o["source"] = m.source;
    if (!m.network.empty()) o["network"] = m.network;
    if (!m.author.empty()) o["author"] = m.author;
    if (!m.lang.empty()) o["lang"] = m.lang;
    if (!m.url.empty()) o["url"] = m.url;
    if (m.created_at) o["created_us"] = m.created_at->time_since_epoch().count();
    if (m.html) o["html"] = true;
    if (m.author_vouched) o["vouched"] = true;
    if (counts) o["counts"] = true;
    return json::serialize(o);
}

bool decode_stream_mention(std::string_view payload, core::mention& m, bool& counts) {
    m.clear();
    counts = false;
    boost::system::error_code ec;
    auto v = json::parse(payload, ec);
    if (ec || !v.is_object()) return false;
    const auto& o = v.get_object();
    auto text = [&](const char* k, std::string& out) {
        if (auto* f = o.if_contains(k); f && f->is_string()) out.assign(f->get_string().begin(), f->get_string().end());
    };
    auto flag = [&](const char* k) {
        auto* f = o.if_contains(k);
        return f && f->is_bool() && f->get_bool();
    };
    text("id", m.id);
    text("text", m.text);
    text("source", m.source);
    text("network", m.network);
    text("author", m.author);
    text("lang", m.lang);
    text("url", m.url);
    if (auto* f = o.if_contains("created_us"); f && f->is_int64()) m.created_at = core::timestamp(core::duration(f->get_int64()));
    m.html = flag("html");
    m.author_vouched = flag("vouched");
    counts = flag("counts");
    return !m.id.empty() && !m.source.empty();
}

std::unique_ptr<cluster_intake> cluster_intake::open(lease_keeper& keeper, int partitions, detection& det,
                                                     const clock& clock, executor& ex, intake_events& events,
                                                     partition_owner& owner, std::string& error) {
    cluster::stream_settings ss;
    ss.partitions = partitions;
    auto stream = cluster::mention_stream::open(keeper.connection(), ss, error);
    if (!stream) return nullptr;
    return std::unique_ptr<cluster_intake>(
        new cluster_intake(keeper, std::move(stream), partitions, det, clock, ex, events, owner));
}

cluster_intake::cluster_intake(lease_keeper& keeper, std::unique_ptr<cluster::mention_stream> stream, int partitions,
                               detection& det, const clock& clock, executor& ex, intake_events& events,
                               partition_owner& owner)
    : keeper_(keeper),
      stream_(std::move(stream)),
      partitions_(partitions),
      det_(det),
      clock_(clock),
      ex_(ex),
      events_(events),
      owner_(owner) {}

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
    {
        std::unique_lock lock(m_);
        drain_ = deadline.count() > 0;
        if (drain_)
            cv_.wait_for(lock, deadline, [this] { return queue_.empty(); });
        stop_ = true;
    }
    cv_.notify_all();
    if (publisher_.joinable()) publisher_.join();
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
    std::lock_guard lock(m_);
    for (int p : targets) {
        if (queue_.size() >= queue_limit) {
            // NATS unreachable for long: the oldest queued mention goes, as a full drop_oldest
            // source queue would, rather than memory without bound.
            // Counted as settled at once, though a batch in flight is older: only after NATS was
            // away this long, when a source's shared point may then run a batch ahead.
            queue_.pop_front();
            dropped_.fetch_add(1);
            settled_.fetch_add(1);
        }
        ++routed_;
        queue_.push_back({p, cluster::message_id(m.source, m.id, p), encode_stream_mention(m, p == home)});
    }
    cv_.notify_one();
}

void cluster_intake::publish_loop() {
    std::vector<cluster::outgoing_mention> batch;
    bool failing = false;
    for (;;) {
        {
            std::unique_lock lock(m_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (stop_ && (!drain_ || queue_.empty())) return;
            while (!queue_.empty() && batch.size() < 512) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        // Until every message of the batch is stored: a mention the front took is not lost to
        // a leader election or a reconnect. Settled as a whole, so settled() never passes a
        // message still being retried.
        const auto taken = batch.size();
        while (!batch.empty()) {
            auto results = stream_->publish_batch(batch);
            std::vector<cluster::outgoing_mention> again;
            std::string error;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (results[i].result == cluster::publish_result::outcome::failed) {
                    error = results[i].error;
                    again.push_back(std::move(batch[i]));
                } else {
                    published_.fetch_add(1);
                }
            }
            batch = std::move(again);
            if (batch.empty()) {
                if (failing) core::log_info("cluster: publishing mentions again");
                failing = false;
                break;
            }
            publish_failures_.fetch_add(static_cast<long>(batch.size()));
            if (!failing) core::log_warning("cluster: publishing mentions failed (" + error + "); retrying");
            failing = true;
            std::unique_lock lock(m_);
            if (cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_ && !drain_; })) return;
        }
        settled_.fetch_add(taken);
        // Whoever waits in stop() for an empty queue learns of it here.
        cv_.notify_all();
    }
}

void cluster_intake::consume_loop() {
    struct bound {
        std::unique_ptr<cluster::partition_consumer> consumer;
        std::uint64_t epoch = 0;
    };
    std::map<int, bound> consumers;
    std::string error, last_error;
    auto& leases = keeper_.leases();
    while (!consumer_stop_) {
        const auto owned = leases.owned(cluster::mono_clock::now());
        // A partition no longer ours: its consumer goes, its unprocessed messages go to the next owner.
        std::erase_if(consumers, [&](const auto& c) {
            return std::find(owned.begin(), owned.end(), c.first) == owned.end();
        });
        std::vector<std::pair<int, partition_owner::resume>> ready;
        for (int p : owned)
            if (auto r = owner_.resume_point(p)) ready.emplace_back(p, *r);
        if (ready.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        // Short waits: one thread serves every owned partition in turn.
        const auto wait = std::chrono::milliseconds(std::max<long>(5, 100 / static_cast<long>(ready.size())));
        for (const auto& [p, at] : ready) {
            if (consumer_stop_) break;
            if (!leases.may_send(p, cluster::mono_clock::now(), at.epoch)) continue;
            auto& c = consumers[p];
            if (!c.consumer || c.epoch != at.epoch) {
                // Adopted under this epoch: a consumer made anew, from the state's sequence on.
                c.consumer.reset();
                c.consumer = cluster::partition_consumer::open(keeper_.connection(), stream_->settings(), p, error, at.after);
                if (!c.consumer) {
                    if (error != last_error) core::log_warning("cluster: partition " + std::to_string(p) + ": " + error);
                    last_error = error;
                    consumers.erase(p);
                    std::this_thread::sleep_for(wait);
                    continue;
                }
                c.epoch = at.epoch;
            }
            // Shared with the executor's job, which may outlive this loop at shutdown.
            auto batch = std::make_shared<std::vector<cluster::stream_message>>();
            if (!c.consumer->fetch(*batch, 256, wait, error)) {
                if (error != last_error) core::log_warning("cluster: partition " + std::to_string(p) + ": " + error);
                last_error = error;
                // A fetch can fail at once (NATS reconnecting): no spinning until the lease lapses.
                consumers.erase(p);
                std::this_thread::sleep_for(wait);
                continue;
            }
            if (batch->empty()) continue;
            // Processed on the runtime's thread; the promise is kept once the partition's state
            // naming the batch is written (after the step writer's commit, which
            // frames_arriving() posted ahead of the state write).
            auto processed = std::make_shared<std::promise<bool>>();
            auto result = processed->get_future();
            ex_.post([this, p = p, e = at.epoch, batch, processed] {
                process_batch(p, e, *batch, [processed](bool ok) { processed->set_value(ok); });
            });
            // The executor may be stopping (shutdown): never wait for it forever.
            while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
                if (consumer_stop_) return;
            if (result.get() && leases.may_send(p, cluster::mono_clock::now(), at.epoch)) c.consumer->ack(batch->back());
        }
    }
}

void cluster_intake::process_batch(int p, std::uint64_t epoch, const std::vector<cluster::stream_message>& batch,
                                   std::function<void(bool)> done) {
    const auto stored = owner_.last_processed(p, epoch);
    if (!stored || !keeper_.leases().may_send(p, cluster::mono_clock::now(), epoch)) {
        done(false);
        return;
    }
    events_.frames_arriving();
    const auto filter = [this, p](std::size_t rule, std::string_view key) {
        return cluster::partition_of(det_.pipe->rule(rule).name, key, partitions_) == p;
    };
    std::uint64_t counted = 0;
    std::uint64_t last = *stored;
    const std::uint64_t processed_before = last;
    for (const auto& msg : batch) {
        // Processed already, by this owner or a predecessor (the state says so): skipped.
        if (already_processed(last, msg.sequence)) continue;
        last = msg.sequence;
        bool counts = false;
        if (!decode_stream_mention(msg.payload, decoded_, counts)) {
            core::log_warning("cluster: partition " + std::to_string(p) + ": message " + std::to_string(msg.sequence) +
                              " is not a mention; skipped");
            continue;
        }
        det_.pipe->process(decoded_, clock_.now(), det_.step, filter);
        consumed_.fetch_add(1);
        if (counts) ++counted;
        if (!det_.step.empty()) events_.stepped(clock_.monotonic());
    }
    if (last == processed_before) {
        done(true);   // all seen before: nothing to write, the acknowledgement may go
        return;
    }
    owner_.batch_processed(p, epoch, last, counted, std::move(done));
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
    return s;
}

}  // namespace crisisd::runtime
