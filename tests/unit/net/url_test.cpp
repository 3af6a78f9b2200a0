#include "net/url.hpp"

#include <gtest/gtest.h>

namespace crisisd::net {
namespace {

TEST(parse_url, fills_default_ports_and_target) {
    auto u = parse_url("https://hooks.example.com/services/T0/B0");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "https");
    EXPECT_EQ(u->host, "hooks.example.com");
    EXPECT_EQ(u->port, 443);
    EXPECT_EQ(u->target, "/services/T0/B0");
    EXPECT_TRUE(u->tls());
    EXPECT_EQ(host_header(*u), "hooks.example.com");

    auto w = parse_url("ws://127.0.0.1:6008/subscribe?wantedCollections=app.bsky.feed.post");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->port, 6008);
    EXPECT_EQ(w->target, "/subscribe?wantedCollections=app.bsky.feed.post");
    EXPECT_FALSE(w->tls());
    EXPECT_EQ(host_header(*w), "127.0.0.1:6008");
    EXPECT_EQ(w->host_port(), "127.0.0.1:6008");
}

TEST(parse_url, handles_ipv6_query_only_and_case) {
    auto u = parse_url("HTTP://[::1]:8080?x=1");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->scheme, "http");
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->target, "/?x=1");
    EXPECT_EQ(u->host_port(), "[::1]:8080");
    auto bare = parse_url("wss://jetstream.example");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->target, "/");
    EXPECT_EQ(bare->port, 443);
}

TEST(parse_url, rejects_what_crisisd_cannot_use) {
    EXPECT_FALSE(parse_url("ftp://example.com/"));
    EXPECT_FALSE(parse_url("example.com/path"));
    EXPECT_FALSE(parse_url("http://user:secret@example.com/"));
    EXPECT_FALSE(parse_url("http://example.com:99999/"));
    EXPECT_FALSE(parse_url("http://example.com:0/"));
    EXPECT_FALSE(parse_url("http:///path"));
}

TEST(parse_host_port, reads_listen_addresses) {
    auto a = parse_host_port("127.0.0.1:9464");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9464);
    auto b = parse_host_port("[::1]:0");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "::1");
    EXPECT_EQ(b->port, 0);
    EXPECT_FALSE(parse_host_port("127.0.0.1"));
    EXPECT_FALSE(parse_host_port(":80"));
    EXPECT_FALSE(parse_host_port("localhost:http"));
}

}  // namespace
}  // namespace crisisd::net
