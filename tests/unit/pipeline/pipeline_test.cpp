// The pure chain from parsed mention to incident actions, driven by a manual clock: what the
// daemon does live and replay does in event time.
#include "pipeline/pipeline.hpp"

#include <gtest/gtest.h>

#include "fakes/manual_clock.hpp"
#include "parse/generic.hpp"

using namespace crisisd;
using namespace std::chrono_literals;

namespace {

detect::condition cond(detect::metric m, detect::comparison op, double v) {
    detect::condition c;
    c.what = m;
    c.op = op;
    c.threshold = v;
    return c;
}

pipeline::pipeline_settings outage_settings() {
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.match.keywords = {"Liwest", "#liwest"};
    r.match.languages = {"de", "en"};
    r.detect.window = 5min;
    r.detect.baseline = 6h;
    r.detect.min_baseline_rate = 1;
    r.detect.fire_when.conditions = {cond(detect::metric::negative_count, detect::comparison::ge, 10),
                                     cond(detect::metric::unique_authors, detect::comparison::ge, 5),
                                     cond(detect::metric::negative_ratio, detect::comparison::ge, 0.6),
                                     cond(detect::metric::volume_ratio, detect::comparison::ge, 4)};
    r.detect.clear_when.conditions = {cond(detect::metric::negative_count, detect::comparison::lt, 2)};
    r.detect.clear_when.hold = 3min;
    r.severity = incident::severity_level::critical;
    r.playbook = "holding";

    incident::playbook_settings pb;
    pb.name = "holding";
    incident::step_settings notify;
    notify.kind = incident::step_kind::notify;
    notify.channels = {"pager"};
    incident::step_settings statement;
    statement.kind = incident::step_kind::statement;
    statement.channels = {"brand"};
    statement.statement = "holding";
    statement.approval_mode = incident::approval::veto;
    statement.wait = 3min;
    pb.steps = {notify, statement};

    incident::statement_settings st;
    st.name = "holding";
    st.approved_by = "Comms";
    st.approved_at = "2026-11-01";
    st.text = {{"de", "Wir wissen von der Störung bei {topic}."}, {"en", "We know about the {topic} outage."}};

    pipeline::pipeline_settings s;
    s.rules = {r};
    s.incidents.playbooks = {pb};
    s.incidents.statements = {st};
    return s;
}

std::unique_ptr<pipeline::pipeline> make() {
    auto p = pipeline::pipeline::create(outage_settings());
    if (auto* e = std::get_if<std::string>(&p)) {
        ADD_FAILURE() << *e;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<pipeline::pipeline>>(p));
}

core::mention post(std::string author, std::string text, std::string lang = "de") {
    core::mention m;
    static int n = 0;
    m.id = "m" + std::to_string(++n);
    m.author = std::move(author);
    m.text = std::move(text);
    m.lang = std::move(lang);
    m.source = "test";
    m.author_vouched = true;  // as a platform stream (or a trusted source) delivers it
    return m;
}

const core::timestamp t0 = core::timestamp{} + std::chrono::hours(24 * 20000);

}  // namespace

TEST(pipeline, ignores_mentions_that_match_no_rule) {
    auto p = make();
    pipeline::step_result out;
    auto r = p->process(post("@a", "Heute schönes Wetter in Linz"), t0, out);
    EXPECT_FALSE(r.matched);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(p->processed(), 1u);
    EXPECT_EQ(p->matched(), 0u);
}

TEST(pipeline, a_storm_of_angry_authors_opens_one_incident_and_the_statement_waits_for_its_veto) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 5; ++i) p->process(post("@calm" + std::to_string(i), "Liwest Router ist da."), t += 1min, out);
    ASSERT_TRUE(out.empty());

    std::uint64_t opened = 0;
    for (int i = 0; i < 30; ++i) {
        auto r = p->process(post("@angry" + std::to_string(i % 12), "Liwest Totalausfall, kein Internet. Frechheit!!"),
                            t += 5s, out);
        EXPECT_TRUE(r.matched);
        EXPECT_LT(r.compound, -0.05);
        for (auto id : out.opened) opened = id;
        if (opened) break;
    }
    ASSERT_EQ(opened, 1u);
    ASSERT_EQ(out.actions.size(), 1u);  // the page now; the statement after its veto wait
    EXPECT_EQ(out.actions[0].channel, "pager");
    const auto* inc = p->incidents().find(1);
    ASSERT_TRUE(inc);
    EXPECT_EQ(inc->key, "Liwest");
    EXPECT_GE(inc->evidence.negative_count, 10);
    EXPECT_FALSE(p->evidence(1).empty());
    EXPECT_LT(p->evidence(1).front().compound, -0.5);

    // More anger while it is open opens nothing new.
    out.clear();
    for (int i = 0; i < 10; ++i) p->process(post("@more" + std::to_string(i), "Liwest immer noch down!!"), t += 2s, out);
    EXPECT_TRUE(out.opened.empty());

    // The veto wait runs in pipeline time: nothing before, the German statement after.
    out.clear();
    p->tick(inc->opened_at + 2min, out);
    EXPECT_TRUE(out.actions.empty());
    p->tick(inc->opened_at + 3min, out);
    ASSERT_EQ(out.actions.size(), 1u);
    EXPECT_EQ(out.actions[0].channel, "brand");
    EXPECT_EQ(out.actions[0].language, "de");
    EXPECT_EQ(out.actions[0].text, "Wir wissen von der Störung bei Liwest.");
}

