#include "detect/detector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

namespace crisisd::detect {
namespace {

using namespace std::chrono_literals;

// 2026-11-26T00:00:00Z: plain timestamps, no clock.
const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};

condition cond(metric m, comparison op, double threshold) { return condition{m, op, threshold}; }

condition_group all_of(std::vector<condition> cs, core::duration hold = {}) {
    return condition_group{true, std::move(cs), hold};
}
condition_group any_of(std::vector<condition> cs, core::duration hold = {}) {
    return condition_group{false, std::move(cs), hold};
}

// A rule that only fires by explicit conditions; the baseline floor is 1/min.
detector_settings rule(condition_group fire, condition_group clear = {}) {
    detector_settings s;
    s.window = 5min;
    s.baseline = 6h;
    s.min_baseline_rate = 1.0;
    s.fire_when = std::move(fire);
    s.clear_when = std::move(clear);
    return s;
}

observation neg(std::uint64_t author) { return observation{author, -0.8}; }
observation pos(std::uint64_t author) { return observation{author, 0.6}; }

struct harness {
    detector d;
    std::vector<signal> out;
    explicit harness(std::vector<detector_settings> rules) : d(std::move(rules)) {}
    explicit harness(detector_settings r) : d(std::vector<detector_settings>{std::move(r)}) {}

    void see(core::timestamp t, const observation& o, std::string_view key = "liwest", std::size_t r = 0) {
        d.observe(r, key, o, t, out);
    }
    // n mentions from n different authors (ids from `first`), spread over one second from t.
    void burst(core::timestamp t, int n, double compound, std::uint64_t first = 1000, std::string_view key = "liwest") {
        for (int i = 0; i < n; ++i)
            d.observe(0, key, observation{first + static_cast<std::uint64_t>(i), compound}, t + i * 1ms, out);
    }
    metrics_snapshot m(core::timestamp t, std::string_view key = "liwest") { return d.metrics(0, key, t).value(); }
    std::size_t fires() const {
        std::size_t n = 0;
        for (const auto& s : out) n += s.kind == signal_kind::fire;
        return n;
    }
    std::size_t clears() const {
        std::size_t n = 0;
        for (const auto& s : out) n += s.kind == signal_kind::clear;
        return n;
    }
};

TEST(metric_names, round_trip_every_metric) {
    for (metric m : {metric::count, metric::negative_count, metric::negative_ratio, metric::mean_compound,
                     metric::unique_authors, metric::rate, metric::volume_ratio, metric::zscore}) {
        ASSERT_EQ(metric_from_name(metric_name(m)), m) << metric_name(m);
    }
    EXPECT_EQ(metric_name(metric::unique_authors), "unique_authors");
    EXPECT_FALSE(metric_from_name("negativity").has_value());
    EXPECT_FALSE(metric_from_name("").has_value());
}

TEST(detector_metrics, window_counts_ratios_means_and_authors) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0, neg(1));
    h.see(t0 + 10s, neg(2));
    h.see(t0 + 20s, pos(1));
    h.see(t0 + 30s, observation{3, 0.0});
    const auto m = h.m(t0 + 30s);
    EXPECT_DOUBLE_EQ(m.count, 4);
    EXPECT_DOUBLE_EQ(m.negative_count, 2);
    EXPECT_DOUBLE_EQ(m.negative_ratio, 0.5);
    EXPECT_NEAR(m.mean_compound, (-0.8 - 0.8 + 0.6 + 0.0) / 4, 1e-3);
    EXPECT_DOUBLE_EQ(m.unique_authors, 3);
    EXPECT_DOUBLE_EQ(m.rate, 4.0 / 5.0);  // per minute over the 5-minute window
    EXPECT_DOUBLE_EQ(m.baseline_rate, 1.0);  // a new key starts at min_baseline_rate
    EXPECT_DOUBLE_EQ(m.volume_ratio, 0.8);
    EXPECT_TRUE(h.out.empty());
}

TEST(detector_metrics, empty_window_has_zero_ratio_and_mean) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0, neg(1));
    const auto m = h.m(t0 + 6min);
    EXPECT_DOUBLE_EQ(m.count, 0);
    EXPECT_DOUBLE_EQ(m.negative_ratio, 0);
    EXPECT_DOUBLE_EQ(m.mean_compound, 0);
    EXPECT_DOUBLE_EQ(m.unique_authors, 0);
}

TEST(detector_metrics, negative_threshold_is_inclusive) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1000)}));
    r.negative_threshold = -0.05;
    harness h(r);
    h.see(t0, observation{1, -0.05});
    h.see(t0, observation{2, -0.04});
    EXPECT_DOUBLE_EQ(h.m(t0).negative_count, 1);
}

TEST(detector_metrics, mentions_leave_the_window_after_its_length) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0, neg(1));
    h.see(t0 + 2min, neg(2));
    EXPECT_DOUBLE_EQ(h.m(t0 + 4min).count, 2);
    EXPECT_DOUBLE_EQ(h.m(t0 + 5min + 1s).count, 1);
    EXPECT_DOUBLE_EQ(h.m(t0 + 5min + 1s).unique_authors, 1);
    EXPECT_DOUBLE_EQ(h.m(t0 + 7min + 1s).count, 0);
}

