// Issue 15: partition leases and fencing against a real three-node NATS cluster (JetStream, R3),
// started by each test on free loopback ports. No crisisd binary: this is the cluster module's
// contract with NATS, which the runtime builds on.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <set>

#include "cluster/nats_connection.hpp"
#include "cluster/partition_leases.hpp"
#include "nats_cluster.hpp"

namespace crisisd::testing {
namespace {

using namespace std::chrono_literals;
using cluster::mono_clock;
using cluster::mono_time;

cluster::lease_settings test_leases() {
    cluster::lease_settings s;
    s.bucket = "leases";
    s.partitions = 16;
    s.replicas = 3;
    // Short enough for quick takeovers, with a 2.5 s budget between renewals (every 0.5 s) so a
    // lease thread starved on a loaded two-core machine does not lapse.
    s.ttl = 4000ms;
    s.renew_interval = 500ms;
    s.safety_margin = 1000ms;
    return s;
}

// One replica's lease side: a connection, its leases and the thread that runs a round every
// renew interval, as the runtime's lease thread will.
class holder {
public:
    holder(std::string name, std::vector<std::string> servers, bool only_these = false) : name_(std::move(name)) {
        settings_.servers = std::move(servers);
        settings_.client_name = name_;
        settings_.request_timeout = 500ms;
        settings_.connect_timeout = 1000ms;
        settings_.ignore_discovered_servers = only_these;
    }
    ~holder() { stop(); }

    // Connects and opens the bucket (retried: right after start-up the cluster may still be
    // placing its first R3 stream), then starts the rounds.
    void start() {
        std::string error;
        ASSERT_TRUE(poll_until(
            [&] {
                if (!conn_) conn_ = cluster::nats_connection::connect(settings_, error);
                if (!conn_) return false;
                leases_ = std::make_unique<cluster::partition_leases>(*conn_, name_, test_leases());
                return leases_->open(error);
            },
            30s, 250ms))
            << name_ << ": " << error;
        thread_ = std::thread([this] { run(); });
    }

    // Stops the rounds and drops the connection without releasing anything: a crash, as the
    // others see it. The lease object stays, so a test can still ask what it believed.
    void crash() {
        stop();
        if (conn_) conn_->close();
    }

    void stop() {
        {
            std::lock_guard lock(m_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    cluster::partition_leases& leases() { return *leases_; }
    std::vector<int> owned() const { return leases_->owned(mono_clock::now()); }
    long rounds() const { return rounds_.load(); }
    long lost() const { return lost_.load(); }
    long name_conflicts() const { return name_conflicts_.load(); }

    // When this holder's write that acquired p was sent, for the last acquisition of p.
    std::optional<mono_time> acquired_at(int p) const {
        std::lock_guard lock(m_);
        auto it = acquired_at_.find(p);
        if (it == acquired_at_.end()) return std::nullopt;
        return it->second;
    }

private:
    void run() {
        auto s = test_leases();
        std::unique_lock lock(m_);
        while (!stopping_) {
            lock.unlock();
            auto round = leases_->tick();
            lock.lock();
            for (int p : round.acquired)
                if (auto d = leases_->deadline(p)) acquired_at_[p] = *d - s.ttl + s.safety_margin;
            lost_ += static_cast<long>(round.lost.size());
            if (round.name_in_use) ++name_conflicts_;
            ++rounds_;
            cv_.wait_for(lock, s.renew_interval, [&] { return stopping_; });
        }
    }

    std::string name_;
    cluster::nats_settings settings_;
    std::unique_ptr<cluster::nats_connection> conn_;
    std::unique_ptr<cluster::partition_leases> leases_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::map<int, mono_time> acquired_at_;
    std::atomic<long> rounds_{0}, lost_{0}, name_conflicts_{0};
    std::thread thread_;
};

class cluster_leases : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats.available()) GTEST_SKIP() << "nats-server is not installed (Debian package nats-server)";
        std::string why;
        ASSERT_TRUE(nats.start(why)) << why;
    }

    // Waits until a owns `na` and b owns `nb` partitions, never both the same one.
    static bool split(holder& a, holder& b, std::size_t na, std::size_t nb, std::chrono::milliseconds timeout = 30s) {
        return poll_until([&] { return a.owned().size() == na && b.owned().size() == nb; }, timeout);
    }

    // No partition may be acted on by both at the same moment.
    static void expect_disjoint(holder& a, holder& b) {
        auto now = mono_clock::now();
        for (int p = 0; p < 16; ++p)
            EXPECT_FALSE(a.leases().may_send(p, now) && b.leases().may_send(p, now)) << "partition " << p;
    }

