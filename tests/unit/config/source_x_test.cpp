// Issue 14: the keys of `type: x` sources and websocket `compression`, as they load. Bad values
// are in the golden file bad/x_source.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/loader.hpp"
#include "support.hpp"

using crisisd::config::load_string;
using crisisd::config::testing::all_errors;
using namespace std::chrono_literals;

TEST(source_x, an_x_source_loads_with_x_documented_defaults) {
    ::setenv("CRISISD_TEST_X_BEARER", "app-bearer-token", 1);
    const auto r = load_string(R"(
sources:
  - name: x
    type: x
    bearer_token: "${env:CRISISD_TEST_X_BEARER}"
    rules: [ { value: "liwest OR @liwest", tag: isp }, { value: "liwest störung" } ]
)",
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& s = r.config.sources.at(0);
    EXPECT_EQ(s.type, "x");
    EXPECT_EQ(s.format, "x");
    EXPECT_EQ(s.url, "https://api.x.com");
    EXPECT_EQ(s.token, "app-bearer-token");
    ASSERT_EQ(s.x.rules.size(), 2u);
    EXPECT_EQ(s.x.rules[0].value, "liwest OR @liwest");
    EXPECT_EQ(s.x.rules[0].tag, "isp");
    EXPECT_EQ(s.x.rules[1].tag, "");
    EXPECT_EQ(s.x.stall_timeout, 30s);
    EXPECT_EQ(s.x.backfill_minutes, 0);
    EXPECT_EQ(s.reconnect_initial, 5s);    // X: HTTP errors from 5 s …
    EXPECT_EQ(s.reconnect_max, 320s);      // … doubling up to 320 s
    EXPECT_EQ(s.x.network_step, 250ms);    // network errors: +250 ms …
    EXPECT_EQ(s.x.network_max, 16s);       // … up to 16 s
    EXPECT_EQ(s.x.rate_limited, 1min);     // 429: from a minute
}

TEST(source_x, every_x_key_is_read) {
    ::setenv("CRISISD_TEST_X_BEARER", "app-bearer-token", 1);
    const auto r = load_string(R"(
sources:
  - name: x
    type: x
    url: "http://127.0.0.1:8080/"
    bearer_token: "${env:CRISISD_TEST_X_BEARER}"
    rules: [ { value: "liwest", tag: isp } ]
    stall_timeout: 45s
    backfill_minutes: 5
    reconnect: { initial: 1s, max: 5m, network_step: 100ms, network_max: 4s, rate_limited: 2m }
    queue: { capacity: 500 }
    max_rate: 100/s
)",
                               "x.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    const auto& s = r.config.sources.at(0);
    EXPECT_EQ(s.url, "http://127.0.0.1:8080/");
    EXPECT_EQ(s.x.stall_timeout, 45s);
    EXPECT_EQ(s.x.backfill_minutes, 5);
    EXPECT_EQ(s.reconnect_initial, 1s);
    EXPECT_EQ(s.reconnect_max, 5min);
    EXPECT_EQ(s.x.network_step, 100ms);
    EXPECT_EQ(s.x.network_max, 4s);
    EXPECT_EQ(s.x.rate_limited, 2min);
    EXPECT_EQ(s.queue_capacity, 500u);
}

TEST(source_x, websocket_compression_sets_permessage_deflate) {
    const auto r = load_string(R"(
sources:
  - { name: on, type: websocket, url: "wss://jetstream.example/subscribe", format: jetstream, compression: deflate }
  - { name: off, type: websocket, url: "wss://a.example/", compression: none }
  - { name: default, type: websocket, url: "wss://b.example/" }
)",
                               "ws.yaml");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.config.sources[0].permessage_deflate);
    EXPECT_FALSE(r.config.sources[1].permessage_deflate);
    EXPECT_FALSE(r.config.sources[2].permessage_deflate);
}