TEST(detector_metrics, an_author_counts_once_per_window_and_again_later) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    for (int i = 0; i < 5; ++i) h.see(t0 + i * 30s, neg(7));
    EXPECT_DOUBLE_EQ(h.m(t0 + 2min).unique_authors, 1);
    // The author's latest mention (t0+2min) keeps them in the window until t0+7min.
    EXPECT_DOUBLE_EQ(h.m(t0 + 6min).unique_authors, 1);
    EXPECT_DOUBLE_EQ(h.m(t0 + 7min + 1s).unique_authors, 0);
}

TEST(detector_metrics, unknown_authors_each_count_as_their_own) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    for (int i = 0; i < 4; ++i) h.see(t0 + i * 1s, observation{0, -0.5});
    EXPECT_DOUBLE_EQ(h.m(t0 + 5s).unique_authors, 4);
}

TEST(detector_metrics, exact_unique_authors_with_many_authors) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1e9)})));
    for (int i = 0; i < 3000; ++i) h.see(t0 + i * 10ms, neg(static_cast<std::uint64_t>(i % 1234) + 1));
    EXPECT_DOUBLE_EQ(h.m(t0 + 30s).unique_authors, 1234);
    EXPECT_DOUBLE_EQ(h.m(t0 + 30s).count, 3000);
}

TEST(detector_metrics, unknown_key_has_no_metrics) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1)})));
    EXPECT_FALSE(h.d.metrics(0, "nothing", t0).has_value());
    EXPECT_FALSE(h.d.firing(0, "nothing"));
}

struct op_case {
    comparison op;
    double threshold;
    int mentions;
    bool fires;
};

class condition_ops : public ::testing::TestWithParam<op_case> {};

TEST_P(condition_ops, fire_exactly_when_the_comparison_holds) {
    const op_case c = GetParam();
    harness h(rule(all_of({cond(metric::count, c.op, c.threshold)})));
    for (int i = 0; i < c.mentions; ++i) h.see(t0 + i * 1s, neg(static_cast<std::uint64_t>(i) + 1));
    // The last mention is what the comparison sees; earlier ones may have fired for lower counts,
    // so inspect the state after the last mention only.
    h.out.clear();
    h.d.observe(0, "other", neg(1), t0, h.out);  // unrelated key, never affects "liwest"
    bool fired = h.d.firing(0, "liwest");
    EXPECT_EQ(fired, c.fires);
}

INSTANTIATE_TEST_SUITE_P(
    every_op, condition_ops,
    ::testing::Values(op_case{comparison::ge, 3, 3, true}, op_case{comparison::ge, 3, 2, false},
                      op_case{comparison::gt, 3, 3, false}, op_case{comparison::gt, 3, 4, true},
                      op_case{comparison::eq, 3, 3, true}, op_case{comparison::eq, 4, 3, false},
                      op_case{comparison::le, 0.5, 1, false}, op_case{comparison::lt, 0.5, 1, false},
                      op_case{comparison::ne, 1, 1, false}, op_case{comparison::ne, 1, 2, true}));

TEST(detector_conditions, lt_and_le_fire_on_a_quiet_key) {
    // count < 2 holds on the first mention; le on an exact value.
    harness lt(rule(all_of({cond(metric::count, comparison::lt, 2)})));
    lt.see(t0, neg(1));
    EXPECT_EQ(lt.fires(), 1u);
    harness le(rule(all_of({cond(metric::negative_ratio, comparison::le, 0.5)})));
    le.see(t0, pos(1));
    EXPECT_EQ(le.fires(), 1u);
}

TEST(detector_conditions, all_needs_every_condition) {
    harness h(rule(all_of({cond(metric::negative_count, comparison::ge, 5), cond(metric::unique_authors, comparison::ge, 5)})));
    for (int i = 0; i < 10; ++i) h.see(t0 + i * 1s, neg(1));  // one angry account
    EXPECT_EQ(h.fires(), 0u);
    h.burst(t0 + 20s, 4, -0.9, 100);  // 5 authors now
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_TRUE(h.d.firing(0, "liwest"));
}

TEST(detector_conditions, any_needs_one_condition) {
    harness h(rule(any_of({cond(metric::negative_count, comparison::ge, 50), cond(metric::unique_authors, comparison::ge, 3)})));
    h.burst(t0, 2, 0.5);
    EXPECT_EQ(h.fires(), 0u);
    h.burst(t0 + 1s, 1, 0.5, 500);
    EXPECT_EQ(h.fires(), 1u);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(h.out[0].key, "liwest");
    EXPECT_EQ(h.out[0].rule, 0u);
    EXPECT_EQ(h.out[0].at, t0 + 1s);
    EXPECT_DOUBLE_EQ(h.out[0].metrics.unique_authors, 3);
}

