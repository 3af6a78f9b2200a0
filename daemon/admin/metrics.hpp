#pragma once
// The daemon's Prometheus metrics, behind methods named for what happened, so no other module
// touches the metrics library (the "probe" habit). Names are a contract (DESIGN.md). Counters
// are created lazily per label set; the per-frame ones hang off a source_meter, so the hot path
// does no lookup at all. Thread-safe (prometheus-cpp metrics are atomic; the caches are guarded).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/replica_figures.hpp"

namespace prometheus {
class Counter;
}

namespace crisisd::admin {

// One source's per-frame counters, resolved once by metrics::source() and kept by the source's
// runtime, so counting a frame is one atomic operation: no lock, no label lookup. Valid as long
// as the metrics object; safe from any thread.
class source_meter {
public:
    void received();  // crisisd_mentions_received_total{source}
    void received(std::size_t frames);  // the same for a batch of frames, one counter update
    void dropped();   // crisisd_mentions_dropped_total{source}: lost to a full drop_oldest queue
    // A message arrived at `steady_ns` (steady_clock, nanoseconds since its epoch); /metrics
    // shows the age as crisisd_source_last_message_age_seconds{source}.
    void message_at(std::int64_t steady_ns) { last_message_ns_.store(steady_ns, std::memory_order_relaxed); }

private:
    friend class metrics;
    prometheus::Counter* received_ = nullptr;
    prometheus::Counter* dropped_ = nullptr;
    std::atomic<std::int64_t> last_message_ns_{0};  // 0: nothing yet
    bool removed_ = false;  // guarded by the metrics' lock: a reload took the source away
};

class metrics {
public:
    metrics();
    ~metrics();

    // The meter of one source (created on first use, then the same object for that name).
    source_meter& source(std::string_view name);

    void mention_received(std::string_view source);
    void mention_rejected(std::string_view source, std::string_view reason);
    void mention_processed();
    void mentions_processed(std::uint64_t n);  // n at once (a drained batch)
    void source_connected(std::string_view source, bool up);
    // A reload removed the source: its connected and last-message-age series go, so an alert on
    // crisisd_source_connected == 0 does not fire for a source that no longer exists. (Its
    // counters stay, as counters do; the source may come back under the same name.)
    void source_removed(std::string_view source);
    void source_reconnect(std::string_view source);
    // A source's frame that was valid but not a new mention: "ignored" (housekeeping events),
    // "deleted" (a deletion notice), "duplicate" (replayed after a reconnect).
    void source_frame(std::string_view source, std::string_view kind);
    // A message arrived now; /metrics shows crisisd_source_last_message_age_seconds{source}.
    void source_message(std::string_view source);
    void incident_opened(std::string_view rule, double detection_latency_seconds);
    void incident_resolved(std::string_view rule);
    void action(std::string_view channel, std::string_view outcome);
    void delivered(std::string_view channel, double latency_seconds);
    void outbox_state(std::size_t pending, std::size_t dead);
    // The state database refused a transaction of actions (crisisd_outbox_write_errors_total).
    void outbox_write_failed();
    void open_incidents(std::size_t n);
    void live_keys(std::size_t n);
    // The detector's running total of keys evicted at max_keys (crisisd_detector_evicted_keys_total).
    void evicted_keys(std::uint64_t total);

    // Admin access: a request refused (crisisd_admin_refused_total{reason}: unauthenticated,
    // forbidden, host), the tokens loaded (crisisd_admin_tokens), and a tokens file that could
    // not be loaded (crisisd_admin_tokens_file_errors_total; the old tokens stay).
    // crisisd_incidents_suppressed_total{rule,reason}: a firing key that opened no incident.
    void incident_suppressed(std::string_view rule, std::string_view reason);
    // crisisd_outbox_duplicate_actions_total: an action whose key the outbox already held.
    void duplicate_action();
    // crisisd_clock_steps_total: the wall clock was set and crisisd moved its timeline with it.
    void clock_stepped();
    // Cluster mode (issue 15): the partition leases as the lease thread sees them
    // (crisisd_cluster_*). The series appear with the first call, so a single process has none.
    void cluster_leases(const cluster::replica_figures& f);
    // crisisd_cluster_source_held{source}: 1 while this replica holds a pull source's lease and
    // runs it (cluster mode; sources/source_leases.hpp).
    void cluster_source_held(std::string_view source, bool held);
    // crisisd_cluster_source_cursor_writes_total{source}: the holder wrote a pull source's resume
    // point to NATS, for the next holder (sources/source_cursor.hpp).
    void cluster_source_cursor_written(std::string_view source);
    void admin_refused(std::string_view reason);
    void admin_tokens(std::size_t n);
    void admin_tokens_file_error();
    // The console feed (admin/feed.hpp): streams open (crisisd_admin_event_streams), one refused
    // at admin.max_event_streams (crisisd_admin_event_streams_refused_total), and a client that
    // fell a whole buffer behind and is owed the live list (crisisd_admin_event_stream_resyncs_total).
    void event_streams(std::size_t n);
    void event_stream_refused();
    void event_stream_behind();

    // The Prometheus text exposition (version 0.0.4) of everything above.
    std::string render() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::admin