TEST(pipeline, silence_after_the_storm_resolves_the_incident) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 30 && out.opened.empty(); ++i)
        p->process(post("@angry" + std::to_string(i % 12), "#Liwest Störung, seit Stunden offline. Katastrophe!"), t += 5s,
                   out);
    ASSERT_EQ(out.opened.size(), 1u);
    out.clear();
    // The window (5 min) empties, then the clear condition must hold for 3 min.
    for (auto now = t; now < t + 7min && out.resolved.empty(); now += 10s) p->tick(now, out);
    EXPECT_TRUE(out.resolved.empty()) << "resolved before the clear condition held for 3 minutes";
    for (auto now = t + 7min; now < t + 12min && out.resolved.empty(); now += 10s) p->tick(now, out);
    ASSERT_EQ(out.resolved.size(), 1u);
    EXPECT_EQ(p->incidents().find(1)->state, incident::incident_state::resolved);
}

TEST(pipeline, a_resolved_incident_and_its_evidence_leave_memory_after_the_grace) {
    auto settings = outage_settings();
    settings.incidents.resolved_grace = 2h;
    auto created = pipeline::pipeline::create(std::move(settings));
    auto p = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 30 && out.opened.empty(); ++i)
        p->process(post("@angry" + std::to_string(i % 12), "#Liwest Störung, seit Stunden offline. Katastrophe!"), t += 5s,
                   out);
    ASSERT_EQ(out.opened.size(), 1u);
    const auto id = out.opened.front();
    EXPECT_FALSE(p->evidence(id).empty());
    out.clear();
    auto now = t;
    for (; now < t + 15min && out.resolved.empty(); now += 10s) p->tick(now, out);
    ASSERT_EQ(out.resolved.size(), 1u);
    for (; now < t + 15min + 2h && out.retired.empty(); now += 1min) p->tick(now, out);
    ASSERT_EQ(out.retired, std::vector<std::uint64_t>{id});
    EXPECT_EQ(p->incidents().find(id), nullptr);
    EXPECT_TRUE(p->evidence(id).empty());
    EXPECT_TRUE(p->incidents().incidents().empty());
}

TEST(pipeline, one_angry_account_is_not_a_crisis) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 50; ++i) p->process(post("@troll", "Liwest ist der schlechteste Anbieter. Frechheit!!"), t += 3s, out);
    EXPECT_TRUE(out.opened.empty());
}

TEST(pipeline, language_filter_and_html_content) {
    auto p = make();
    pipeline::step_result out;
    auto fr = post("@a", "Liwest est en panne", "fr");
    EXPECT_FALSE(p->process(fr, t0, out).matched);
    auto html = post("@b", "<p>Kein Internet bei <a href=\"https://x\">#<span>Liwest</span></a>&nbsp;!</p>", "de");
    html.html = true;
    EXPECT_TRUE(p->process(html, t0 + 1s, out).matched);
}

TEST(pipeline, keys_built_from_wire_fields_are_reduced_to_a_plain_form) {
    auto s = outage_settings();
    s.rules[0].detect.group_by = detect::group_topic | detect::group_source;
    auto created = pipeline::pipeline::create(s);
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 30 && out.opened.empty(); ++i) {
        auto m = post("@angry" + std::to_string(i % 12), "Liwest Totalausfall. Frechheit!!");
        m.source = "evil {topic} <script>";
        p.process(m, t += 5s, out);
    }
    ASSERT_EQ(out.opened.size(), 1u);
    EXPECT_EQ(p.incidents().find(1)->key, "Liwest/evil__topic___script_");
}