TEST(detector_conditions, each_metric_can_fire_a_rule) {
    struct c {
        metric m;
        comparison op;
        double threshold;
    };
    for (c x : {c{metric::count, comparison::ge, 20}, c{metric::negative_count, comparison::ge, 20},
                c{metric::negative_ratio, comparison::ge, 0.6}, c{metric::mean_compound, comparison::le, -0.3},
                c{metric::unique_authors, comparison::ge, 20}, c{metric::rate, comparison::ge, 4},
                c{metric::volume_ratio, comparison::ge, 4}, c{metric::zscore, comparison::ge, 3}}) {
        harness h(rule(all_of({cond(x.m, x.op, x.threshold)})));
        h.burst(t0, 10, 0.5);
        EXPECT_EQ(h.fires(), 0u) << metric_name(x.m);
        h.burst(t0 + 10s, 20, -0.8, 5000);
        EXPECT_EQ(h.fires(), 1u) << metric_name(x.m);
    }
}

TEST(detector_hysteresis, fire_for_needs_the_condition_to_hold_continuously) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 5)}, 2min), all_of({cond(metric::count, comparison::lt, 2)}));
    harness h(r);
    h.burst(t0, 5, -0.5);
    EXPECT_EQ(h.fires(), 0u);
    h.d.tick(t0 + 1min, h.out);
    EXPECT_EQ(h.fires(), 0u);
    h.d.tick(t0 + 2min, h.out);  // the fifth mention came at t0+4ms: 4 ms short
    EXPECT_EQ(h.fires(), 0u);
    h.d.tick(t0 + 2min + 4ms, h.out);
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_EQ(h.out.back().at, t0 + 2min + 4ms);
}

TEST(detector_hysteresis, a_break_restarts_the_fire_for) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 5)}, 2min));
    harness h(r);
    h.burst(t0, 5, -0.5);            // holds from t0
    h.d.tick(t0 + 5min + 1s, h.out);  // window emptied: breaks
    EXPECT_EQ(h.fires(), 0u);
    h.burst(t0 + 6min, 5, -0.5, 100);  // holds again from t0+6min
    h.d.tick(t0 + 7min, h.out);
    EXPECT_EQ(h.fires(), 0u);
    h.d.tick(t0 + 8min + 1s, h.out);
    EXPECT_EQ(h.fires(), 1u);
}

TEST(detector_hysteresis, clear_for_prevents_flapping) {
    // Fire at >= 10 in the window; clear only after < 5 for 3 minutes.
    auto r = rule(all_of({cond(metric::count, comparison::ge, 10)}),
                  all_of({cond(metric::count, comparison::lt, 5)}, 3min));
    harness h(r);
    h.burst(t0, 10, -0.5);
    ASSERT_EQ(h.fires(), 1u);
    // The storm falls below 5 at t0+5min, bounces back briefly, falls again.
    h.d.tick(t0 + 5min + 5s, h.out);
    h.d.tick(t0 + 6min, h.out);
    h.burst(t0 + 6min + 30s, 6, -0.5, 200);  // back to >= 5: clearing interrupted
    h.d.tick(t0 + 8min, h.out);
    EXPECT_EQ(h.clears(), 0u);
    EXPECT_TRUE(h.d.firing(0, "liwest"));
    // The bounce leaves the window at t0+11m30s; three more quiet minutes clear it.
    h.d.tick(t0 + 11min + 40s, h.out);
    h.d.tick(t0 + 13min, h.out);
    EXPECT_EQ(h.clears(), 0u);
    h.d.tick(t0 + 14min + 40s, h.out);
    EXPECT_EQ(h.clears(), 1u);
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_FALSE(h.d.firing(0, "liwest"));
    EXPECT_EQ(h.out.back().kind, signal_kind::clear);
    EXPECT_EQ(h.out.back().at, t0 + 14min + 40s);
}

TEST(detector_hysteresis, firing_key_ignores_fire_condition_changes) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 3)}), all_of({cond(metric::count, comparison::eq, 0)}));
    harness h(r);
    for (int i = 0; i < 20; ++i) h.see(t0 + i * 20s, neg(static_cast<std::uint64_t>(i % 5) + 1));
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_EQ(h.clears(), 0u);
}

TEST(detector_hysteresis, without_clear_conditions_clears_when_fire_stops_holding_for_clear_for) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 5)}), all_of({}, 2min));
    harness h(r);
    h.burst(t0, 5, -0.5);
    ASSERT_EQ(h.fires(), 1u);
    h.d.tick(t0 + 5min + 10s, h.out);  // window empty: fire_when no longer holds
    h.d.tick(t0 + 7min, h.out);
    EXPECT_EQ(h.clears(), 0u);
    h.d.tick(t0 + 7min + 10s, h.out);
    EXPECT_EQ(h.clears(), 1u);
}

TEST(detector_cooldown, no_new_fire_until_cooldown_ends) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 5)}), all_of({cond(metric::count, comparison::lt, 1)}));
    r.cooldown = 30min;
    harness h(r);
    h.burst(t0, 5, -0.5);
    h.d.tick(t0 + 6min, h.out);  // clears at t0+6min
    ASSERT_EQ(h.clears(), 1u);
    h.burst(t0 + 10min, 5, -0.5, 100);
    h.d.tick(t0 + 12min, h.out);
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_FALSE(h.d.firing(0, "liwest"));
    h.d.tick(t0 + 20min, h.out);  // that storm has left the window
    h.burst(t0 + 36min, 5, -0.5, 200);
    EXPECT_EQ(h.fires(), 2u);
}

