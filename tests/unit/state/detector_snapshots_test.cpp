// Detector state through the state database: what the daemon writes every minute and at
// shutdown, and adopts at start (state/detector_snapshots.hpp), against a real SQLite file.
#include "state/database.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>

namespace crisisd::state {
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
    std::unique_ptr<database> open() const {
        auto s = database::open(path);
        EXPECT_TRUE(std::holds_alternative<std::unique_ptr<database>>(s));
        return std::move(std::get<std::unique_ptr<database>>(s));
    }
    // Writes a meta row behind the stores' back, as a damaged or foreign file would have it.
    void put_meta(const std::string& key, const std::string& value) const {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(raw, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1, &s, nullptr);
        sqlite3_bind_text(s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, value.c_str(), -1, SQLITE_TRANSIENT);
        EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
        sqlite3_close(raw);
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
        auto saved = store->detectors().save(*p);
        EXPECT_EQ(saved.rules, 1u);
    }
    auto p = make({outage_rule()});
    auto store = db.open();
    auto restored = store->detectors().restore(*p);
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
        store->detectors().save(*p);
    }
    auto changed = outage_rule();
    changed.match.keywords.push_back("magenta");
    auto p = make({changed});
    auto store = db.open();
    auto restored = store->detectors().restore(*p);
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
        store->detectors().save(*p);
    }
    auto tuned = outage_rule();
    tuned.detect.fire_when.conditions[0].threshold = 30;
    tuned.severity = incident::severity_level::critical;
    auto p = make({tuned});
    auto store = db.open();
    EXPECT_EQ(store->detectors().restore(*p).rules, 1u);
    EXPECT_EQ(p->live_keys(), 1u);
}

TEST(detector_state, unreadable_state_is_skipped_and_reported) {
    temp_db db;
    db.open();
    db.put_meta("detector:isp-outage", "v1 " + std::string(16, '0') + " !!!");
    db.put_meta("detector:other", "garbage");
    auto store = db.open();
    auto p = make({outage_rule()});
    auto restored = store->detectors().restore(*p);
    EXPECT_EQ(restored.rules, 0u);
    EXPECT_EQ(restored.changed, 1u);  // the fingerprint does not match first
    auto other = outage_rule();
    other.name = "other";
    auto q = make({other});
    EXPECT_EQ(store->detectors().restore(*q).unreadable, 1u);
    // Same fingerprint, bytes that are not a snapshot.
    db.put_meta("detector:isp-outage",
                    "v1 " + [] {
                        char buf[17];
                        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rule_fingerprint(outage_rule())));
                        return std::string(buf);
                    }() + " AAAA");
    EXPECT_EQ(store->detectors().restore(*p).unreadable, 1u);
}

TEST(detector_state, a_reload_carries_unchanged_rules_over) {
    auto p = make({outage_rule()});
    storm(*p, t0);
    auto second = outage_rule();
    second.name = "second";
    second.match.keywords = {"magenta"};
    auto q = make({second, outage_rule()});
    EXPECT_EQ(carry_detector_state(*p, *q), (std::vector<bool>{false, true}));
    EXPECT_TRUE(q->detector().firing(1, "liwest"));
}

TEST(detector_state, fingerprint_ignores_what_does_not_change_the_state) {
    auto a = outage_rule();
    auto b = outage_rule();
    b.detect.cooldown = 1h;
    b.detect.clear_when.hold = 30min;
    b.playbook = "x";
    EXPECT_EQ(rule_fingerprint(a), rule_fingerprint(b));
    b.detect.window = 10min;
    EXPECT_NE(rule_fingerprint(a), rule_fingerprint(b));
    auto c = outage_rule();
    c.detect.group_by = detect::group_topic | detect::group_lang;
    EXPECT_NE(rule_fingerprint(a), rule_fingerprint(c));
}


// One definition of "the same rule" for a restart and a reload: for each kind of change, the
// state is either adopted by both paths or by neither. (Issue 12: a reload used to drop the
// state when only a threshold changed, while a restart kept it.)
TEST(detector_state, restart_and_reload_agree_on_what_keeps_the_state) {
    struct variant {
        const char* what;
        std::function<void(pipeline::rule_settings&)> change;
        bool keeps;
    };
    const std::vector<variant> variants = {
        {"nothing", [](auto&) {}, true},
        {"a fire threshold", [](auto& r) { r.detect.fire_when.conditions[0].threshold = 30; }, true},
        {"a clear condition", [](auto& r) { r.detect.clear_when.conditions[0].threshold = 1; }, true},
        {"for:", [](auto& r) { r.detect.fire_when.hold = 2min; }, true},
        {"cooldown", [](auto& r) { r.detect.cooldown = 1h; }, true},
        {"max_keys", [](auto& r) { r.detect.max_keys = 50; }, true},
        {"severity", [](auto& r) { r.severity = incident::severity_level::critical; }, true},
        {"max_incidents_per_hour", [](auto& r) { r.max_incidents_per_hour = 1; }, true},
        {"keywords", [](auto& r) { r.match.keywords.push_back("magenta"); }, false},
        {"exclusions", [](auto& r) { r.match.exclude = {"fixed"}; }, false},
        {"languages", [](auto& r) { r.match.languages = {"de"}; }, false},
        {"sources", [](auto& r) { r.match.sources = {"jetstream"}; }, false},
        {"window", [](auto& r) { r.detect.window = 10min; }, false},
        {"baseline", [](auto& r) { r.detect.baseline = 1h; }, false},
        {"group_by", [](auto& r) { r.detect.group_by = detect::group_topic | detect::group_lang; }, false},
        {"negative_threshold", [](auto& r) { r.detect.negative_threshold = -0.5; }, false},
        {"max_per_author", [](auto& r) { r.detect.max_per_author = 1; }, false},
        {"min_baseline_rate", [](auto& r) { r.detect.min_baseline_rate = 5; }, false},
    };
    for (const auto& v : variants) {
        SCOPED_TRACE(v.what);
        temp_db db;
        auto before = make({outage_rule()});
        storm(*before, t0);
        db.open()->detectors().save(*before);
        auto changed = outage_rule();
        v.change(changed);

        auto restarted = make({changed});
        const bool restart_kept = db.open()->detectors().restore(*restarted).rules == 1;
        auto reloaded = make({changed});
        const bool reload_kept = carry_detector_state(*before, *reloaded).at(0);

        EXPECT_EQ(restart_kept, v.keeps);
        EXPECT_EQ(reload_kept, v.keeps);
        EXPECT_EQ(restarted->live_keys(), reloaded->live_keys());
    }
}

}  // namespace
}  // namespace crisisd::state