TEST(pipeline, memory_of_keys_that_never_fired_goes_when_their_windows_empty) {
    // group_by source with a stream of ever new sources: each key is seen once and never fires.
    auto s = outage_settings();
    s.rules[0].detect.group_by = detect::group_topic | detect::group_source;
    auto created = pipeline::pipeline::create(s);
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 500; ++i) {
        auto m = post("@someone" + std::to_string(i), "Liwest ist heute langsam");
        m.source = "relay-" + std::to_string(i);
        p.process(m, t += 1s, out);
    }
    EXPECT_EQ(p.remembered_keys(), 500u);
    // Long after the window and the baseline: the detector has dropped the idle keys, and the
    // pipeline forgets what it held for them.
    for (int i = 0; i < 30; ++i) p.tick(t += 30min, out);
    EXPECT_EQ(p.live_keys(), 0u);
    EXPECT_EQ(p.remembered_keys(), 0u);
}

TEST(pipeline, memory_of_an_open_incident_stays_until_it_clears) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 30 && out.opened.empty(); ++i)
        p->process(post("@angry" + std::to_string(i % 12), "Liwest Totalausfall seit Stunden. Frechheit!!"), t += 5s, out);
    ASSERT_EQ(out.opened.size(), 1u);
    const auto id = out.opened[0];
    p->tick(t += 2min, out);
    EXPECT_EQ(p->remembered_keys(), 1u);
    EXPECT_FALSE(p->evidence(id).empty());
    for (int i = 0; i < 20 && out.resolved.empty(); ++i) p->tick(t += 1min, out);
    ASSERT_EQ(out.resolved.size(), 1u);
    EXPECT_EQ(p->remembered_keys(), 0u);
    EXPECT_FALSE(p->evidence(id).empty()) << "the incident's evidence outlives the key's memory";
}

// Issue 11: what enters detection is worth what its source vouches for.
TEST(pipeline, claimed_authors_of_an_untrusted_source_count_as_one_author) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 40; ++i) {
        auto m = post("@sock" + std::to_string(i), "Liwest Totalausfall seit Stunden. Frechheit!!");
        m.author_vouched = false;  // generic JSON from a source not marked trusted
        p->process(m, t += 2s, out);
    }
    EXPECT_TRUE(out.opened.empty());
    EXPECT_DOUBLE_EQ(p->metrics(0, "Liwest", t)->unique_authors, 1);
    EXPECT_DOUBLE_EQ(p->metrics(0, "Liwest", t)->negative_count, 40);
}

TEST(pipeline, mentions_without_an_author_are_one_anonymous_author_per_source) {
    auto p = make();
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 40; ++i) {
        auto m = post("", "Liwest Totalausfall seit Stunden. Frechheit!!");
        m.source = i % 2 == 0 ? "one" : "two";
        p->process(m, t += 2s, out);
    }
    EXPECT_TRUE(out.opened.empty());
    EXPECT_DOUBLE_EQ(p->metrics(0, "Liwest", t)->unique_authors, 2);
}

TEST(pipeline, max_per_author_caps_an_untrusted_source_as_a_whole) {
    auto s = outage_settings();
    s.rules[0].detect.max_per_author = 3;
    auto created = pipeline::pipeline::create(s);
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = t0;
    for (int i = 0; i < 20; ++i) {
        auto claimed = post("@sock" + std::to_string(i), "Liwest Totalausfall. Frechheit!!");
        claimed.author_vouched = false;
        p.process(claimed, t += 1s, out);
        auto anonymous = post("", "Liwest Totalausfall. Frechheit!!");
        anonymous.source = "other";
        p.process(anonymous, t += 1s, out);
    }
    // Each source is one author: 3 counted mentions each.
    EXPECT_DOUBLE_EQ(p.metrics(0, "Liwest", t)->count, 6);
    EXPECT_DOUBLE_EQ(p.metrics(0, "Liwest", t)->unique_authors, 2);
}

TEST(pipeline, the_anonymous_author_is_never_a_vouched_author) {
    core::mention vouched;
    vouched.source = "stream";
    vouched.author = "stream";
    vouched.author_vouched = true;
    core::mention anonymous;
    anonymous.source = "stream";
    EXPECT_NE(pipeline::detection_author(vouched), pipeline::detection_author(anonymous));
    core::mention claimed = anonymous;
    claimed.author = "@someone";
    EXPECT_EQ(pipeline::detection_author(claimed), pipeline::detection_author(anonymous));
    EXPECT_NE(pipeline::detection_author(anonymous), 0u);
}