TEST(detector_cooldown, a_storm_still_raging_fires_when_cooldown_ends) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 5)}), all_of({cond(metric::count, comparison::lt, 1)}));
    r.cooldown = 10min;
    harness h(r);
    h.burst(t0, 5, -0.5);
    h.d.tick(t0 + 6min, h.out);
    ASSERT_EQ(h.clears(), 1u);
    for (int i = 0; i < 9; ++i) h.burst(t0 + 7min + i * 1min, 5, -0.5, 100 + 10 * static_cast<std::uint64_t>(i));
    EXPECT_EQ(h.fires(), 1u);
    h.d.tick(t0 + 16min, h.out);
    EXPECT_EQ(h.fires(), 2u);
    EXPECT_EQ(h.out.back().at, t0 + 16min);
}

TEST(detector_authors, per_author_limit_caps_counts) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 10)}));
    r.max_per_author = 3;
    harness h(r);
    for (int i = 0; i < 50; ++i) h.see(t0 + i * 100ms, neg(42));  // a bot flood from one account
    auto m = h.m(t0 + 5s);
    EXPECT_DOUBLE_EQ(m.count, 3);
    EXPECT_DOUBLE_EQ(m.negative_count, 3);
    EXPECT_DOUBLE_EQ(m.unique_authors, 1);
    EXPECT_EQ(h.fires(), 0u);
    // Once those three leave the window the author may contribute again.
    h.see(t0 + 5min + 10s, neg(42));
    EXPECT_DOUBLE_EQ(h.m(t0 + 5min + 10s).count, 1);
    // Other authors are not limited by one author's flood.
    h.burst(t0 + 5min + 20s, 9, -0.8);
    EXPECT_EQ(h.fires(), 1u);
}

TEST(detector_authors, limit_is_a_sliding_window) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1000)}));
    r.max_per_author = 2;
    harness h(r);
    h.see(t0, neg(1));
    h.see(t0 + 4min, neg(1));
    h.see(t0 + 4min + 30s, neg(1));  // third within 5 minutes: not counted
    EXPECT_DOUBLE_EQ(h.m(t0 + 4min + 30s).count, 2);
    h.see(t0 + 5min + 30s, neg(1));  // the first has left: counted
    EXPECT_DOUBLE_EQ(h.m(t0 + 5min + 30s).count, 2);
}

TEST(detector_keys, keys_are_independent_and_rules_too) {
    std::vector<detector_settings> rules{rule(all_of({cond(metric::count, comparison::ge, 3)})),
                                         rule(all_of({cond(metric::count, comparison::ge, 2)}))};
    harness h(rules);
    h.see(t0, neg(1), "a", 0);
    h.see(t0, neg(2), "b", 0);
    h.see(t0, neg(3), "a", 1);
    h.see(t0, neg(4), "a", 1);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(h.out[0].rule, 1u);
    EXPECT_FALSE(h.d.firing(0, "a"));
    EXPECT_TRUE(h.d.firing(1, "a"));
    EXPECT_EQ(h.d.live_keys(), 3u);
}

TEST(detector_keys, least_recently_seen_key_is_evicted) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1000)}));
    r.max_keys = 3;
    harness h(r);
    h.see(t0, neg(1), "a");
    h.see(t0 + 1s, neg(1), "b");
    h.see(t0 + 2s, neg(1), "c");
    h.see(t0 + 3s, neg(1), "a");  // a is fresh again; b is now the oldest
    h.see(t0 + 4s, neg(1), "d");
    EXPECT_EQ(h.d.live_keys(), 3u);
    EXPECT_EQ(h.d.evicted_keys(), 1u);
    EXPECT_FALSE(h.d.metrics(0, "b", t0 + 4s).has_value());
    EXPECT_TRUE(h.d.metrics(0, "a", t0 + 4s).has_value());
    EXPECT_DOUBLE_EQ(h.d.metrics(0, "a", t0 + 4s)->count, 2);
}

TEST(detector_keys, firing_keys_survive_eviction_unless_all_fire) {
    auto r = rule(all_of({cond(metric::negative_count, comparison::ge, 2)}));
    r.max_keys = 2;
    harness h(r);
    h.see(t0, neg(1), "storm");
    h.see(t0, neg(2), "storm");
    ASSERT_TRUE(h.d.firing(0, "storm"));
    h.see(t0 + 1s, pos(1), "calm");
    h.see(t0 + 2s, neg(1), "new");  // storm is oldest but firing: calm goes
    EXPECT_TRUE(h.d.firing(0, "storm"));
    EXPECT_FALSE(h.d.metrics(0, "calm", t0 + 2s).has_value());
    h.see(t0 + 3s, neg(3), "new");
    ASSERT_TRUE(h.d.firing(0, "new"));
    h.see(t0 + 4s, neg(1), "third");  // both firing: the least recently seen (storm) goes
    EXPECT_FALSE(h.d.metrics(0, "storm", t0 + 4s).has_value());
    EXPECT_TRUE(h.d.firing(0, "new"));
    EXPECT_EQ(h.d.evicted_keys(), 2u);
    EXPECT_EQ(h.clears(), 0u);  // eviction never pretends a storm ended
}

