// `crisisd ctl list` and `ctl audit`: the API's JSON as fixed-width tables.
#include "report/api_tables.hpp"

#include <gtest/gtest.h>

using namespace crisisd;

TEST(report_api_tables, incidents_line_up_under_the_header) {
    const auto t = report::incident_table(
        R"({"incidents":[{"id":12,"state":"open","severity":"high","rule":"outage","key":"berlin","opened_at":"2026-01-01T10:00:00Z"}]})");
    EXPECT_EQ(t,
              "ID     STATE         SEVERITY  RULE                     KEY                  OPENED\n"
              "12     open          high      outage                   berlin               2026-01-01T10:00:00Z\n");
}

TEST(report_api_tables, a_missing_field_is_a_dash_and_long_cells_are_not_cut) {
    const auto t = report::audit_table(R"({"audit":[{"at":"x","who":"a-name-longer-than-twenty","action":"ack"}]})");
    EXPECT_NE(t.find("\nx                    a-name-longer-than-twenty -                ack        -                            -\n"),
              std::string::npos)
        << t;
}

TEST(report_api_tables, anything_else_comes_back_as_it_is) {
    EXPECT_EQ(report::incident_table("not json"), "not json\n");
    EXPECT_EQ(report::audit_table(R"({"incidents":[]})"), "{\"incidents\":[]}\n");
}
