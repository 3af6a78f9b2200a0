// The member directory's pure parts: a member's bucket value and the holder of a lease value.
#include <gtest/gtest.h>

#include "cluster/directory.hpp"

using crisisd::cluster::lease_holder;
using crisisd::cluster::member;
using crisisd::cluster::member_value;
using crisisd::cluster::parse_member;

TEST(cluster_directory, a_member_value_reads_back_as_written) {
    member m{"replica-b", "https://10.0.0.2:9464", 1764900000};
    const auto v = member_value(m);
    EXPECT_EQ(v, "1764900000 https://10.0.0.2:9464");
    auto back = parse_member("replica-b", v);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->name, "replica-b");
    EXPECT_EQ(back->admin_url, "https://10.0.0.2:9464");
    EXPECT_EQ(back->started, 1764900000);
}

TEST(cluster_directory, values_that_are_not_members_are_refused) {
    EXPECT_FALSE(parse_member("replica-b", "").has_value());            // left (leave() writes "")
    EXPECT_FALSE(parse_member("replica-b", "1764900000").has_value());  // no URL
    EXPECT_FALSE(parse_member("replica-b", "soon http://a:1").has_value());
    EXPECT_FALSE(parse_member("replica-b", "1 ftp://a:1").has_value());
    EXPECT_FALSE(parse_member("", "1 http://a:1").has_value());
}

TEST(cluster_directory, a_lease_value_names_its_holder) {
    EXPECT_EQ(lease_holder("replica-a 0123456789abcdef"), "replica-a");
    EXPECT_EQ(lease_holder(""), "");   // released
}