// Issue 11: with group_by on wire values a sender can invent keys at will. Rotating through
// thousands of fresh keys must cycle through those keys, not push out a key that has learned
// what normal is or one whose incident is open.
TEST(detector_keys, a_rotation_of_fresh_keys_never_evicts_a_key_with_a_baseline_or_a_firing_key) {
    auto r = rule(all_of({cond(metric::negative_count, comparison::ge, 30)}));
    r.baseline = 10min;
    r.max_keys = 50;
    harness h(r);
    // "real" learns a baseline: 6 mentions a minute for an hour (its early buckets leave the window).
    core::timestamp t = t0;
    for (int i = 0; i < 360; ++i, t += 10s) h.see(t, pos(static_cast<std::uint64_t>(i % 7 + 1)), "real");
    const double learned = h.m(t, "real").baseline_rate;
    ASSERT_GT(learned, 3.0);
    // "storm" fires.
    h.burst(t, 30, -0.8, 5000, "storm");
    ASSERT_TRUE(h.d.firing(0, "storm"));
    const auto fires_before = h.fires();
    // Neither is seen again while an attacker rotates through 5,000 fresh keys.
    for (int i = 0; i < 5000; ++i) h.see(t + 1s + i * 10ms, neg(9), "attacker-" + std::to_string(i));
    const core::timestamp end = t + 1s + 5000 * 10ms;
    EXPECT_EQ(h.d.live_keys(), 50u);
    EXPECT_EQ(h.d.evicted_keys(), 5000u - 48u);
    ASSERT_TRUE(h.d.tracks(0, "real"));
    EXPECT_NEAR(h.m(end, "real").baseline_rate, learned, 0.5);
    EXPECT_TRUE(h.d.firing(0, "storm"));
    EXPECT_EQ(h.fires(), fires_before);
    EXPECT_EQ(h.clears(), 0u);
    // The newest attacker keys are the ones kept.
    EXPECT_TRUE(h.d.tracks(0, "attacker-4999"));
    EXPECT_FALSE(h.d.tracks(0, "attacker-0"));
}

TEST(detector_keys, without_plain_keys_the_oldest_key_with_a_baseline_goes_before_a_firing_one) {
    auto r = rule(all_of({cond(metric::negative_count, comparison::ge, 30)}));
    r.baseline = 10min;
    r.max_keys = 2;
    harness h(r);
    core::timestamp t = t0;
    for (int i = 0; i < 360; ++i, t += 10s) h.see(t, pos(1), "learned");
    h.burst(t, 30, -0.8, 5000, "storm");
    ASSERT_TRUE(h.d.firing(0, "storm"));
    h.see(t + 1s, neg(1), "new");  // nothing plain: the learned key is the least valuable
    EXPECT_FALSE(h.d.tracks(0, "learned"));
    EXPECT_TRUE(h.d.firing(0, "storm"));
    h.see(t + 2s, neg(2), "newer");  // "new" is plain and goes, the firing key stays
    EXPECT_FALSE(h.d.tracks(0, "new"));
    EXPECT_TRUE(h.d.firing(0, "storm"));
}

TEST(detector_keys, idle_keys_retire_on_tick) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0, pos(1), "a");
    h.see(t0, pos(1), "b");
    h.d.tick(t0 + 1min, h.out);
    EXPECT_EQ(h.d.live_keys(), 2u);
    h.d.tick(t0 + 6min, h.out);
    EXPECT_EQ(h.d.live_keys(), 0u);
    EXPECT_EQ(h.d.evicted_keys(), 0u);
}

TEST(detector_time, observations_older_than_the_window_are_ignored_and_counted) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0 + 10min, neg(1));
    h.see(t0 + 8min, neg(2));  // late, but inside the window: counted
    h.see(t0 + 4min, neg(3));  // before the window start: ignored
    EXPECT_DOUBLE_EQ(h.m(t0 + 10min).count, 2);
    EXPECT_DOUBLE_EQ(h.m(t0 + 10min).unique_authors, 2);
    EXPECT_EQ(h.d.ignored_observations(), 1u);
}

TEST(detector_time, tick_in_the_past_changes_nothing) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 2)}), all_of({cond(metric::count, comparison::lt, 1)}));
    harness h(r);
    h.burst(t0 + 10min, 2, -0.5);
    ASSERT_EQ(h.fires(), 1u);
    h.d.tick(t0, h.out);
    EXPECT_EQ(h.clears(), 0u);
    EXPECT_DOUBLE_EQ(h.m(t0 + 10min).count, 2);
}

// A steady rate of 10 mentions per minute: after some half-lives the baseline has learned it.
void steady(harness& h, core::timestamp from, core::timestamp to, int per_minute) {
    const auto step = std::chrono::duration_cast<core::duration>(1min) / per_minute;
    std::uint64_t a = 1;
    for (auto t = from; t < to; t += step) h.see(t, observation{a++ % 500 + 1, 0.1});
}

