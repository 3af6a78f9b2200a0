// Issue 15 through the real binary: crisisd replicas on a real three-node NATS cluster (JetStream,
// R3), every process started by the test on free loopback ports. The runtime runs the lease
// thread; these tests hold it to what the replicas show in /metrics: the partitions split fairly,
// a SIGKILLed replica's share moves to the survivor within 10 s, and a replica stopped with
// SIGTERM hands its share over at once. Until the clustered runtime is complete, `cluster:` runs
// only as the lease preview (CRISISD_CLUSTER_PREVIEW=leases), which sends nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "nats_cluster.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using crisisd::testing::admin_get;
using crisisd::testing::child_process;
using crisisd::testing::metric;
using crisisd::testing::wait_until;

namespace {

constexpr int partitions = 8;

class cluster_replicas : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_.available()) GTEST_SKIP() << "nats-server is not installed";
        dir_ = crisisd::testing::make_temp_dir("crisisd-replicas");
        std::string why;
        ASSERT_TRUE(nats_.start(why)) << why;
    }
    void TearDown() override {
        for (auto& r : replicas_)
            if (r.process) {
                r.process->signal(SIGKILL);
                r.process->wait_exit(10s);
            }
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    struct replica {
        std::string name;
        std::unique_ptr<child_process> process;
        std::uint16_t admin = 0;
    };

    replica& start_replica(const std::string& name) {
        const auto folder = dir_ / name;
        fs::create_directories(folder);
        std::string servers;
        for (const auto& u : nats_.urls()) servers += (servers.empty() ? "\"" : ", \"") + u + "\"";
        std::ofstream(folder / "crisisd.yaml") << "admin: { listen: \"127.0.0.1:0\", tokens_file: \""
                                               << crisisd::testing::write_admin_tokens(folder).string() << "\" }\n"
                                               << "storage: { path: \"" << (folder / "state.db").string() << "\" }\n"
                                               << "cluster:\n  name: " << name << "\n  partitions: " << partitions
                                               << "\n  nats: { servers: [" << servers << "] }\n";
        replica r;
        r.name = name;
        r.process = std::make_unique<child_process>(std::vector<std::string>{
            "/usr/bin/env", "CRISISD_CLUSTER_PREVIEW=leases", CRISISD_BINARY, "run", "--config",
            (folder / "crisisd.yaml").string()});
        r.admin = r.process->wait_for_port(R"(console on http://127\.0\.0\.1:(\d+)/)", 30s);
        EXPECT_NE(r.admin, 0) << r.process->stderr_text();
        replicas_.push_back(std::move(r));
        return replicas_.back();
    }

    static double figure(const replica& r, const std::string& series) {
        return metric(admin_get(r.admin, "/metrics"), series);
    }
    static double owned(const replica& r) { return figure(r, "crisisd_cluster_partitions_owned"); }

    std::string logs() const {
        std::string out;
        for (const auto& r : replicas_)
            if (r.process) out += "--- " + r.name + "\n" + r.process->stderr_text();
        return out;
    }

    crisisd::testing::nats_cluster nats_;
    fs::path dir_;
    std::deque<replica> replicas_;   // a deque: start_replica's references stay valid
};

TEST_F(cluster_replicas, two_replicas_split_the_partitions_and_a_killed_ones_share_moves_within_ten_seconds) {
    auto& a = start_replica("replica-a");
    auto& b = start_replica("replica-b");
    ASSERT_FALSE(HasFailure());
    // The preview says so in its log: it holds leases and sends nothing.
    EXPECT_TRUE(a.process->wait_for_stderr("lease preview", 5s).has_value());
    ASSERT_TRUE(wait_until([&] { return owned(a) == partitions / 2 && owned(b) == partitions / 2; }, 30s))
        << "a=" << owned(a) << " b=" << owned(b) << "\n"
        << logs();
    EXPECT_EQ(figure(a, "crisisd_cluster_members"), 2);
    EXPECT_EQ(figure(a, "crisisd_cluster_nats_connected"), 1);
    EXPECT_GT(figure(b, "crisisd_cluster_lease_remaining_seconds"), 0);
    const double taken_before = figure(b, "crisisd_cluster_lease_acquisitions_total");

    a.process->signal(SIGKILL);
    a.process->wait_exit(10s);
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return owned(b) == partitions; }, 20s)) << logs();
    const auto took = std::chrono::steady_clock::now() - killed;
    EXPECT_LE(took, 10s) << std::chrono::duration<double>(took).count() << " s";
    EXPECT_EQ(figure(b, "crisisd_cluster_lease_acquisitions_total"), taken_before + partitions / 2);
    EXPECT_EQ(figure(b, "crisisd_cluster_leases_lost_total"), 0);
    EXPECT_TRUE(b.process->wait_for_stderr("acquired partition", 1s).has_value());
}

TEST_F(cluster_replicas, a_replica_stopped_with_sigterm_releases_its_share_to_the_survivor) {
    auto& a = start_replica("replica-a");
    auto& b = start_replica("replica-b");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(wait_until([&] { return owned(a) == partitions / 2 && owned(b) == partitions / 2; }, 30s))
        << logs();
    a.process->signal(SIGTERM);
    const auto exit_code = a.process->wait_exit(20s);
    ASSERT_TRUE(exit_code.has_value()) << logs();
    EXPECT_EQ(*exit_code, 0) << logs();
    EXPECT_TRUE(a.process->wait_for_stderr("released every partition lease", 1s).has_value()) << logs();
    ASSERT_TRUE(wait_until([&] { return owned(b) == partitions; }, 20s)) << logs();
}

}  // namespace
