// A partition's state as it goes to JetStream (runtime/partition_state.hpp): what a new owner
// reads must be what the old one wrote, and what it cannot read it refuses whole.
#include <gtest/gtest.h>

#include "runtime/partition_state.hpp"

namespace crisisd::runtime {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp(std::chrono::duration_cast<core::duration>(1'790'000'000s));

partition_state sample() {
    partition_state s;
    s.partition = 7;
    s.epoch = 42;
    s.next_sequence = 13;
    s.last_stream_sequence = 98765;
    s.counted = 321;
    s.window_from = 98001;
    incident::incident inc;
    inc.id = 120007;
    inc.rule = "acme-outage";
    inc.key = "acme";
    inc.playbook = "outage";
    inc.opened_at = t0;
    incident::step_status st;
    st.index = 1;
    st.kind = incident::step_kind::statement;
    st.due = t0 + 5s;
    st.preview = "We know about the outage.";
    inc.steps.push_back(st);
    s.incidents.push_back(inc);
    state::record r;
    r.key = "120007/open/0/pager";
    r.incident_id = 120007;
    r.channel = "pager";
    r.kind = "notify";
    r.payload = R"({"event":"opened"})";
    r.state = state::record_state::pending;
    r.attempts = 1;
    r.started = 2;
    r.created_at = t0;
    r.next_attempt = t0 + 3s;
    r.last_error = "503";
    s.records.push_back(r);
    r.key = "120007/open/1/brand";
    r.state = state::record_state::sent;
    r.done_at = t0 + 6s;
    r.last_error.clear();
    s.records.push_back(r);
    s.silences.push_back({"acme-outage", "", "ops@example.com", t0 + 1h});
    s.detectors["acme-outage"] = std::string("\0\x01\xff binary", 10);
    return s;
}

TEST(partition_state, round_trips_every_field) {
    const auto in = sample();
    const auto out = decode_partition_state(encode_partition_state(in));
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->partition, 7);
    EXPECT_EQ(out->epoch, 42u);
    EXPECT_EQ(out->next_sequence, 13u);
    EXPECT_EQ(out->last_stream_sequence, 98765u);
    EXPECT_EQ(out->counted, 321u);
    EXPECT_EQ(out->window_from, 98001u);
    ASSERT_EQ(out->incidents.size(), 1u);
    EXPECT_EQ(out->incidents[0].id, 120007u);
    ASSERT_EQ(out->incidents[0].steps.size(), 1u);
    EXPECT_EQ(out->incidents[0].steps[0].due, t0 + 5s);
    EXPECT_EQ(out->incidents[0].steps[0].preview, "We know about the outage.");
    ASSERT_EQ(out->records.size(), 2u);
    EXPECT_EQ(out->records[0].key, "120007/open/0/pager");
    EXPECT_EQ(out->records[0].state, state::record_state::pending);
    EXPECT_EQ(out->records[0].attempts, 1);
    EXPECT_EQ(out->records[0].started, 2);
    EXPECT_EQ(out->records[0].next_attempt, t0 + 3s);
    EXPECT_EQ(out->records[0].last_error, "503");
    EXPECT_FALSE(out->records[0].done_at.has_value());
    EXPECT_EQ(out->records[1].state, state::record_state::sent);
    EXPECT_EQ(out->records[1].done_at, t0 + 6s);
    EXPECT_EQ(out->records[1].payload, R"({"event":"opened"})");
    ASSERT_EQ(out->silences.size(), 1u);
    EXPECT_EQ(out->silences[0].rule, "acme-outage");
    EXPECT_EQ(out->silences[0].key, "");
    EXPECT_EQ(out->silences[0].until, t0 + 1h);
    ASSERT_EQ(out->detectors.count("acme-outage"), 1u);
    EXPECT_EQ(out->detectors.at("acme-outage"), std::string("\0\x01\xff binary", 10));
}

TEST(partition_state, anything_unreadable_refuses_the_whole_state) {
    EXPECT_FALSE(decode_partition_state("not json").has_value());
    EXPECT_FALSE(decode_partition_state(R"({"v":2})").has_value());
    EXPECT_FALSE(decode_partition_state(R"({"v":1,"incidents":["{broken"]})").has_value());
    EXPECT_FALSE(decode_partition_state(R"({"v":1,"records":[{"key":"k","state":"maybe"}]})").has_value());
    EXPECT_FALSE(decode_partition_state(R"({"v":1,"detectors":{"r":"zz"}})").has_value());
    const auto empty = decode_partition_state(R"({"v":1})");
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->next_sequence, 1u);
    EXPECT_EQ(empty->last_stream_sequence, 0u);
    EXPECT_EQ(empty->window_from, 0u);   // a state written before the recent ids: none to read back
}

TEST(partition_state, a_message_at_or_below_the_stored_sequence_is_skipped) {
    EXPECT_TRUE(already_processed(10, 9));
    EXPECT_TRUE(already_processed(10, 10));
    EXPECT_FALSE(already_processed(10, 11));
    EXPECT_FALSE(already_processed(0, 1));
}

// A state over the servers' max_payload cannot be written, and then nothing of its partition is
// sent. What is left out to make it fit: resolved incidents with nothing left to do, the longest
// resolved first; never an open incident, a pending record or a step still waiting.
partition_state crowded(std::size_t resolved) {
    auto s = sample();  // incident 120007: open, a scheduled statement, a pending page
    for (std::size_t i = 0; i < resolved; ++i) {
        incident::incident inc;
        inc.id = (100 + i) * 10000 + 7;
        inc.rule = "acme-outage";
        inc.key = "key-" + std::to_string(i);
        inc.opened_at = t0;
        inc.state = incident::incident_state::resolved;
        inc.resolved_at = t0 + std::chrono::minutes(i);
        for (int h = 0; h < 20; ++h) inc.history.push_back({t0, "crisisd", "a long history line " + std::string(60, 'x')});
        s.incidents.push_back(inc);
        state::record r;
        r.key = std::to_string(inc.id) + "/open/0/pager";
        r.incident_id = inc.id;
        r.channel = "pager";
        r.kind = "notify";
        r.payload = std::string(300, 'p');
        r.state = state::record_state::sent;
        r.created_at = t0;
        r.next_attempt = t0;
        r.done_at = t0;
        s.records.push_back(r);
    }
    return s;
}

TEST(partition_state, a_state_that_fits_is_written_whole) {
    const auto s = crowded(10);
    const auto whole = encode_partition_state(s);
    auto fit = encode_partition_state_within(s, whole.size());
    EXPECT_EQ(fit.value, whole);
    EXPECT_EQ(fit.left_out, 0u);
    fit = encode_partition_state_within(s, 0);  // limit unknown
    EXPECT_EQ(fit.value, whole);
}

TEST(partition_state, over_the_limit_the_longest_resolved_finished_incidents_are_left_out_first) {
    auto s = crowded(200);
    const auto whole = encode_partition_state(s);
    const std::size_t limit = whole.size() / 2;
    const auto fit = encode_partition_state_within(s, limit);
    EXPECT_LE(fit.value.size(), limit);
    EXPECT_GT(fit.left_out, 0u);
    EXPECT_LT(fit.left_out, 200u);
    const auto back = decode_partition_state(fit.value);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->incidents.size(), 201u - fit.left_out);
    EXPECT_EQ(back->incidents.front().id, 120007u);  // the open one stays
    // The ones kept are the most recently resolved; their records stay with them.
    EXPECT_EQ(back->incidents[1].id, (100 + fit.left_out) * 10000 + 7);
    EXPECT_EQ(back->incidents.back().id, (100 + 199) * 10000 + 7);
    EXPECT_EQ(back->records.size(), 2u + back->incidents.size() - 1);
    EXPECT_EQ(back->last_stream_sequence, s.last_stream_sequence);
    EXPECT_EQ(back->detectors, s.detectors);
}

TEST(partition_state, what_still_has_work_is_never_left_out_even_when_it_does_not_fit) {
    auto s = crowded(20);
    // Resolved, with a page still pending, and resolved with its on_resolve step still scheduled.
    s.records.back().state = state::record_state::pending;
    const auto pending_id = s.records.back().incident_id;
    incident::step_status on_resolve;
    on_resolve.on_resolve = true;
    on_resolve.state = incident::step_state::scheduled;
    s.incidents[1].steps.push_back(on_resolve);
    const auto waiting_id = s.incidents[1].id;
    s.detectors["big"] = std::string(100000, 'd');  // windows alone over the limit
    const auto fit = encode_partition_state_within(s, 50000);
    EXPECT_GT(fit.value.size(), 50000u);  // the partition waits; its owner says so
    EXPECT_EQ(fit.left_out, 18u);
    const auto back = decode_partition_state(fit.value);
    ASSERT_TRUE(back);
    std::vector<std::uint64_t> ids;
    for (const auto& inc : back->incidents) ids.push_back(inc.id);
    EXPECT_EQ(ids, (std::vector<std::uint64_t>{120007u, waiting_id, pending_id}));
}

}  // namespace
}  // namespace crisisd::runtime