TEST(detector_baseline, steady_rate_gives_volume_ratio_near_one) {
    auto r = rule(all_of({cond(metric::volume_ratio, comparison::ge, 4)}));
    r.baseline = 10min;
    r.min_baseline_rate = 5;  // a new key starts at the floor: keep warm-up below 4x
    harness h(r);
    steady(h, t0, t0 + 2h, 10);
    const auto m = h.m(t0 + 2h);
    EXPECT_NEAR(m.rate, 10, 0.5);
    EXPECT_NEAR(m.baseline_rate, 10, 0.5);
    EXPECT_NEAR(m.volume_ratio, 1, 0.1);
    EXPECT_LT(std::abs(m.zscore), 2);
    EXPECT_EQ(h.fires(), 0u);
}

TEST(detector_baseline, a_tenfold_burst_fires_and_does_not_inflate_the_baseline_at_once) {
    auto r = rule(all_of({cond(metric::volume_ratio, comparison::ge, 4), cond(metric::zscore, comparison::ge, 3)}));
    r.baseline = 30min;
    r.min_baseline_rate = 5;
    harness h(r);
    steady(h, t0, t0 + 4h, 10);
    ASSERT_EQ(h.fires(), 0u);
    const double before = h.m(t0 + 4h).baseline_rate;
    EXPECT_NEAR(before, 10, 0.5);
    // 100 per minute from new authors.
    std::uint64_t a = 10000;
    core::timestamp fired_at{};
    for (auto t = t0 + 4h; t < t0 + 4h + 5min; t += 600ms) {
        h.see(t, observation{a++, -0.7});
        if (h.fires() == 1 && fired_at == core::timestamp{}) fired_at = t;
    }
    EXPECT_EQ(h.fires(), 1u);
    EXPECT_LT(fired_at - (t0 + 4h), 2min);
    // The burst has not left the window yet, so "normal" has not moved.
    const auto m = h.m(t0 + 4h + 5min - 1s);
    EXPECT_NEAR(m.baseline_rate, before, 0.5);
    EXPECT_GT(m.volume_ratio, 8);
    EXPECT_GT(m.zscore, 10);
}

TEST(detector_baseline, quiet_baseline_is_floored_by_min_baseline_rate) {
    auto r = rule(all_of({cond(metric::volume_ratio, comparison::ge, 4)}));
    r.baseline = 10min;
    r.min_baseline_rate = 2.0;
    harness h(r);
    h.see(t0, pos(1));
    h.see(t0 + 3h, pos(2));  // hours of silence have decayed the learned rate towards zero
    const auto m = h.m(t0 + 3h);
    EXPECT_LT(m.baseline_rate, 2.0);
    EXPECT_DOUBLE_EQ(m.volume_ratio, m.rate / 2.0);
    // 3 mentions in 5 minutes is 0.6/min: far from 4x the floor even though the learned rate is ~0.
    EXPECT_EQ(h.fires(), 0u);
}

TEST(detector_baseline, baseline_learns_across_gaps_without_ticks) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1e9)}));
    r.baseline = 1h;
    r.min_baseline_rate = 0;
    harness h(r);
    steady(h, t0, t0 + 6h, 10);
    const double learned = h.m(t0 + 6h).baseline_rate;
    EXPECT_NEAR(learned, 10, 0.5);
    // An hour of silence: the last 5 busy minutes leave the window (still ~10/min), then 55
    // minutes of empty buckets decay the rate by 2^(-55/60) with a one-hour half-life.
    const double later = h.m(t0 + 7h).baseline_rate;
    EXPECT_NEAR(later, learned * std::exp2(-55.0 / 60.0), 0.3);
    h.see(t0 + 7h, pos(1));
    EXPECT_NEAR(h.m(t0 + 7h).baseline_rate, later, 1e-9);
}

TEST(detector_memory, quiet_keys_stay_under_two_kib) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1e9)})));
    for (int i = 0; i < 1000; ++i) {
        const std::string key = "topic-" + std::to_string(i);
        for (int j = 0; j < 5; ++j) h.see(t0 + j * 10s, neg(static_cast<std::uint64_t>(j) + 1), key);
    }
    ASSERT_EQ(h.d.live_keys(), 1000u);
    const double per_key = static_cast<double>(h.d.memory_bytes()) / 1000.0;
    RecordProperty("bytes_per_key", std::to_string(per_key));
    EXPECT_LE(per_key, 2048.0);
}

}  // namespace
}  // namespace crisisd::detect

