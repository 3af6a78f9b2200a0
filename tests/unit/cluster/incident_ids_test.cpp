#include "cluster/incident_ids.hpp"

#include <gtest/gtest.h>

namespace crisisd::cluster {
namespace {

TEST(incident_ids, the_last_four_digits_name_the_partition) {
    EXPECT_EQ(incident_id(12, 7), 120007u);
    EXPECT_EQ(partition_of_incident(120007), 7);
    EXPECT_EQ(sequence_of_incident(120007), 12u);
}

TEST(incident_ids, the_largest_partition_count_round_trips) {
    for (int p : {0, 1, 15, 4095}) {
        auto id = incident_id(3, p);
        EXPECT_EQ(partition_of_incident(id), p);
        EXPECT_EQ(sequence_of_incident(id), 3u);
    }
}

TEST(incident_ids, ids_of_different_partitions_never_meet) {
    EXPECT_NE(incident_id(1, 2), incident_id(2, 1));
}

}  // namespace
}  // namespace crisisd::cluster
