#pragma once
// The replica's place in the cluster directory, the cluster-wide statement caps and the console
// feed's subject (issue 15): a thread announces this replica's admin API in the member bucket and
// reads the members and the partition owners every renew_interval (cluster/directory.hpp),
// statement slots are taken from the shared caps (cluster/statement_caps.hpp), and the consoles'
// live feed is published and heard on the cluster's feed subject (cluster/broadcast.hpp, admin/cluster_feed.hpp).
// The directory and caps block on NATS, so neither runs on the event loop: the directory on its
// own thread, reserve_statement() on the blocking executor; publishing the feed does not wait.
//
// It keeps a NATS connection of its own rather than sharing the lease keeper's: a slow directory
// or caps request must never queue ahead of a lease renewal, whose timing fencing depends on.
//
// Thread-safety: start(), stop() and listen_feed() from the runtime's thread; members(), owner(),
// reserve_statement() and publish_feed() from any thread. The feed's handler runs on the NATS
// client's thread.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/broadcast.hpp"
#include "cluster/directory.hpp"
#include "cluster/nats_connection.hpp"
#include "cluster/settings.hpp"
#include "cluster/statement_caps.hpp"
#include "core/time.hpp"
#include "runtime/driver.hpp"

namespace crisisd::runtime {

class cluster_peers {
public:
    // Connects and opens the member, lease and caps buckets (blocking); `admin_url` is this
    // replica's admin API as peers reach it. nullptr and `error` on failure.
    static std::unique_ptr<cluster_peers> open(const cluster::cluster_settings& settings, std::string admin_url,
                                               std::int64_t started, std::string& error);
    ~cluster_peers();
    cluster_peers(const cluster_peers&) = delete;
    cluster_peers& operator=(const cluster_peers&) = delete;

    // Starts the directory thread; its first round runs at once.
    void start();
    // Stops it; with `leave`, removes this replica's entry first (a graceful shutdown).
    void stop(bool leave);

    const std::string& name() const noexcept { return name_; }
    std::vector<cluster::member> members() const { return directory_->members(); }
    std::optional<std::string> owner(int partition) const { return directory_->owner(partition); }
    std::optional<cluster::member> find(const std::string& name) const { return directory_->find(name); }
    int partitions() const noexcept { return directory_->partitions(); }

    // Takes a slot of `channel`'s cluster-wide cap for the statement `idempotency_key` posted at
    // `now` (unix seconds), or finds the one an earlier attempt took. Blocking.
    cluster::cap_outcome reserve_statement(const std::string& channel, int cap, std::int64_t now,
                                           const std::string& idempotency_key);
    // The same on `blocking` (never the event loop: it waits on NATS); `done` runs there.
    void reserve_statement(const std::string& channel, int cap, core::timestamp now, const std::string& idempotency_key,
                           executor& blocking, std::function<void(cluster::cap_outcome)> done);

    // Hears the feed subject (cluster::nats_names::console_feed, core NATS: at most once, nothing
    // stored): every message, this replica's own included, goes to `on_message`
    // (on the NATS client's thread; it must not block). False and `error` when the subscription
    // failed. Before start(); once.
    bool listen_feed(cluster::broadcast::handler on_message, std::string& error);
    // Publishes one message on the feed subject without waiting; a refusal is logged (once per
    // kind of error), and the message is lost, which the feed allows for.
    void publish_feed(std::string_view message);

private:
    cluster_peers() = default;
    void run();

    std::string name_;
    std::string feed_subject_;
    std::chrono::milliseconds interval_{1000};
    std::unique_ptr<cluster::nats_connection> conn_;
    std::unique_ptr<cluster::directory> directory_;
    std::unique_ptr<cluster::statement_caps> caps_;
    std::unique_ptr<cluster::broadcast> feed_;   // after conn_: unsubscribed before it closes
    std::mutex feed_m_;
    std::string feed_error_;   // the last publish error logged, guarded by feed_m_
    std::thread thread_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_ = false;   // guarded by m_
    bool leave_ = false;  // guarded by m_
    std::string last_error_;   // the directory thread's, logged when it changes
};

}  // namespace crisisd::runtime
