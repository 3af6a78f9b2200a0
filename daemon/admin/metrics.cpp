#include "admin/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

namespace crisisd::admin {

namespace pm = prometheus;

struct metrics::impl {
    std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
    pm::Family<pm::Counter>& received =
        pm::BuildCounter().Name("crisisd_mentions_received_total").Help("Messages received from a source").Register(*registry);
    pm::Family<pm::Counter>& processed = pm::BuildCounter()
                                             .Name("crisisd_mentions_processed_total")
                                             .Help("Mentions that went through the whole pipeline")
                                             .Register(*registry);
    pm::Family<pm::Counter>& rejected = pm::BuildCounter()
                                            .Name("crisisd_mentions_rejected_total")
                                            .Help("Messages that could not be turned into mentions, by reason")
                                            .Register(*registry);
    pm::Family<pm::Gauge>& connected = pm::BuildGauge()
                                           .Name("crisisd_source_connected")
                                           .Help("1 while the source's stream is connected")
                                           .Register(*registry);
    pm::Family<pm::Counter>& reconnects = pm::BuildCounter()
                                              .Name("crisisd_source_reconnects_total")
                                              .Help("Reconnection attempts per source")
                                              .Register(*registry);
    pm::Family<pm::Counter>& opened =
        pm::BuildCounter().Name("crisisd_incidents_opened_total").Help("Incidents opened, by rule").Register(*registry);
    pm::Family<pm::Counter>& resolved = pm::BuildCounter()
                                            .Name("crisisd_incidents_resolved_total")
                                            .Help("Incidents resolved, by rule")
                                            .Register(*registry);
    pm::Family<pm::Gauge>& open_now =
        pm::BuildGauge().Name("crisisd_incidents_open").Help("Incidents currently open").Register(*registry);
    pm::Family<pm::Counter>& actions = pm::BuildCounter()
                                           .Name("crisisd_actions_total")
                                           .Help("Delivery attempts by channel and outcome (sent, retry, failed, dead)")
                                           .Register(*registry);
    pm::Family<pm::Histogram>& detection = pm::BuildHistogram()
                                               .Name("crisisd_detection_latency_seconds")
                                               .Help("From the arrival of the mention that fired a rule to the incident opening")
                                               .Register(*registry);
    pm::Family<pm::Histogram>& delivery = pm::BuildHistogram()
                                              .Name("crisisd_delivery_latency_seconds")
                                              .Help("From the incident opening (or the step's due time) to the channel accepting")
                                              .Register(*registry);
    pm::Family<pm::Gauge>& outbox_pending =
        pm::BuildGauge().Name("crisisd_outbox_pending").Help("Actions written but not yet delivered").Register(*registry);
    pm::Family<pm::Gauge>& outbox_dead = pm::BuildGauge()
                                             .Name("crisisd_outbox_dead_letters")
                                             .Help("Actions given up on; each needs a person's attention")
                                             .Register(*registry);
    pm::Family<pm::Counter>& outbox_write_errors =
        pm::BuildCounter()
            .Name("crisisd_outbox_write_errors_total")
            .Help("Transactions of actions the state database refused; the actions wait in memory until it takes them")
            .Register(*registry);
    pm::Family<pm::Gauge>& keys =
        pm::BuildGauge().Name("crisisd_detector_live_keys").Help("Detector keys with live state").Register(*registry);
    pm::Family<pm::Counter>& evicted = pm::BuildCounter()
                                           .Name("crisisd_detector_evicted_keys_total")
                                           .Help("Detector keys dropped because a rule reached max_keys")
                                           .Register(*registry);
    pm::Family<pm::Counter>& incidents_suppressed =
        pm::BuildCounter()
            .Name("crisisd_incidents_suppressed_total")
            .Help("Firing keys that opened no incident: reason max_incidents_per_hour (the rule's cap)")
            .Register(*registry);
    pm::Counter& clock_steps = pm::BuildCounter()
                                   .Name("crisisd_clock_steps_total")
                                   .Help("Times the wall clock was set and crisisd moved windows, waits and silences with it")
                                   .Register(*registry)
                                   .Add({});
    pm::Family<pm::Counter>& duplicate_actions =
        pm::BuildCounter()
            .Name("crisisd_outbox_duplicate_actions_total")
            .Help("Actions refused because the outbox already held their key: state lost or a bug; each is a dead letter")
            .Register(*registry);
    pm::Family<pm::Counter>& admin_refused = pm::BuildCounter()
                                                 .Name("crisisd_admin_refused_total")
                                                 .Help("Admin API requests refused: unauthenticated, forbidden, host")
                                                 .Register(*registry);
    pm::Family<pm::Gauge>& admin_tokens =
        pm::BuildGauge().Name("crisisd_admin_tokens").Help("Tokens loaded from the tokens file").Register(*registry);
    pm::Family<pm::Counter>& admin_tokens_errors =
        pm::BuildCounter()
            .Name("crisisd_admin_tokens_file_errors_total")
            .Help("Loads of the tokens file that failed (unreadable or invalid); the tokens loaded before stay")
            .Register(*registry);
    pm::Family<pm::Gauge>& event_streams =
        pm::BuildGauge().Name("crisisd_admin_event_streams").Help("Console event streams open").Register(*registry);
    pm::Family<pm::Counter>& event_streams_refused =
        pm::BuildCounter()
            .Name("crisisd_admin_event_streams_refused_total")
            .Help("Console event streams refused because admin.max_event_streams were open")
            .Register(*registry);
    pm::Family<pm::Counter>& event_streams_behind =
        pm::BuildCounter()
            .Name("crisisd_admin_event_stream_resyncs_total")
            .Help("Times a console fell admin.event_stream_buffer behind and got the live list again instead of the changes")
            .Register(*registry);
    pm::Family<pm::Gauge>& build_info =
        pm::BuildGauge().Name("crisisd_build_info").Help("Always 1; labels carry the version").Register(*registry);