namespace crisisd::detect {
namespace {

TEST(detector_snapshot, restore_keeps_windows_baselines_authors_and_firing_state) {
    auto r = rule(all_of({cond(metric::negative_count, comparison::ge, 10)}),
                  all_of({cond(metric::count, comparison::lt, 1)}));
    r.baseline = 30min;
    r.max_per_author = 2;
    harness before(r);
    steady(before, t0, t0 + 2h, 3);
    before.burst(t0 + 2h, 12, -0.9, 7000);
    for (int i = 0; i < 5; ++i) before.see(t0 + 2h + 2s, neg(7000));  // capped at 2 per window
    ASSERT_TRUE(before.d.firing(0, "liwest"));
    before.see(t0 + 2h + 3s, pos(1), "calm");
    const std::string bytes = before.d.save_rule(0);

    harness after(r);
    ASSERT_TRUE(after.d.load_rule(0, bytes));
    EXPECT_EQ(after.d.live_keys(), 2u);
    const auto a = after.m(t0 + 2h + 3s);
    const auto b = before.m(t0 + 2h + 3s);
    EXPECT_DOUBLE_EQ(a.count, b.count);
    EXPECT_DOUBLE_EQ(a.negative_count, b.negative_count);
    EXPECT_DOUBLE_EQ(a.unique_authors, b.unique_authors);
    EXPECT_DOUBLE_EQ(a.mean_compound, b.mean_compound);
    EXPECT_DOUBLE_EQ(a.baseline_rate, b.baseline_rate);
    EXPECT_DOUBLE_EQ(a.zscore, b.zscore);
    EXPECT_TRUE(after.d.firing(0, "liwest"));
    // The per-author limit carries over: author 7000 already used its two.
    after.see(t0 + 2h + 4s, neg(7000));
    EXPECT_DOUBLE_EQ(after.m(t0 + 2h + 4s).count, b.count);
    // Still firing, no second fire; the storm ends and it clears.
    after.d.tick(t0 + 2h + 10min, after.out);
    EXPECT_EQ(after.fires(), 0u);
    EXPECT_EQ(after.clears(), 1u);
}

TEST(detector_snapshot, a_changed_window_keeps_only_the_baseline) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1e9)}));
    r.baseline = 30min;
    harness before(r);
    steady(before, t0, t0 + 3h, 10);
    const double learned = before.m(t0 + 3h).baseline_rate;
    auto changed = r;
    changed.window = 10min;
    harness after(changed);
    ASSERT_TRUE(after.d.load_rule(0, before.d.save_rule(0)));
    const auto m = after.m(t0 + 3h);
    EXPECT_DOUBLE_EQ(m.count, 0);
    EXPECT_NEAR(m.baseline_rate, learned, 0.1);  // within one bucket of folding
}

TEST(detector_snapshot, garbage_is_refused_and_changes_nothing) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1e9)})));
    h.see(t0, neg(1), "a");
    harness other(rule(all_of({cond(metric::count, comparison::ge, 1e9)})));
    other.see(t0, neg(1), "b");
    const std::string good = other.d.save_rule(0);
    EXPECT_FALSE(h.d.load_rule(0, "not a snapshot"));
    EXPECT_FALSE(h.d.load_rule(0, std::string_view(good).substr(0, good.size() - 3)));
    EXPECT_FALSE(h.d.load_rule(5, good));
    EXPECT_EQ(h.d.live_keys(), 1u);
    EXPECT_TRUE(h.d.load_rule(0, good));
    EXPECT_EQ(h.d.live_keys(), 2u);
}

TEST(detector_hysteresis, any_with_for_holds_while_either_condition_holds) {
    // fire_when: any [negative_count >= 5, zscore >= 1000], for 2m. Only the first ever holds;
    // the group counts as holding as long as one of its conditions does.
    harness h(rule(any_of({cond(metric::negative_count, comparison::ge, 5), cond(metric::zscore, comparison::ge, 1000)}, 2min)));
    h.burst(t0, 5, -0.8);
    EXPECT_EQ(h.fires(), 0u);
    std::vector<signal> out;
    h.d.tick(t0 + 119s, out);
    EXPECT_TRUE(out.empty());
    h.d.tick(t0 + 121s, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, signal_kind::fire);
}

TEST(detector_hysteresis, any_with_for_restarts_when_no_condition_holds) {
    harness g(rule(any_of({cond(metric::negative_count, comparison::ge, 5), cond(metric::count, comparison::ge, 8)}, 2min)));
    g.burst(t0, 5, -0.8);
    std::vector<signal> out;
    g.d.tick(t0 + 90s, out);
    EXPECT_TRUE(out.empty());
    g.d.tick(t0 + 5min + 10s, out);  // the window is empty: no condition holds, the hold ends
    EXPECT_EQ(out.size(), 0u);
    g.burst(t0 + 6min + 1s, 8, 0.5, 5000);
    g.d.tick(t0 + 7min, out);
    EXPECT_EQ(out.size() + g.fires(), 0u) << "a new hold began at 6m01s";
    g.d.tick(t0 + 8min + 3s, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].at, t0 + 8min + 3s);
}

TEST(detector_keys, lists_live_keys_least_recently_seen_first) {
    harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
    h.see(t0, neg(1), "a");
    h.see(t0 + 1s, neg(1), "b");
    h.see(t0 + 2s, neg(1), "a");
    EXPECT_EQ(h.d.keys(0), (std::vector<std::string>{"b", "a"}));
    EXPECT_TRUE(h.d.keys(7).empty());
}

TEST(detector_keys, evictions_are_counted) {
    detector_settings s = rule(all_of({cond(metric::count, comparison::ge, 1000)}));
    s.max_keys = 2;
    harness h(s);
    h.see(t0, neg(1), "a");
    h.see(t0 + 1s, neg(1), "b");
    EXPECT_EQ(h.d.evicted_keys(), 0u);
    h.see(t0 + 2s, neg(1), "c");
    h.see(t0 + 3s, neg(1), "d");
    EXPECT_EQ(h.d.evicted_keys(), 2u);
    EXPECT_EQ(h.d.keys(0), (std::vector<std::string>{"c", "d"}));
}

