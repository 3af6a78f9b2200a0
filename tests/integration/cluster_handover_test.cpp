// Issue 15 through the real binary: a state database that served a single node, started as a
// cluster replica. Its open incidents and undelivered actions would be lost (a replica keeps them
// in JetStream), so the replica refuses to start, with exit 79 and a message saying what the
// database holds and how to drain it, before it needs NATS; `--discard-local-state` gives them up
// once, knowingly; an empty database, or one a replica ran on, goes on to NATS.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "child_process.hpp"
#include "state/database.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::child_process;
namespace fs = std::filesystem;

namespace {

struct cluster_handover : ::testing::Test {
    fs::path dir = fs::temp_directory_path() / ("crisisd-handover-" + std::to_string(::getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    void SetUp() override {
        fs::remove_all(dir);
        fs::create_directories(dir);
        // Port 1: no NATS there; getting as far as connecting is getting past the database.
        std::ofstream(dir / "crisisd.yaml") << "storage: { path: \"" << (dir / "state.db").string()
                                            << "\" }\ncluster:\n  name: replica-1\n  nats: { servers: "
                                               "[\"nats://127.0.0.1:1\"] }\n";
    }
    void TearDown() override { fs::remove_all(dir); }

    // A single node's database: incident 1 open, its page not yet delivered.
    void seed_single_node_state() {
        auto opened = crisisd::state::database::open((dir / "state.db").string());
        ASSERT_TRUE(std::holds_alternative<std::unique_ptr<crisisd::state::database>>(opened));
        auto& db = *std::get<std::unique_ptr<crisisd::state::database>>(opened);
        crisisd::incident::incident inc;
        inc.id = 1;
        inc.rule = "acme-outage";
        inc.key = "acme";
        inc.opened_at = crisisd::core::timestamp{} + std::chrono::hours(24 * 20000);
        ASSERT_TRUE(db.incidents().save(inc));
        ASSERT_EQ(db.actions().enqueue("page-1", 1, "pager", "notify", "{}", inc.opened_at),
                  crisisd::state::action_store::enqueue_result::queued);
    }

    struct outcome {
        std::optional<int> code;
        std::string err;
    };
    outcome run(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{CRISISD_BINARY, "run", "--config", (dir / "crisisd.yaml").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        child_process p(args);
        auto code = p.wait_exit(30s);
        return {code, p.stderr_text()};
    }
};

TEST_F(cluster_handover, a_single_nodes_open_incident_and_outbox_stop_a_replica_until_drained_or_given_up) {
    seed_single_node_state();
    ASSERT_FALSE(HasFatalFailure());

    auto refused = run();
    EXPECT_EQ(refused.code, 79) << refused.err;
    EXPECT_NE(refused.err.find("holds 1 open incident(s) (#1) and 1 undelivered action(s) of a single node"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find("Run it without the cluster: section until"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--discard-local-state"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("cluster: connect"), std::string::npos) << "refused before NATS:\n" << refused.err;
    // Refusing changed nothing: a second try says the same.
    EXPECT_EQ(run().code, 79);

    // Given up knowingly, once: then it needs NATS like any replica.
    auto discarded = run({"--discard-local-state"});
    EXPECT_NE(discarded.code, 79) << discarded.err;
    EXPECT_NE(discarded.err.find("gave up 1 open incident(s) (#1) and 1 undelivered action(s)"), std::string::npos)
        << discarded.err;
    EXPECT_NE(discarded.err.find("cluster: connect"), std::string::npos) << discarded.err;
    auto again = run();
    EXPECT_NE(again.code, 79) << again.err;
    EXPECT_NE(again.err.find("cluster: connect"), std::string::npos) << again.err;
}

TEST_F(cluster_handover, an_empty_database_goes_on_to_nats) {
    auto r = run();
    EXPECT_NE(r.code, 79) << r.err;
    EXPECT_NE(r.err.find("cluster: connect"), std::string::npos) << r.err;
}

}  // namespace
