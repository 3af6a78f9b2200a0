// The whole-cluster incident list: every replica's incidents merged, each marked with its
// replica, and every peer that did not answer named.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "admin/cluster.hpp"

using crisisd::admin::forwarded_name;
using crisisd::admin::merge_incident_lists;
using crisisd::admin::peer_answer;
namespace json = boost::json;

TEST(admin_cluster, lists_merge_newest_first_and_name_each_incidents_replica) {
    const std::string local = R"({"incidents":[{"id":10001,"opened_at":"2026-12-05T03:00:00Z"}]})";
    std::vector<peer_answer> peers{
        {"replica-b", 200, R"({"incidents":[{"id":20000,"opened_at":"2026-12-05T04:00:00Z"},
                                            {"id":10000,"opened_at":"2026-12-05T02:00:00Z"}]})", ""}};
    auto v = json::parse(merge_incident_lists("replica-a", local, peers));
    const auto& list = v.at("incidents").as_array();
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].at("id").as_int64(), 20000);
    EXPECT_EQ(list[0].at("replica").as_string(), "replica-b");
    EXPECT_EQ(list[1].at("id").as_int64(), 10001);
    EXPECT_EQ(list[1].at("replica").as_string(), "replica-a");
    EXPECT_EQ(list[2].at("id").as_int64(), 10000);
    EXPECT_EQ(v.at("replicas").as_array().size(), 2u);
    EXPECT_TRUE(v.at("unanswered").as_array().empty());
    EXPECT_FALSE(v.as_object().contains("resolved_omitted"));
}

TEST(admin_cluster, a_peer_that_does_not_answer_is_named_with_why) {
    std::vector<peer_answer> peers{{"replica-b", 0, "", "timeout"},
                                   {"replica-c", 401, R"({"error":"no"})", "no"},
                                   {"replica-d", 200, "not json", ""}};
    auto v = json::parse(merge_incident_lists("replica-a", R"({"incidents":[]})", peers));
    const auto& missing = v.at("unanswered").as_array();
    ASSERT_EQ(missing.size(), 3u);
    EXPECT_EQ(missing[0].at("name").as_string(), "replica-b");
    EXPECT_EQ(missing[0].at("error").as_string(), "timeout");
    EXPECT_EQ(missing[1].at("error").as_string(), "HTTP 401: no");
    EXPECT_EQ(missing[2].at("error").as_string(), "its answer was not an incident list");
    EXPECT_EQ(v.at("replicas").as_array().size(), 1u);
}

TEST(admin_cluster, resolved_omitted_counts_add_up) {
    std::vector<peer_answer> peers{{"replica-b", 200, R"({"incidents":[],"resolved_omitted":3})", ""}};
    auto v = json::parse(merge_incident_lists("replica-a", R"({"incidents":[],"resolved_omitted":2})", peers));
    EXPECT_EQ(v.at("resolved_omitted").as_int64(), 5);
}

TEST(admin_cluster, a_forwarded_command_names_the_person_and_the_replica) {
    EXPECT_EQ(forwarded_name("Anna Berger", "replica-b"), "Anna Berger (via replica-b)");
}
