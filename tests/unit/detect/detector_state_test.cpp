// Detector state through the state database: what the daemon writes every minute and at
// shutdown, and adopts at start (app/detector_state.hpp), against a real SQLite file.
#include "app/detector_state.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

namespace crisisd::app {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;

struct temp_db {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("crisisd-detector-state-" + std::to_string(std::random_device{}()) + ".db"))
                           .string();
    ~temp_db() {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
    std::unique_ptr<outbox::store> open() const {
        auto s = outbox::store::open(path);
        EXPECT_TRUE(std::holds_alternative<std::unique_ptr<outbox::store>>(s));
        return std::move(std::get<std::unique_ptr<outbox::store>>(s));
    }
};

pipeline::rule_settings outage_rule() {
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.match.keywords = {"liwest"};
    r.detect.window = 5min;
    r.detect.baseline = 6h;
    r.detect.fire_when = {true,
                          {{detect::metric::negative_count, detect::comparison::ge, 10},
                           {detect::metric::unique_authors, detect::comparison::ge, 8}},
                          {}};
    r.detect.clear_when = {true, {{detect::metric::negative_count, detect::comparison::lt, 2}}, 5min};
    return r;
}

std::unique_ptr<pipeline::pipeline> make(std::vector<pipeline::rule_settings> rules) {
    pipeline::pipeline_settings ps;
    ps.rules = std::move(rules);
    auto created = pipeline::pipeline::create(std::move(ps));
    return std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
}

// A storm: 12 angry customers in 12 seconds.
void storm(pipeline::pipeline& p, core::timestamp from) {
    pipeline::step_result step;
    for (int i = 0; i < 12; ++i) {
        core::mention m;
        m.id = "m" + std::to_string(i);
        m.author = "@user" + std::to_string(i);
        m.author_vouched = true;  // as a platform stream delivers them
        m.source = "stream";
        m.lang = "en";
        m.text = "Liwest down again, no internet, this is terrible and awful!";
        p.process(m, from + i * 1s, step);
    }
}

TEST(detector_state, a_firing_key_and_its_window_survive_a_restart) {
    temp_db db;
    {
        auto p = make({outage_rule()});
        storm(*p, t0);
        ASSERT_TRUE(p->detector().firing(0, "liwest"));
        auto store = db.open();
        auto saved = save_detector_state(*p, *store);
        EXPECT_EQ(saved.rules, 1u);
    }
    auto p = make({outage_rule()});
    auto store = db.open();
    auto restored = restore_detector_state(*p, *store);
    EXPECT_EQ(restored.rules, 1u);
    EXPECT_EQ(restored.changed, 0u);
    EXPECT_TRUE(p->detector().firing(0, "liwest")) << "a restart must not post 'resolved' or re-open";
    auto m = p->metrics(0, "liwest", t0 + 20s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->count, 12);
    EXPECT_EQ(m->unique_authors, 12);
}

TEST(detector_state, a_rule_with_other_keywords_starts_fresh) {
    temp_db db;
    {
        auto p = make({outage_rule()});
        storm(*p, t0);
        auto store = db.open();
        save_detector_state(*p, *store);
    }
    auto changed = outage_rule();
    changed.match.keywords.push_back("magenta");
    auto p = make({changed});
    auto store = db.open();
    auto restored = restore_detector_state(*p, *store);
    EXPECT_EQ(restored.rules, 0u);
    EXPECT_EQ(restored.changed, 1u);
    EXPECT_EQ(p->live_keys(), 0u);
}

TEST(detector_state, a_changed_threshold_keeps_the_state) {
    temp_db db;
    {
        auto p = make({outage_rule()});
        storm(*p, t0);
        auto store = db.open();
        save_detector_state(*p, *store);
    }
    auto tuned = outage_rule();
    tuned.detect.fire_when.conditions[0].threshold = 30;
    tuned.severity = "critical";
    auto p = make({tuned});
    auto store = db.open();
    EXPECT_EQ(restore_detector_state(*p, *store).rules, 1u);
    EXPECT_EQ(p->live_keys(), 1u);
}

TEST(detector_state, unreadable_state_is_skipped_and_reported) {
    temp_db db;
    auto store = db.open();
    store->set_meta(detector_state_key(outage_rule()), "v1 " + std::string(16, '0') + " !!!");
    store->set_meta("detector:other", "garbage");
    auto p = make({outage_rule()});
    auto restored = restore_detector_state(*p, *store);
    EXPECT_EQ(restored.rules, 0u);
    EXPECT_EQ(restored.changed, 1u);  // the fingerprint does not match first
    auto other = outage_rule();
    other.name = "other";
    auto q = make({other});
    EXPECT_EQ(restore_detector_state(*q, *store).unreadable, 1u);
    // Same fingerprint, bytes that are not a snapshot.
    store->set_meta(detector_state_key(outage_rule()),
                    "v1 " + [] {
                        char buf[17];
                        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rule_state_fingerprint(outage_rule())));
                        return std::string(buf);
                    }() + " AAAA");
    EXPECT_EQ(restore_detector_state(*p, *store).unreadable, 1u);
}

TEST(detector_state, a_reload_carries_unchanged_rules_over) {
    auto p = make({outage_rule()});
    storm(*p, t0);
    auto second = outage_rule();
    second.name = "second";
    second.match.keywords = {"magenta"};
    auto q = make({second, outage_rule()});
    EXPECT_EQ(carry_detector_state(*p, *q), 1u);
    EXPECT_TRUE(q->detector().firing(1, "liwest"));
}

TEST(detector_state, fingerprint_ignores_what_does_not_change_the_state) {
    auto a = outage_rule();
    auto b = outage_rule();
    b.detect.cooldown = 1h;
    b.detect.clear_when.hold = 30min;
    b.playbook = "x";
    EXPECT_EQ(rule_state_fingerprint(a), rule_state_fingerprint(b));
    b.detect.window = 10min;
    EXPECT_NE(rule_state_fingerprint(a), rule_state_fingerprint(b));
    auto c = outage_rule();
    c.detect.group_by = detect::group_topic | detect::group_lang;
    EXPECT_NE(rule_state_fingerprint(a), rule_state_fingerprint(c));
}

}  // namespace
}  // namespace crisisd::app