    // For every partition `to` took over from `from`: `from` stopped acting before `to` wrote.
    static void expect_handover_fenced(holder& from, holder& to, const std::set<int>& partitions) {
        for (int p : partitions) {
            auto old_deadline = from.leases().deadline(p);
            auto taken = to.acquired_at(p);
            ASSERT_TRUE(taken) << "partition " << p;
            if (old_deadline) {
                EXPECT_LT(*old_deadline, *taken) << "partition " << p;
            }
        }
    }

    nats_cluster nats;
};

TEST_F(cluster_leases, two_holders_split_sixteen_partitions_eight_and_eight) {
    holder a("alpha", nats.urls()), b("beta", nats.urls());
    a.start();
    b.start();
    ASSERT_TRUE(split(a, b, 8, 8)) << a.owned().size() << "/" << b.owned().size();
    expect_disjoint(a, b);
    std::set<int> all;
    for (int p : a.owned()) all.insert(p);
    for (int p : b.owned()) all.insert(p);
    EXPECT_EQ(all.size(), 16u);
}

TEST_F(cluster_leases, a_crashed_holders_partitions_move_to_the_other_within_the_lease_time) {
    holder a("alpha", nats.urls()), b("beta", nats.urls());
    a.start();
    b.start();
    ASSERT_TRUE(split(a, b, 8, 8));
    auto b_had = b.owned();
    auto crashed = mono_clock::now();
    b.crash();
    ASSERT_TRUE(poll_until([&] { return a.owned().size() == 16; }, 30s)) << a.owned().size();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(mono_clock::now() - crashed);
    auto s = test_leases();
    std::cout << "takeover of 8 partitions after a crash: " << took.count() << " ms (ttl " << s.ttl.count()
              << " ms, renew " << s.renew_interval.count() << " ms)\n";
    // The leases were free no earlier than ttl after beta's last renewal, and alpha looks every
    // renew interval; the slack covers the server's expiry timer and a loaded machine.
    EXPECT_LE(took, s.ttl + s.renew_interval + 2000ms);
    expect_handover_fenced(b, a, std::set<int>(b_had.begin(), b_had.end()));
}

TEST_F(cluster_leases, a_cut_off_owner_falls_silent_before_its_leases_can_lapse_and_returns_with_nothing_stale) {
    // beta reaches the cluster only through a proxy to node 0; alpha talks to nodes 1 and 2.
    tcp_proxy proxy(nats.client_port(0));
    holder a("alpha", {nats.url(1), nats.url(2)}), b("beta", {proxy.url()}, true);
    a.start();
    b.start();
    ASSERT_TRUE(split(a, b, 8, 8));
    auto b_had = b.owned();
    std::map<int, std::uint64_t> b_epochs;
    for (int p : b_had) b_epochs[p] = *b.leases().epoch(p, mono_clock::now());

    proxy.cut();
    // beta stops claiming its partitions on its own, by its deadline, without hearing from NATS.
    ASSERT_TRUE(poll_until([&] { return b.owned().empty(); }, 30s));
    ASSERT_TRUE(poll_until([&] { return a.owned().size() == 16; }, 30s)) << a.owned().size();
    expect_handover_fenced(b, a, std::set<int>(b_had.begin(), b_had.end()));
    expect_disjoint(a, b);

    // beta comes back: the fair share splits again, and nothing beta owns now is one of its old
    // ownerships (work planned under an old epoch is refused).
    auto rounds_before = b.rounds();
    proxy.heal();
    ASSERT_TRUE(poll_until([&] { return b.rounds() > rounds_before + 2 && split(a, b, 8, 8, 0ms); }, 30s))
        << a.owned().size() << "/" << b.owned().size();
    expect_disjoint(a, b);
    auto now = mono_clock::now();
    for (const auto& [p, old_epoch] : b_epochs) {
        EXPECT_FALSE(b.leases().may_send(p, now, old_epoch)) << "partition " << p;
        if (auto e = b.leases().epoch(p, now)) {
            EXPECT_NE(*e, old_epoch) << "partition " << p;
        }
    }
}

TEST_F(cluster_leases, leases_keep_renewing_when_one_nats_node_is_killed) {
    holder a("alpha", nats.urls()), b("beta", nats.urls());
    a.start();
    b.start();
    ASSERT_TRUE(split(a, b, 8, 8));
    auto now = mono_clock::now();
    std::map<int, std::uint64_t> epochs;
    for (int p = 0; p < 16; ++p) {
        auto e = a.leases().epoch(p, now);
        if (!e) e = b.leases().epoch(p, now);
        ASSERT_TRUE(e) << p;
        epochs[p] = *e;
    }
    // Kill a node that does not lead the bucket's stream: renewals must not even pause. (Both
    // holders list node 0 first, so killing it also moves their connections.)
    std::string leader;
    ASSERT_TRUE(poll_until([&] { return !(leader = nats.stream_leader("KV_leases", 1)).empty(); }, 30s, 100ms));
    int victim = nats_cluster::node_name(0) != leader ? 0 : 1;
    nats.kill_node(victim);
    auto ra = a.rounds(), rb = b.rounds();
    auto s = test_leases();
    long enough = 2 * (s.ttl / s.renew_interval);   // two lease lifetimes of rounds
    ASSERT_TRUE(poll_until([&] { return a.rounds() > ra + enough && b.rounds() > rb + enough; }, 60s));
    EXPECT_EQ(a.lost(), 0) << "killed node " << victim << ", the bucket's leader was " << leader;
    EXPECT_EQ(b.lost(), 0) << "killed node " << victim << ", the bucket's leader was " << leader;
    now = mono_clock::now();
    for (int p = 0; p < 16; ++p) {
        auto e = a.leases().epoch(p, now);
        if (!e) e = b.leases().epoch(p, now);
        ASSERT_TRUE(e) << "partition " << p << " is not held after node " << victim << " died";
        EXPECT_EQ(*e, epochs[p]) << "partition " << p << " changed hands";
    }
}

TEST_F(cluster_leases, killing_the_buckets_leader_pauses_owners_but_never_doubles_them) {
    holder a("alpha", nats.urls()), b("beta", nats.urls());
    a.start();
    b.start();
    ASSERT_TRUE(split(a, b, 8, 8));
    // The worst single NATS failure for leases: the server leading the bucket's stream. Until the
    // other two elect a new leader (seconds), no renewal is stored; owners fall silent at their
    // deadlines and take their partitions back afterwards.
    std::string leader;
    ASSERT_TRUE(poll_until([&] { return !(leader = nats.stream_leader("KV_leases", 1)).empty(); }, 30s, 100ms));
    int victim = -1;
    for (int i = 0; i < nats_cluster::size; ++i)
        if (nats_cluster::node_name(i) == leader) victim = i;
    ASSERT_GE(victim, 0) << "no leader for KV_leases: " << leader;
    nats.kill_node(victim);
    int doubled = 0;
    auto both = [&] {
        auto now = mono_clock::now();
        for (int p = 0; p < 16; ++p) doubled += a.leases().may_send(p, now) && b.leases().may_send(p, now);
    };
    int survivor = (victim + 1) % nats_cluster::size;
    ASSERT_TRUE(poll_until(
        [&] {
            both();
            auto now_leader = nats.stream_leader("KV_leases", survivor);
            return !now_leader.empty() && now_leader != leader;
        },
        60s, 100ms));
    // Rounds that started after the new leader was there, and a settled split.
    auto ra = a.rounds(), rb = b.rounds();
    ASSERT_TRUE(poll_until(
        [&] {
            both();
            return a.rounds() > ra + 2 && b.rounds() > rb + 2 && a.owned().size() == 8 && b.owned().size() == 8;
        },
        60s))
        << a.owned().size() << "/" << b.owned().size() << "\n"
        << nats.logs();
    EXPECT_EQ(doubled, 0);
    std::cout << "leases lost while node " << victim << " (the bucket's leader) was replaced: " << a.lost() + b.lost()
              << "\n";
}

TEST_F(cluster_leases, two_processes_given_one_name_are_told_and_never_share_a_partition) {
    holder a("alpha", nats.urls()), twin("alpha", nats.urls());
    a.start();
    twin.start();
    int doubled = 0;
    ASSERT_TRUE(poll_until(
        [&] {
            auto now = mono_clock::now();
            for (int p = 0; p < 16; ++p) doubled += a.leases().may_send(p, now) && twin.leases().may_send(p, now);
            return a.name_conflicts() > 0 && twin.name_conflicts() > 0 && a.owned().size() + twin.owned().size() == 16;
        },
        30s));
    EXPECT_EQ(doubled, 0);
}

}  // namespace
}  // namespace crisisd::testing
