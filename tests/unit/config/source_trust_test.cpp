// Issue 11, sources: what a source's mentions are worth (trusted, max_rate) and what its listener
// exposes (is_loopback_listen, behind_proxy). Bad values are in the golden files
// (bad/source_trust, bad/ingest_exposed); here the values that load and what they become.
#include <gtest/gtest.h>

#include "config/detail/listen.hpp"
#include "config/loader.hpp"
#include "support.hpp"

using crisisd::config::detail::is_loopback_listen;
using crisisd::config::load_string;
using crisisd::config::testing::all_errors;
using namespace std::chrono_literals;

TEST(is_loopback_listen, only_the_loopback_interface_counts) {
    for (const char* yes : {"127.0.0.1:9465", "127.255.0.9:1", "localhost:80", "LocalHost:80", "[::1]:9465",
                            "[::ffff:127.0.0.1]:9465", "127.0.0.1:0"})
        EXPECT_TRUE(is_loopback_listen(yes)) << yes;
    for (const char* no : {"0.0.0.0:9465", "[::]:9465", "192.0.2.1:9465", "10.0.0.1:80", "128.0.0.1:80",
                           "localhost.example.com:80", "example.com:80", "127.1:80", "[::ffff:10.0.0.1]:80",
                           "127.0.0.1", ":9465", "[::2]:80"})
        EXPECT_FALSE(is_loopback_listen(no)) << no;
}

TEST(source_settings, trusted_max_rate_and_behind_proxy_load) {
    const auto r = load_string(R"(
sources:
  - { name: a, type: http, trusted: true, max_rate: 200/s }
  - { name: b, type: file, path: x.jsonl, max_rate: 30/m, trusted: false }
  - { name: c, type: websocket, url: "wss://x/", format: jetstream, max_rate: 5000/h }
  - { name: d, type: http, listen: "127.0.0.1:9470", behind_proxy: true }
)",
                               "trust.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& s = r.config.sources;
    ASSERT_EQ(s.size(), 4u);
    EXPECT_TRUE(s[0].trusted);
    EXPECT_EQ(s[0].max_rate.count, 200u);
    EXPECT_EQ(s[0].max_rate.per, 1s);
    EXPECT_FALSE(s[1].trusted);
    EXPECT_EQ(s[1].max_rate.count, 30u);
    EXPECT_EQ(s[1].max_rate.per, 1min);
    EXPECT_FALSE(s[2].trusted);
    EXPECT_EQ(s[2].max_rate.per, 1h);
    EXPECT_TRUE(s[3].behind_proxy);
    EXPECT_FALSE(s[0].behind_proxy);
}

TEST(source_settings, untrusted_and_unlimited_by_default) {
    const auto r = load_string("sources:\n  - { name: a, type: http }\n", "default.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_FALSE(r.config.sources[0].trusted);
    EXPECT_EQ(r.config.sources[0].max_rate.count, 0u);
    EXPECT_FALSE(r.config.sources[0].behind_proxy);
}
