#include "cluster/settings.hpp"

#include <gtest/gtest.h>

namespace crisisd::cluster {
namespace {

using namespace std::chrono_literals;

cluster_settings good() {
    cluster_settings s;
    s.name = "replica-1";
    s.nats.servers = {"nats://127.0.0.1:4222"};
    return s;
}

TEST(cluster_settings, the_defaults_are_sound) { EXPECT_TRUE(validate(good()).empty()); }

TEST(cluster_settings, a_renewal_must_be_answered_before_the_owner_deadline) {
    auto s = good();
    s.leases.ttl = 3000ms;
    s.leases.safety_margin = 1000ms;
    s.leases.renew_interval = 1000ms;
    s.nats.request_timeout = 1000ms;   // 1 s + 1 s >= 3 s - 1 s
    ASSERT_EQ(validate(s).size(), 1u);
    s.nats.request_timeout = 500ms;
    EXPECT_TRUE(validate(s).empty());
}

TEST(cluster_settings, names_must_be_key_tokens) {
    EXPECT_TRUE(valid_name("replica_1-a"));
    EXPECT_FALSE(valid_name(""));
    EXPECT_FALSE(valid_name("a.b"));   // a dot would split the key into tokens
    EXPECT_FALSE(valid_name("a b"));
    EXPECT_FALSE(valid_name(std::string(65, 'a')));
    auto s = good();
    s.name = "has space";
    s.nats.servers.clear();
    EXPECT_EQ(validate(s).size(), 2u);
}

// Without a namespace a cluster keeps the names it had before there were namespaces, so an
// upgraded cluster finds its leases, partition state and stream where it left them.
TEST(cluster_settings, no_namespace_keeps_the_names_every_earlier_cluster_used) {
    const auto n = names_in("");
    EXPECT_EQ(n.leases, "crisisd_leases");
    EXPECT_EQ(n.members, "crisisd_members");
    EXPECT_EQ(n.state, "crisisd_state");
    EXPECT_EQ(n.statement_caps, "crisisd_statement_caps");
    EXPECT_EQ(n.source_cursors, "crisisd_source_cursors");
    EXPECT_EQ(n.stream, "crisisd_mentions");
    EXPECT_EQ(n.mention_subjects, "crisisd.mentions");
    EXPECT_EQ(n.console_feed, "crisisd.console.feed");
}

TEST(cluster_settings, a_namespace_gives_every_bucket_stream_and_subject_its_own_name) {
    const auto staging = names_in("staging");
    const auto plain = names_in("");
    EXPECT_EQ(staging.leases, "crisisd_staging_leases");
    EXPECT_EQ(staging.mention_subjects, "crisisd.staging.mentions");
    EXPECT_EQ(staging.console_feed, "crisisd.staging.console.feed");
    const std::string* mine[] = {&staging.leases, &staging.members, &staging.state, &staging.statement_caps,
                                 &staging.source_cursors, &staging.stream, &staging.mention_subjects,
                                 &staging.console_feed};
    const std::string* theirs[] = {&plain.leases, &plain.members, &plain.state, &plain.statement_caps,
                                   &plain.source_cursors, &plain.stream, &plain.mention_subjects, &plain.console_feed};
    for (std::size_t i = 0; i < std::size(mine); ++i) {
        EXPECT_NE(*mine[i], *theirs[i]);
        // Bucket and stream names are key tokens; subjects are dot-separated tokens.
        if (i < 6) {
            EXPECT_TRUE(valid_name(*mine[i])) << *mine[i];
        }
    }
    auto s = good();
    s.name_space = "eu.prod";
    EXPECT_EQ(validate(s).size(), 1u);
    s.name_space = std::string(33, 'a');
    EXPECT_EQ(validate(s).size(), 1u);
    s.name_space = "eu-prod_2";
    EXPECT_TRUE(validate(s).empty());
}

}  // namespace
}  // namespace crisisd::cluster
