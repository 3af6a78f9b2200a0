// Which sources a cluster leases, and the bucket their leases live in (sources/source_leases.hpp).
#include "sources/source_leases.hpp"

#include <gtest/gtest.h>

#include "cluster/settings.hpp"

using crisisd::sources::is_pull_source;
using crisisd::sources::source_leases;

TEST(source_leases, sources_that_connect_out_are_leased_and_push_and_file_sources_are_not) {
    crisisd::ingest::source_settings s;
    for (const char* pull : {"websocket", "x", "feed"}) {
        s.type = pull;
        EXPECT_TRUE(is_pull_source(s)) << pull;
    }
    for (const char* push : {"http", "facebook", "file"}) {
        s.type = push;
        EXPECT_FALSE(is_pull_source(s)) << push;
    }
}

TEST(source_leases, the_bucket_names_the_source_list_so_different_lists_never_share_an_index) {
    const auto one = source_leases::bucket_for("crisisd_leases", {"jetstream", "mastodon"});
    EXPECT_EQ(one, source_leases::bucket_for("crisisd_leases", {"jetstream", "mastodon"}));
    EXPECT_NE(one, source_leases::bucket_for("crisisd_leases", {"jetstream"}));
    EXPECT_NE(one, source_leases::bucket_for("crisisd_leases", {"jetstreammastodon"}));
    EXPECT_NE(one, source_leases::bucket_for("crisisd_leases", {"mastodon", "jetstream"}));  // callers sort first
    EXPECT_TRUE(crisisd::cluster::valid_name(one)) << one;
    EXPECT_TRUE(one.starts_with("crisisd_leases_src_")) << one;
    // A lease bucket name at the 64-character limit still gives a valid one.
    const auto longest = source_leases::bucket_for(std::string(64, 'b'), {"feed"});
    EXPECT_TRUE(crisisd::cluster::valid_name(longest)) << longest;
}
