// The admin API's dead letters, audit trail and the answer for an incident no longer in memory.
#include "report/admin_views.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace crisisd;

TEST(report_admin_views, dead_letters_say_when_they_died) {
    state::record r;
    r.key = "k1";
    r.incident_id = 3;
    r.channel = "pager";
    r.kind = "notify";
    r.attempts = 5;
    r.last_error = "HTTP 500";
    const auto without = r;
    r.done_at = r.created_at + std::chrono::seconds(90);
    const auto v = boost::json::parse(report::dead_letters_json({r, without}));
    const auto& list = v.at("dead_letters").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("key").as_string(), "k1");
    EXPECT_EQ(list[0].at("incident_id").as_int64(), 3);
    EXPECT_EQ(list[0].at("error").as_string(), "HTTP 500");
    EXPECT_EQ(list[0].at("dead_at").as_string(), "1970-01-01T00:01:30Z");
    EXPECT_FALSE(list[1].as_object().contains("dead_at"));
}

TEST(report_admin_views, audit_records_keep_their_order) {
    state::audit_record a{7, {}, "Anna", "10.0.0.1", "ack", "incident 3", "done"};
    state::audit_record b{6, {}, "SIGHUP", "", "reload", "/etc/crisisd/crisisd.yaml", "done"};
    const auto v = boost::json::parse(report::audit_json({a, b}));
    const auto& list = v.at("audit").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("seq").as_int64(), 7);
    EXPECT_EQ(list[1].at("who").as_string(), "SIGHUP");
}

TEST(report_admin_views, a_missing_incident_says_where_it_went) {
    EXPECT_EQ(report::missing_incident(0, 5, std::chrono::hours(1)), "no such incident");
    EXPECT_EQ(report::missing_incident(5, 5, std::chrono::hours(1)), "no such incident");
    const auto gone = report::missing_incident(4, 5, std::chrono::hours(1));
    EXPECT_NE(gone.find("incident 4 was resolved more than"), std::string::npos) << gone;
    EXPECT_NE(gone.find("storage.resolved_grace"), std::string::npos) << gone;
}