namespace {

// Angry mentions of Liwest claiming `source` and `lang`, five seconds apart, until something
// happens (an incident opens or is refused by the cap).
void storm(pipeline::pipeline& p, core::timestamp& t, pipeline::step_result& out, const std::string& source,
           const std::string& lang = "de") {
    const auto before = out.opened.size() + out.suppressed.size();
    for (int i = 0; i < 30 && out.opened.size() + out.suppressed.size() == before; ++i) {
        auto m = post("@angry" + std::to_string(i % 12), "Liwest Totalausfall. Frechheit!!", lang);
        m.source = source;
        p.process(m, t += 5s, out);
    }
}

}  // namespace

// The wire's language tag never reaches the key of a rule that lists languages: "de" takes
// "de-CEO-verhaftet", and the key (so {topic}) says "de", the configured code.
TEST(pipeline, a_listed_language_keys_by_the_configured_code_not_the_wire_tag) {
    auto s = outage_settings();
    s.rules[0].detect.group_by = detect::group_topic | detect::group_lang;
    auto created = pipeline::pipeline::create(s);
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = t0;
    storm(p, t, out, "stream", "de-CEO-verhaftet");
    ASSERT_EQ(out.opened.size(), 1u);
    EXPECT_EQ(p.incidents().find(out.opened[0])->key, "Liwest/de");
}

// Over max_incidents_per_hour a firing key opens nothing and is reported; once the hour has
// passed, the rule opens incidents again.
TEST(pipeline, a_rule_opens_at_most_max_incidents_per_hour) {
    auto s = outage_settings();
    s.rules[0].detect.group_by = detect::group_topic | detect::group_source;
    s.rules[0].max_incidents_per_hour = 2;
    auto created = pipeline::pipeline::create(s);
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = t0;
    for (std::string source : {"a", "b", "c"}) storm(p, t, out, source);
    ASSERT_EQ(out.opened.size(), 2u);
    ASSERT_EQ(out.suppressed.size(), 1u);
    EXPECT_EQ(out.suppressed[0].key, "Liwest/c");
    EXPECT_EQ(out.suppressed[0].opened_last_hour, 2u);
    EXPECT_EQ(p.suppressed(0), 1u);
    EXPECT_EQ(p.incidents().incidents().size(), 2u);

    for (int i = 0; i < 7; ++i) p.tick(t += 10min, out);
    out.clear();
    storm(p, t, out, "d");
    ASSERT_EQ(out.opened.size(), 1u) << "an hour later the rule opens incidents again";
    EXPECT_EQ(p.incidents().find(out.opened[0])->key, "Liwest/d");
}

// Without max_incidents_per_hour in its config a rule opens at most 10 new incidents an hour.
TEST(pipeline, max_incidents_per_hour_defaults_to_ten) {
    EXPECT_EQ(pipeline::rule_settings{}.max_incidents_per_hour, 10u);
}

// Cluster mode (issue 15): route() names the (rule, key) pairs a mention goes to without
// observing it, and a key filter leaves the pairs of other partitions to their owners.
TEST(pipeline, route_names_the_pairs_and_a_key_filter_observes_only_those_it_accepts) {
    auto p = make();
    std::vector<std::pair<std::size_t, std::string>> pairs;
    p->route(post("@a", "Liwest Totalausfall!!"), pairs);
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0].first, 0u);
    EXPECT_EQ(pairs[0].second, "Liwest");
    p->route(post("@a", "Heute schönes Wetter in Linz"), pairs);
    EXPECT_TRUE(pairs.empty());
    EXPECT_EQ(p->live_keys(), 0u);   // routing observed nothing

    pipeline::step_result out;
    const pipeline::pipeline::key_filter elsewhere = [](std::size_t, std::string_view) { return false; };
    auto t = t0;
    for (int i = 0; i < 30; ++i)
        p->process(post("@angry" + std::to_string(i), "Liwest Totalausfall, kein Internet. Frechheit!!"), t += 5s, out,
                   elsewhere);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(p->live_keys(), 0u);

    const pipeline::pipeline::key_filter here = [](std::size_t rule, std::string_view key) {
        return rule == 0 && key == "Liwest";
    };
    for (int i = 0; i < 30 && out.opened.empty(); ++i)
        p->process(post("@angry" + std::to_string(i), "Liwest Totalausfall, kein Internet. Frechheit!!"), t += 5s, out, here);
    EXPECT_EQ(out.opened.size(), 1u);
}
