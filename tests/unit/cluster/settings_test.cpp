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

}  // namespace
}  // namespace crisisd::cluster