TEST(detector_snapshot, cooldown_survives_a_restart) {
    detector_settings s = rule(all_of({cond(metric::negative_count, comparison::ge, 5)}),
                               all_of({cond(metric::negative_count, comparison::lt, 1)}));
    s.cooldown = 30min;
    harness h(s);
    h.burst(t0, 5, -0.8);
    ASSERT_EQ(h.fires(), 1u);
    std::vector<signal> out;
    h.d.tick(t0 + 6min, out);  // the window empties: clear, cooldown until 36m
    ASSERT_EQ(out.size(), 1u);
    const std::string saved = h.d.save_rule(0);

    harness restarted(s);
    ASSERT_TRUE(restarted.d.load_rule(0, saved));
    restarted.burst(t0 + 10min, 5, -0.8, 7000);
    EXPECT_EQ(restarted.fires(), 0u) << "still cooling down after the restart";
    out.clear();
    restarted.d.tick(t0 + 36min + 1s, out);
    EXPECT_EQ(out.size(), 0u) << "those mentions have left the window by then";
}

}  // namespace
}  // namespace crisisd::detect

namespace crisisd::detect {
namespace {

// The wall clock set back an hour: without a shift the next mentions are an hour older than the
// window's head and are ignored, so the key is blind for the whole hour.
TEST(detector_shift, a_step_back_keeps_the_window_and_the_next_mentions_count) {
    harness h(rule(all_of({cond(metric::unique_authors, comparison::ge, 10)})));
    h.burst(t0, 9, -0.8);
    EXPECT_EQ(h.fires(), 0u);
    h.d.shift(-1h);
    EXPECT_EQ(h.m(t0 - 1h + 2s).unique_authors, 9.0);
    h.see(t0 - 1h + 2s, neg(5000));
    EXPECT_EQ(h.fires(), 1u);
}

// Set forward: without a shift the window would be an hour old and empty at the next mention.
TEST(detector_shift, a_step_forward_keeps_the_window_instead_of_emptying_it) {
    harness h(rule(all_of({cond(metric::unique_authors, comparison::ge, 10)})));
    h.burst(t0, 9, -0.8);
    h.d.shift(1h);
    EXPECT_EQ(h.m(t0 + 1h + 2s).unique_authors, 9.0);
    h.see(t0 + 1h + 2s, neg(5000));
    EXPECT_EQ(h.fires(), 1u);
    // The window still ends its length after the (shifted) mentions.
    EXPECT_EQ(h.m(t0 + 1h + 6min).unique_authors, 0.0);
}

// Shifts that are not whole buckets, both ways: the ring turns with the buckets, so mentions
// stay in the buckets they were in relative to each other and leave the window on time.
TEST(detector_shift, the_ring_turns_with_a_shift_of_any_size) {
    for (core::duration delta : {core::duration{-3h - 7s}, core::duration{+11s}, core::duration{+2h + 3min + 1s}}) {
        harness h(rule(all_of({cond(metric::count, comparison::ge, 1000)})));
        for (int i = 0; i < 5; ++i) h.see(t0 + i * 1min, neg(static_cast<std::uint64_t>(100 + i)));
        h.d.shift(delta);
        const core::timestamp now = t0 + 4min + delta;
        EXPECT_EQ(h.m(now).count, 5.0) << delta.count();
        // The oldest mention leaves the window a minute later, the newest five; a shift moves
        // whole buckets (5 s here), so each is checked a bucket and more either side.
        EXPECT_EQ(h.m(now + 1min - 10s).count, 5.0) << delta.count();
        EXPECT_EQ(h.m(now + 1min + 10s).count, 4.0) << delta.count();
        EXPECT_EQ(h.m(now + 5min - 10s).count, 1.0) << delta.count();
        EXPECT_EQ(h.m(now + 5min + 10s).count, 0.0) << delta.count();
    }
}

}  // namespace
}  // namespace crisisd::detect

namespace crisisd::detect {
namespace {

// Cluster mode: a partition's owner saves only its partition's keys and forgets them when the
// partition moves; the saved bytes load like a whole rule's.
TEST(detector_snapshot, save_keys_keeps_only_the_chosen_keys_and_forget_keys_drops_them) {
    auto r = rule(all_of({cond(metric::count, comparison::ge, 1e9)}));
    harness before(r);
    before.see(t0, neg(1), "mine");
    before.see(t0, neg(2), "mine");
    before.see(t0, neg(3), "theirs");
    const std::string bytes = before.d.save_keys(0, [](std::string_view key) { return key == "mine"; });

    harness after(r);
    ASSERT_TRUE(after.d.load_rule(0, bytes));
    EXPECT_TRUE(after.d.tracks(0, "mine"));
    EXPECT_FALSE(after.d.tracks(0, "theirs"));
    EXPECT_DOUBLE_EQ(after.d.metrics(0, "mine", t0)->count, 2);

    EXPECT_EQ(before.d.forget_keys(0, [](std::string_view key) { return key == "mine"; }), 1u);
    EXPECT_FALSE(before.d.tracks(0, "mine"));
    EXPECT_TRUE(before.d.tracks(0, "theirs"));
}

}  // namespace
}  // namespace crisisd::detect