    pm::Counter& processed_total = processed.Add({});
    pm::Histogram& detection_hist = detection.Add(
        {}, pm::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    pm::Gauge& pending_gauge = outbox_pending.Add({});
    pm::Gauge& dead_gauge = outbox_dead.Add({});
    pm::Counter& write_errors_total = outbox_write_errors.Add({});
    pm::Gauge& open_gauge = open_now.Add({});
    pm::Gauge& keys_gauge = keys.Add({});
    pm::Counter& evicted_total = evicted.Add({});
    pm::Gauge& admin_tokens_gauge = admin_tokens.Add({});
    pm::Counter& admin_tokens_errors_total = admin_tokens_errors.Add({});
    pm::Gauge& event_streams_gauge = event_streams.Add({});
    pm::Counter& event_streams_refused_total = event_streams_refused.Add({});
    pm::Counter& event_streams_behind_total = event_streams_behind.Add({});

    pm::Family<pm::Counter>& source_frames = pm::BuildCounter()
                                                 .Name("crisisd_source_frames_total")
                                                 .Help("Valid frames that were not new mentions, by kind (ignored, deleted, duplicate)")
                                                 .Register(*registry);
    pm::Family<pm::Gauge>& message_age = pm::BuildGauge()
                                             .Name("crisisd_source_last_message_age_seconds")
                                             .Help("Seconds since the source last delivered a message")
                                             .Register(*registry);

    pm::Family<pm::Counter>& dropped = pm::BuildCounter()
                                           .Name("crisisd_mentions_dropped_total")
                                           .Help("Messages dropped unprocessed because a source's queue was full (overflow: drop_oldest)")
                                           .Register(*registry);

    std::mutex m;
    // Meters never move or go away (map nodes are stable), so sources may keep references.
    std::map<std::string, source_meter, std::less<>> meters;  // guarded by m


    impl() { build_info.Add({{"version", "0.1.0"}}).Set(1); }

    // Issue 15: present only in cluster mode (a single process has no leases to show).
    struct cluster_series {
        pm::Gauge& owned;
        pm::Family<pm::Gauge>& by_partition;
        pm::Gauge& members;
        pm::Gauge& remaining;
        pm::Gauge& connected;
        pm::Counter& renew_failures;
        pm::Counter& acquisitions;
        pm::Counter& losses;
        pm::Gauge& publish_queue;
        pm::Counter& published;
        pm::Counter& publish_failures;
        pm::Counter& publish_dropped;
        pm::Gauge& max_payload;
        pm::Gauge& state_largest;
        pm::Gauge& state_too_large;
        pm::Counter& state_compacted;
        pm::Counter& duplicates;
        pm::Family<pm::Gauge>& stream_lag;
        pm::Counter& takeovers;
    };
    std::unique_ptr<cluster_series> cluster;
    // Cluster mode with pull sources only: which of them this replica runs.
    pm::Family<pm::Gauge>* source_held = nullptr;
    pm::Family<pm::Counter>* source_cursor_writes = nullptr;
    cluster_series& cluster_of() {
        if (!cluster) {
            auto gauge = [&](const char* name, const char* help) -> pm::Gauge& {
                return pm::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
            };
            auto counter = [&](const char* name, const char* help) -> pm::Counter& {
                return pm::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
            };
            cluster.reset(new cluster_series{
                gauge("crisisd_cluster_partitions_owned", "Partitions whose lease this replica holds and may act on"),
                pm::BuildGauge()
                    .Name("crisisd_cluster_partition_owned")
                    .Help("1 for each partition whose lease this replica holds and may act on, 0 for the others")
                    .Register(*registry),
                gauge("crisisd_cluster_members", "Live replicas seen in the last lease round"),
                gauge("crisisd_cluster_lease_remaining_seconds",
                      "Seconds until the soonest deadline of the leases held: how long this replica could still act "
                      "if NATS stopped answering now"),
                gauge("crisisd_cluster_nats_connected", "1 while the NATS client has a live connection"),
                counter("crisisd_cluster_lease_renew_failures_total", "Lease renewals that got no answer from NATS"),
                counter("crisisd_cluster_lease_acquisitions_total",
                        "Partition leases taken: first takes, takeovers of a dead replica's partitions, take-backs"),
                counter("crisisd_cluster_leases_lost_total",
                        "Partition leases lost: taken over by another replica, or not renewed before the deadline"),
                gauge("crisisd_cluster_publish_queue", "Mention messages waiting to be published to the mention stream"),
                counter("crisisd_cluster_published_total",
                        "Mention messages the mention stream stored (or already held: a duplicate)"),
                counter("crisisd_cluster_publish_failures_total", "Mention messages whose publish failed and was retried"),
                counter("crisisd_cluster_publish_dropped_total",
                        "Mention messages lost to a full publish queue while NATS did not take them"),
                gauge("crisisd_cluster_max_payload_bytes",
                      "The NATS servers' max_payload: the largest partition state they take"),
                gauge("crisisd_cluster_state_largest_bytes",
                      "The largest state value last made for a partition this replica owns"),
                gauge("crisisd_cluster_state_too_large",
                      "Owned partitions whose state is over max_payload: they send and acknowledge nothing until it fits"),
                counter("crisisd_cluster_state_compacted_writes_total",
                        "Partition state values that left finished resolved incidents out to fit max_payload"),
                counter("crisisd_cluster_duplicate_mentions_total",
                        "Mentions a partition's owner dropped because it had processed the same source and id before"),
                pm::BuildGauge()
                    .Name("crisisd_cluster_stream_lag")
                    .Help("Mention messages stored in a partition's stream behind the last one this replica fetched "
                          "(0 for partitions it does not consume)")
                    .Register(*registry),
                counter("crisisd_cluster_takeovers_total",
                        "Partitions this replica took up with the state an earlier owner left (a failover, a move or a "
                        "restart), not counting first takes"),
            });
        }
        return *cluster;
    }
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

void source_meter::received() { received_->Increment(); }
void source_meter::received(std::size_t frames) {
    if (frames != 0) received_->Increment(static_cast<double>(frames));
}
void source_meter::dropped() { dropped_->Increment(); }

source_meter& metrics::source(std::string_view name) {
    std::lock_guard lock(impl_->m);
    auto it = impl_->meters.find(name);
    if (it != impl_->meters.end()) {
        it->second.removed_ = false;
        return it->second;
    }
    auto& meter = impl_->meters.try_emplace(std::string(name)).first->second;
    meter.received_ = &impl_->received.Add({{"source", std::string(name)}});
    meter.dropped_ = &impl_->dropped.Add({{"source", std::string(name)}});
    return meter;
}

void metrics::mention_received(std::string_view source) { this->source(source).received(); }

void metrics::mention_rejected(std::string_view source, std::string_view reason) {
    impl_->rejected.Add({{"source", std::string(source)}, {"reason", std::string(reason)}}).Increment();
}

void metrics::mention_processed() { impl_->processed_total.Increment(); }
void metrics::mentions_processed(std::uint64_t n) {
    if (n > 0) impl_->processed_total.Increment(static_cast<double>(n));
}

void metrics::source_connected(std::string_view source, bool up) {
    impl_->connected.Add({{"source", std::string(source)}}).Set(up ? 1 : 0);
}

void metrics::source_removed(std::string_view source) {
    const pm::Labels labels{{"source", std::string(source)}};
    if (impl_->connected.Has(labels)) impl_->connected.Remove(&impl_->connected.Add(labels));
    std::lock_guard lock(impl_->m);
    if (auto it = impl_->meters.find(source); it != impl_->meters.end()) it->second.removed_ = true;
    if (impl_->message_age.Has(labels)) impl_->message_age.Remove(&impl_->message_age.Add(labels));
}

void metrics::source_reconnect(std::string_view source) {
    impl_->reconnects.Add({{"source", std::string(source)}}).Increment();
}

void metrics::source_frame(std::string_view source, std::string_view kind) {
    impl_->source_frames.Add({{"source", std::string(source)}, {"kind", std::string(kind)}}).Increment();
}

void metrics::source_message(std::string_view source) {
    auto now = std::chrono::steady_clock::now();
    this->source(source).message_at(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
}

void metrics::incident_opened(std::string_view rule, double detection_latency_seconds) {
    impl_->opened.Add({{"rule", std::string(rule)}}).Increment();
    impl_->detection_hist.Observe(detection_latency_seconds);
}

void metrics::incident_resolved(std::string_view rule) { impl_->resolved.Add({{"rule", std::string(rule)}}).Increment(); }

void metrics::action(std::string_view channel, std::string_view outcome) {
    impl_->actions.Add({{"channel", std::string(channel)}, {"outcome", std::string(outcome)}}).Increment();
}

void metrics::delivered(std::string_view channel, double latency_seconds) {
    impl_->delivery
        .Add({{"channel", std::string(channel)}},
             pm::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
        .Observe(latency_seconds);
}

void metrics::outbox_state(std::size_t pending, std::size_t dead) {
    impl_->pending_gauge.Set(static_cast<double>(pending));
    impl_->dead_gauge.Set(static_cast<double>(dead));
}

void metrics::outbox_write_failed() { impl_->write_errors_total.Increment(); }

void metrics::open_incidents(std::size_t n) { impl_->open_gauge.Set(static_cast<double>(n)); }
void metrics::live_keys(std::size_t n) { impl_->keys_gauge.Set(static_cast<double>(n)); }
void metrics::evicted_keys(std::uint64_t total) {
    // The detector keeps the running total; the counter follows it and never goes down.
    const double now = static_cast<double>(total);
    if (now > impl_->evicted_total.Value()) impl_->evicted_total.Increment(now - impl_->evicted_total.Value());
}

void metrics::incident_suppressed(std::string_view rule, std::string_view reason) {
    impl_->incidents_suppressed.Add({{"rule", std::string(rule)}, {"reason", std::string(reason)}}).Increment();
}
void metrics::duplicate_action() { impl_->duplicate_actions.Add({}).Increment(); }
void metrics::clock_stepped() { impl_->clock_steps.Increment(); }

void metrics::cluster_source_held(std::string_view source, bool held) {
    std::lock_guard lock(impl_->m);
    if (!impl_->source_held)
        impl_->source_held = &pm::BuildGauge()
                                  .Name("crisisd_cluster_source_held")
                                  .Help("1 while this replica holds the pull source's lease and runs it")
                                  .Register(*impl_->registry);
    impl_->source_held->Add({{"source", std::string(source)}}).Set(held ? 1 : 0);
}

void metrics::cluster_source_cursor_written(std::string_view source) {
    std::lock_guard lock(impl_->m);
    if (!impl_->source_cursor_writes)
        impl_->source_cursor_writes = &pm::BuildCounter()
                                           .Name("crisisd_cluster_source_cursor_writes_total")
                                           .Help("Resume points of a pull source this replica wrote to NATS for its next holder")
                                           .Register(*impl_->registry);
    impl_->source_cursor_writes->Add({{"source", std::string(source)}}).Increment();
}

void metrics::cluster_leases(const cluster::replica_figures& f) {
    auto& c = impl_->cluster_of();
    c.owned.Set(f.owned);
    for (int p = 0; p < f.partitions; ++p)
        c.by_partition.Add({{"partition", std::to_string(p)}})
            .Set(std::find(f.owned_partitions.begin(), f.owned_partitions.end(), p) != f.owned_partitions.end() ? 1 : 0);
    c.members.Set(f.members);
    c.remaining.Set(f.lease_remaining_seconds);
    c.connected.Set(f.connected ? 1 : 0);
    // The lease thread keeps running totals; the counters follow them and never go down.
    auto follow = [](pm::Counter& counter, long total) {
        const double now = static_cast<double>(total);
        if (now > counter.Value()) counter.Increment(now - counter.Value());
    };
    follow(c.renew_failures, f.renew_failures);
    follow(c.acquisitions, f.acquisitions);
    follow(c.losses, f.losses);
    c.publish_queue.Set(static_cast<double>(f.publish_queue));
    follow(c.published, f.published);
    follow(c.publish_failures, f.publish_failures);
    follow(c.publish_dropped, f.publish_dropped);
    c.max_payload.Set(f.max_payload_bytes);
    c.state_largest.Set(f.state_largest_bytes);
    c.state_too_large.Set(f.state_too_large);
    follow(c.state_compacted, f.state_compacted_writes);
    follow(c.duplicates, f.duplicates);
    follow(c.takeovers, f.takeovers);
    for (std::size_t p = 0; p < f.stream_lag.size(); ++p)
        c.stream_lag.Add({{"partition", std::to_string(p)}}).Set(static_cast<double>(f.stream_lag[p]));
}

void metrics::admin_refused(std::string_view reason) {
    impl_->admin_refused.Add({{"reason", std::string(reason)}}).Increment();
}
void metrics::admin_tokens(std::size_t n) { impl_->admin_tokens_gauge.Set(static_cast<double>(n)); }
void metrics::admin_tokens_file_error() { impl_->admin_tokens_errors_total.Increment(); }
void metrics::event_streams(std::size_t n) { impl_->event_streams_gauge.Set(static_cast<double>(n)); }
void metrics::event_stream_refused() { impl_->event_streams_refused_total.Increment(); }
void metrics::event_stream_behind() { impl_->event_streams_behind_total.Increment(); }

std::string metrics::render() const {
    {
        // An age only means something at the moment it is read.
        const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
        std::lock_guard lock(impl_->m);
        for (const auto& [source, meter] : impl_->meters) {
            const auto at = meter.last_message_ns_.load(std::memory_order_relaxed);
            if (at == 0 || meter.removed_) continue;
            impl_->message_age.Add({{"source", source}}).Set(static_cast<double>(now - at) / 1e9);
        }
    }
    pm::TextSerializer serializer;
    return serializer.Serialize(impl_->registry->Collect());
}

}  // namespace crisisd::admin
