#include "incident/engine.hpp"

#include <gtest/gtest.h>

#include "core/time_zone.hpp"
#include "incident/template.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace crisisd::incident {
namespace {

using namespace std::chrono_literals;

// 2026-11-26T08:15:00Z
const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h + 15min;

step_settings notify_step(std::vector<std::string> channels) {
    step_settings s;
    s.kind = step_kind::notify;
    s.channels = std::move(channels);
    return s;
}

step_settings statement_step(std::string name, approval mode, core::duration wait = {}) {
    step_settings s;
    s.kind = step_kind::statement;
    s.statement = std::move(name);
    s.channels = {"brand-mastodon"};
    s.approval_mode = mode;
    s.wait = wait;
    return s;
}

step_settings escalate_step(core::duration after, std::vector<std::string> channels) {
    step_settings s;
    s.kind = step_kind::escalate;
    s.after = after;
    s.channels = std::move(channels);
    return s;
}

statement_settings statement(std::string name, std::map<std::string, std::string> text, std::string approved_by = "Head of Communications") {
    statement_settings s;
    s.name = std::move(name);
    s.approved_by = std::move(approved_by);
    s.approved_at = "2026-11-01";
    s.text = std::move(text);
    return s;
}

// The playbook of DESIGN.md: page, holding statement under veto, escalate, resolved statement.
engine_settings outage_settings(approval holding = approval::veto) {
    engine_settings e;
    playbook_settings pb;
    pb.name = "outage-holding-statement";
    pb.steps = {notify_step({"oncall-pagerduty", "comms-slack"}),
                statement_step("outage-holding", holding, 3min),
                escalate_step(10min, {"comms-lead"})};
    pb.on_resolve = {statement_step("outage-resolved", approval::required), notify_step({"comms-slack"})};
    e.playbooks.push_back(pb);
    e.statements.push_back(statement(
        "outage-holding",
        {{"de", "Wir wissen von der Störung bei {topic} und arbeiten an der Behebung. Update folgt bis {next_update}."},
         {"en", "We are aware of the {topic} outage and are working on it. Next update by {next_update}."}}));
    e.statements.push_back(statement("outage-resolved", {{"de", "Die Störung bei {topic} ist behoben."},
                                                         {"en", "The {topic} outage is over."}}));
    e.playbooks.back().status_url = "https://status.example.at";
    e.playbooks.back().next_update_in = 30min;  // the default; time_zone: UTC, the default
    return e;
}

opening outage(std::map<std::string, std::size_t> languages = {{"de", 30}, {"en", 5}}) {
    opening o;
    o.rule = "isp-outage";
    o.key = "liwest";
    o.severity = "critical";
    o.playbook = "outage-holding-statement";
    o.evidence.count = 42;
    o.evidence.negative_count = 30;
    o.evidence.unique_authors = 25;
    o.evidence.volume_ratio = 6.5;
    o.languages = std::move(languages);
    return o;
}

std::vector<const action*> of_kind(const std::vector<action>& as, action_kind k) {
    std::vector<const action*> r;
    for (const auto& a : as)
        if (a.kind == k) r.push_back(&a);
    return r;
}

constexpr std::size_t notify_step_index = 0;
constexpr std::size_t holding_step = 1;
constexpr std::size_t escalate_index = 2;
constexpr std::size_t resolved_statement = 3;
constexpr std::size_t resolved_notify = 4;

TEST(engine_open, notifies_every_channel_at_once) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(id, 1u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, action_kind::notify);
    EXPECT_EQ(out[0].channel, "oncall-pagerduty");
    EXPECT_EQ(out[1].channel, "comms-slack");
    EXPECT_EQ(out[0].event, "opened");
    EXPECT_EQ(out[0].idempotency_key, "1/open/0/oncall-pagerduty");
    EXPECT_EQ(out[1].idempotency_key, "1/open/0/comms-slack");
    EXPECT_EQ(out[0].at, t0);
    EXPECT_NE(out[0].text.find("isp-outage"), std::string::npos);
    EXPECT_NE(out[0].text.find("liwest"), std::string::npos);
    EXPECT_NE(out[0].text.find("critical"), std::string::npos);

    const incident* inc = e.find(id);
    ASSERT_NE(inc, nullptr);
    EXPECT_EQ(inc->state, incident_state::open);
    EXPECT_EQ(inc->opened_at, t0);
    ASSERT_EQ(inc->steps.size(), 5u);
    EXPECT_EQ(inc->steps[notify_step_index].state, step_state::emitted);
    EXPECT_EQ(inc->steps[holding_step].state, step_state::scheduled);
    EXPECT_EQ(inc->steps[holding_step].due, t0 + 3min);
    EXPECT_EQ(inc->steps[escalate_index].due, t0 + 10min);
    EXPECT_TRUE(inc->steps[resolved_statement].on_resolve);
    EXPECT_EQ(inc->steps[resolved_statement].state, step_state::scheduled);
    EXPECT_FALSE(inc->steps[resolved_statement].due.has_value());
    EXPECT_EQ(e.next_deadline(), t0 + 3min);
}

TEST(engine_open, a_second_open_for_the_same_rule_and_key_returns_the_open_incident) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.open(outage(), t0 + 1min, out), id);
    EXPECT_TRUE(out.empty());
    auto other = outage();
    other.key = "magenta";
    EXPECT_EQ(e.open(other, t0 + 1min, out), 2u);
    EXPECT_EQ(e.incidents().size(), 2u);
}

TEST(engine_open, without_playbook_an_incident_is_only_recorded) {
    engine e(outage_settings());
    std::vector<action> out;
    auto o = outage();
    o.playbook.clear();
    const auto id = e.open(o, t0, out);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(e.find(id)->steps.empty());
    EXPECT_FALSE(e.next_deadline().has_value());
}

TEST(engine_veto, vetoed_within_the_wait_is_never_posted) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.veto(id, holding_step, "anna", t0 + 1min), command_result::done);
    EXPECT_EQ(e.veto(id, holding_step, "anna", t0 + 1min), command_result::already_done);
    for (auto t = t0 + 1min; t < t0 + 2h; t += 30s) e.tick(t, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    EXPECT_EQ(e.find(id)->steps[holding_step].state, step_state::vetoed);
    EXPECT_EQ(e.approve(id, holding_step, "bob", t0 + 2h, out), command_result::not_allowed);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

TEST(engine_veto, after_the_wait_the_statement_is_posted_once_and_can_no_longer_be_vetoed) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    e.tick(t0 + 2min + 59s, out);
    EXPECT_TRUE(out.empty());
    e.tick(t0 + 3min, out);
    ASSERT_EQ(out.size(), 1u);
    const action& a = out[0];
    EXPECT_EQ(a.kind, action_kind::statement);
    EXPECT_EQ(a.channel, "brand-mastodon");
    EXPECT_EQ(a.statement, "outage-holding");
    EXPECT_EQ(a.language, "de");
    EXPECT_EQ(a.idempotency_key, "1/open/1/brand-mastodon");
    EXPECT_EQ(a.text, "Wir wissen von der Störung bei liwest und arbeiten an der Behebung. Update folgt bis 08:48 UTC.");
    EXPECT_EQ(a.at, t0 + 3min);
    e.tick(t0 + 4min, out);
    EXPECT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(e.veto(id, holding_step, "anna", t0 + 4min), command_result::not_allowed);
    EXPECT_EQ(e.find(id)->steps[holding_step].state, step_state::emitted);
}

TEST(engine_veto, approving_a_vetoable_statement_posts_it_without_waiting) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.approve(id, holding_step, "anna", t0 + 30s, out), command_result::done);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    e.tick(t0 + 5min, out);
    EXPECT_EQ(of_kind(out, action_kind::statement).size(), 1u);
}

TEST(engine_required, never_approved_is_never_posted_but_escalation_fires) {
    engine e(outage_settings(approval::required));
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(e.find(id)->steps[holding_step].state, step_state::awaiting_approval);
    EXPECT_FALSE(e.find(id)->steps[holding_step].preview.empty());
    out.clear();
    for (auto t = t0; t < t0 + 3h; t += 1min) e.tick(t, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    const auto notes = of_kind(out, action_kind::notify);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0]->event, "escalated");
    EXPECT_EQ(notes[0]->channel, "comms-lead");
    EXPECT_EQ(notes[0]->at, t0 + 10min);
    EXPECT_EQ(notes[0]->idempotency_key, "1/open/2/comms-lead");
    EXPECT_EQ(e.find(id)->steps[holding_step].state, step_state::awaiting_approval);
}

TEST(engine_required, approved_is_posted_once) {
    engine e(outage_settings(approval::required));
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.approve(id, holding_step, "anna", t0 + 2min, out), command_result::done);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, action_kind::statement);
    EXPECT_EQ(out[0].at, t0 + 2min);
    EXPECT_EQ(e.approve(id, holding_step, "anna", t0 + 3min, out), command_result::already_done);
    EXPECT_EQ(e.approve(id, holding_step, "bob", t0 + 3min, out), command_result::already_done);
    e.tick(t0 + 1h, out);
    EXPECT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    const auto& h = e.find(id)->history;
    EXPECT_TRUE(std::any_of(h.begin(), h.end(), [](const history_entry& x) {
        return x.who == "anna" && x.what == "approved step 1" && x.at == t0 + 2min;
    }));
}

TEST(engine_required, an_unapproved_statement_is_never_posted) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].approved_by.clear();
    engine e(s);
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(e.find(id)->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(e.approve(id, holding_step, "anna", t0, out), command_result::not_allowed);
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

TEST(engine_auto, automatic_statement_is_posted_at_opening) {
    engine e(outage_settings(approval::automatic));
    std::vector<action> out;
    e.open(outage(), t0, out);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->at, t0);
}

TEST(engine_escalate, acknowledged_before_the_deadline_skips_escalation) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.acknowledge(id, "anna", t0 + 5min), command_result::done);
    EXPECT_EQ(e.acknowledge(id, "bob", t0 + 6min), command_result::already_done);
    EXPECT_EQ(e.find(id)->state, incident_state::acknowledged);
    EXPECT_EQ(e.find(id)->acknowledged_at, t0 + 5min);
    e.tick(t0 + 1h, out);
    for (const auto& a : out) EXPECT_NE(a.event, "escalated");
    EXPECT_EQ(e.find(id)->steps[escalate_index].state, step_state::skipped);
    // Acknowledging stops escalation, not the holding statement.
    EXPECT_EQ(of_kind(out, action_kind::statement).size(), 1u);
}

TEST(engine_escalate, escalation_without_unless_fires_even_when_acknowledged) {
    auto s = outage_settings();
    s.playbooks[0].steps[2].unless_acknowledged = false;
    engine e(s);
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    e.acknowledge(id, "anna", t0 + 1min);
    out.clear();
    e.tick(t0 + 10min, out);
    ASSERT_EQ(of_kind(out, action_kind::notify).size(), 1u);
    EXPECT_EQ(out.back().event, "escalated");
}

TEST(engine_resolve, runs_on_resolve_and_skips_pending_steps) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.resolve(id, "anna", t0 + 1min, out), command_result::done);
    EXPECT_EQ(e.resolve(id, "anna", t0 + 2min, out), command_result::already_done);
    const incident* inc = e.find(id);
    EXPECT_EQ(inc->state, incident_state::resolved);
    EXPECT_EQ(inc->resolved_at, t0 + 1min);
    EXPECT_EQ(inc->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(inc->steps[escalate_index].state, step_state::skipped);
    EXPECT_EQ(inc->steps[resolved_statement].state, step_state::awaiting_approval);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].event, "resolved");
    EXPECT_EQ(out[0].idempotency_key, "1/resolve/4/comms-slack");
    EXPECT_TRUE(out[0].on_resolve);
    e.tick(t0 + 1h, out);
    EXPECT_EQ(out.size(), 1u);
    EXPECT_EQ(e.approve(id, resolved_statement, "anna", t0 + 1h, out), command_result::done);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].kind, action_kind::statement);
    EXPECT_EQ(out[1].statement, "outage-resolved");
    EXPECT_EQ(out[1].text, "Die Störung bei liwest ist behoben.");
    EXPECT_EQ(out[1].idempotency_key, "1/resolve/3/brand-mastodon");
    EXPECT_EQ(e.acknowledge(id, "anna", t0 + 2h), command_result::not_allowed);
}

TEST(engine_resolve, on_resolve_statement_cannot_be_approved_before_resolution) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    EXPECT_EQ(e.approve(id, resolved_statement, "anna", t0, out), command_result::not_allowed);
    EXPECT_TRUE(out.empty());
    // It can be vetoed ahead of time, though.
    EXPECT_EQ(e.veto(id, resolved_statement, "anna", t0), command_result::done);
    e.resolve(id, "anna", t0 + 1min, out);
    EXPECT_EQ(e.find(id)->steps[resolved_statement].state, step_state::vetoed);
    EXPECT_EQ(e.approve(id, resolved_statement, "anna", t0 + 2min, out), command_result::not_allowed);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

TEST(engine_resolve, clear_from_the_detector_resolves_and_a_new_storm_opens_a_new_incident) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    e.clear("isp-outage", "liwest", t0 + 20min, out);
    EXPECT_EQ(e.find(id)->state, incident_state::resolved);
    e.clear("isp-outage", "liwest", t0 + 21min, out);  // nothing open: nothing happens
    const auto& h = e.find(id)->history;
    EXPECT_EQ(std::count_if(h.begin(), h.end(), [](const history_entry& x) { return x.what == "resolved"; }), 1);
    EXPECT_TRUE(std::any_of(h.begin(), h.end(), [](const history_entry& x) {
        return x.what == "resolved" && x.who == "crisisd";
    }));
    EXPECT_EQ(e.open(outage(), t0 + 1h, out), 2u);
}

TEST(engine_commands, unknown_ids_and_steps_are_not_found) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(e.acknowledge(99, "anna", t0), command_result::not_found);
    EXPECT_EQ(e.resolve(99, "anna", t0, out), command_result::not_found);
    EXPECT_EQ(e.approve(99, 1, "anna", t0, out), command_result::not_found);
    EXPECT_EQ(e.veto(id, 17, "anna", t0), command_result::not_found);
    EXPECT_EQ(e.approve(id, notify_step_index, "anna", t0, out), command_result::not_allowed);
    EXPECT_EQ(e.veto(id, escalate_index, "anna", t0), command_result::not_allowed);
    EXPECT_EQ(e.find(99), nullptr);
}

TEST(engine_commands, history_records_who_did_what_when) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    e.acknowledge(id, "anna", t0 + 1min);
    e.veto(id, holding_step, "bob", t0 + 2min);
    e.resolve(id, "carla", t0 + 3min, out);
    std::vector<std::string> seen;
    for (const auto& h : e.find(id)->history)
        if (h.who != "crisisd") seen.push_back(h.who + ":" + h.what + "@" + core::format_rfc3339(h.at));
    EXPECT_EQ(seen, (std::vector<std::string>{"anna:acknowledged@2026-11-26T08:16:00Z",
                                              "bob:vetoed step 1@2026-11-26T08:17:00Z",
                                              "carla:resolved@2026-11-26T08:18:00Z"}));
    EXPECT_EQ(e.find(id)->history.front().what, "opened");
}

TEST(engine_language, majority_of_mentions_with_a_text_wins) {
    engine e(outage_settings(approval::automatic));
    std::vector<action> out;
    e.open(outage({{"de", 3}, {"en", 10}}), t0, out);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->language, "en");
}

TEST(engine_language, languages_without_a_text_do_not_count) {
    engine e(outage_settings(approval::automatic));
    std::vector<action> out;
    e.open(outage({{"fr", 50}, {"de", 2}, {"en", 1}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->language, "de");
}

TEST(engine_language, fallback_when_no_mention_language_has_a_text) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].fallback_language = "de";
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"fr", 50}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->language, "de");
}

TEST(engine_language, any_text_when_fallback_is_missing) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].text = {{"de", "Störung bei {topic}."}};
    s.statements[0].fallback_language = "en";
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 50}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->language, "de");
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->text, "Störung bei liwest.");
}

TEST(engine_language, ties_prefer_the_fallback) {
    engine e(outage_settings(approval::automatic));
    std::vector<action> out;
    e.open(outage({{"de", 4}, {"en", 4}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->language, "en");
}

TEST(engine_templates, every_incident_field_is_rendered) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].text = {{"en", "{topic}|{rule}|{severity}|{started_at}|{next_update}|{status_url}|{incident_id}|{"}};
    engine e(s);
    e.set_next_id(7);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0 + 59min + 1500ms, out);
    // No time_zone: UTC, and says so; {next_update} 09:44:01.5 rounded up to the minute.
    EXPECT_EQ(of_kind(out, action_kind::statement)[0]->text,
              "liwest|isp-outage|critical|09:14 UTC|09:45 UTC|https://status.example.at|7|{");
}

TEST(engine_templates, status_url_is_the_playbooks) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].text = {{"en", "Updates: {status_url}"}};
    s.playbooks[0].status_url = "https://status.example.at/internet?region=linz";
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement).at(0)->text,
              "Updates: https://status.example.at/internet?region=linz");
}

// Braces that are not a placeholder stay text; a placeholder after them is still filled, as the
// config loader scans it (it would otherwise reach the public as "{x {topic}").
TEST(engine_templates, stray_braces_are_text_and_do_not_hide_a_placeholder) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].text = {{"en", "a {x {topic} b {\n{status_url}} c"}};
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    EXPECT_EQ(of_kind(out, action_kind::statement).at(0)->text, "a {x liwest b {\nhttps://status.example.at} c");
}

// The history line about a step ("skipped step 1: …"), or "".
std::string history_of(const incident& inc, std::string_view what) {
    for (const auto& h : inc.history)
        if (h.what.find(what) != std::string::npos) return h.what;
    return {};
}

// Config refuses these; should one get here anyway, nothing is posted with a placeholder as written.
TEST(engine_templates, a_text_with_an_unfilled_placeholder_is_never_posted) {
    auto s = outage_settings(approval::automatic);
    s.statements[0].text = {{"en", "Details: {status_url}"}};
    s.playbooks[0].status_url.clear();
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    const incident* inc = e.find(1);
    EXPECT_EQ(inc->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(inc->steps[holding_step].preview, "");
    EXPECT_EQ(history_of(*inc, "step 1"), "skipped step 1: statement 'outage-holding' (en) has no value for {status_url}");
}

TEST(engine_templates, unknown_and_empty_fields_are_unfilled_too) {
    auto s = outage_settings(approval::veto);
    s.statements[0].text = {{"en", "{topic} {unknown} {topic} {unknown}"}};
    engine e(s);
    std::vector<action> out;
    auto o = outage({{"en", 1}});
    o.key.clear();
    e.open(o, t0, out);
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(history_of(*e.find(1), "step 1"),
              "skipped step 1: statement 'outage-holding' (en) has no value for {topic}, {unknown}");
    e.tick(t0 + 10min, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

// A step that became unpostable between scheduling and its time (a reload took the playbook's
// status_url away) is skipped when it comes due.
TEST(engine_templates, checked_again_when_posting) {
    auto s = outage_settings(approval::veto);
    s.statements[0].text = {{"en", "Details: {status_url}"}};
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    ASSERT_EQ(e.find(1)->steps[holding_step].state, step_state::scheduled);
    auto saved = e.incidents();
    s.playbooks[0].status_url.clear();
    engine reloaded(s);
    reloaded.restore(saved);
    out.clear();
    reloaded.tick(t0 + 3min, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    EXPECT_EQ(reloaded.find(1)->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(history_of(*reloaded.find(1), "skipped step 1"),
              "skipped step 1: statement 'outage-holding' (en) has no value for {status_url}");
}

TEST(engine_templates, next_update_is_computed_when_posting) {
    engine e(outage_settings());
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    EXPECT_NE(e.find(1)->steps[holding_step].preview.find("08:45 UTC"), std::string::npos);
    out.clear();
    e.tick(t0 + 3min, out);
    EXPECT_EQ(out.at(0).text, "We are aware of the liwest outage and are working on it. Next update by 08:48 UTC.");
    EXPECT_EQ(e.find(1)->steps[holding_step].preview, out.at(0).text);
}

// ---- statement times in the playbook's zone ------------------------------------------------

core::time_zone zone(const char* name) {
    core::zone_load_error error;
    auto z = core::load_time_zone(name, core::zoneinfo_dir(), &error);
    EXPECT_TRUE(z.has_value()) << name << ": " << error.reason;
    return z.value_or(core::time_zone());
}

core::timestamp utc(const char* rfc3339) { return core::parse_rfc3339(rfc3339).value(); }

// The holding statement (posted at once) of an incident opened at `opened`, in `tz`.
std::string holding_text(const core::time_zone& tz, core::timestamp opened, const std::string& text,
                         core::duration next_update_in = 30min) {
    auto s = outage_settings(approval::automatic);
    s.playbooks[0].time_zone = tz;
    s.playbooks[0].next_update_in = next_update_in;
    s.statements[0].text = {{"de", text}};
    engine e(s);
    std::vector<action> out;
    e.open(outage(), opened, out);
    const auto posted = of_kind(out, action_kind::statement);
    return posted.empty() ? std::string() : posted[0]->text;
}

TEST(engine_times, next_update_is_local_time_in_the_playbooks_zone) {
    const auto vienna = zone("Europe/Vienna");
    // t0 is 08:15 UTC in November: 09:15 CET.
    EXPECT_EQ(holding_text(vienna, t0, "Update bis {next_update} Uhr."), "Update bis 09:45 Uhr.");
    // July: CEST, two hours ahead.
    EXPECT_EQ(holding_text(vienna, utc("2026-07-15T08:15:00Z"), "Update bis {next_update} Uhr."),
              "Update bis 10:45 Uhr.");
    EXPECT_EQ(holding_text(zone("America/New_York"), t0, "Next update by {next_update}."), "Next update by 03:45.");
    EXPECT_EQ(holding_text(core::time_zone(), t0, "Next update by {next_update}."), "Next update by 08:45 UTC.");
}

// The update time is on the other side of a DST switch from the posting time.
TEST(engine_times, next_update_across_the_dst_switches) {
    const auto vienna = zone("Europe/Vienna");
    // 01:45 CET + 30 minutes is 03:15 CEST (02:00 does not exist on 2026-03-29).
    EXPECT_EQ(holding_text(vienna, utc("2026-03-29T00:45:00Z"), "{started_at} {next_update}"), "01:45 03:15");
    // 02:45 CEST + 30 minutes is 02:15 CET (the hour 02:00-03:00 runs twice on 2026-10-25).
    EXPECT_EQ(holding_text(vienna, utc("2026-10-25T00:45:00Z"), "{started_at} {next_update}"), "02:45 02:15");
}

TEST(engine_times, the_interval_is_the_playbooks_and_rounds_up_to_the_minute) {
    const auto vienna = zone("Europe/Vienna");
    EXPECT_EQ(holding_text(vienna, t0, "{next_update}", 45min), "10:00");
    EXPECT_EQ(holding_text(vienna, t0, "{next_update}", 2h), "11:15");
    // Never less than the interval: 09:15:20 + 30 minutes is promised for 09:46.
    EXPECT_EQ(holding_text(vienna, t0 + 20s, "{started_at} {next_update}"), "09:15 09:46");
    EXPECT_EQ(holding_text(vienna, t0 + 1us, "{next_update}"), "09:46");
    // Past midnight: the time of day only.
    EXPECT_EQ(holding_text(vienna, utc("2026-11-26T22:50:00Z"), "{next_update}"), "00:20");
}

// {started_at} is the time of day while it is the same day where the readers are, then with the
// date; in UTC with " UTC".
TEST(engine_times, started_at_gains_the_date_on_a_later_day) {
    for (const bool in_vienna : {true, false}) {
        auto s = outage_settings(approval::automatic);
        if (in_vienna) s.playbooks[0].time_zone = zone("Europe/Vienna");
        s.statements[1].text = {{"de", "Die Störung seit {started_at} ist behoben."}};
        s.playbooks[0].on_resolve[0].approval_mode = approval::automatic;
        engine e(s);
        std::vector<action> out;
        // Opened 22:40 UTC: 23:40 in Vienna; resolved 23:20 UTC, 00:20 in Vienna: the next day
        // there, the same day in UTC.
        const auto opened = utc("2026-11-26T22:40:00Z");
        const auto id = e.open(outage(), opened, out);
        out.clear();
        e.resolve(id, "anna", opened + 40min, out);
        const auto posted = of_kind(out, action_kind::statement);
        ASSERT_EQ(posted.size(), 1u);
        EXPECT_EQ(posted[0]->text, in_vienna ? "Die Störung seit 2026-11-26 23:40 ist behoben."
                                             : "Die Störung seit 22:40 UTC ist behoben.");
        out.clear();
        // Opened 23:40 UTC, 00:40 in Vienna; resolved 00:00 UTC, the next day in UTC only.
        const auto same_day = e.open(outage(), opened + 1h, out);
        out.clear();
        e.resolve(same_day, "anna", opened + 1h + 20min, out);
        ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
        EXPECT_EQ(of_kind(out, action_kind::statement)[0]->text,
                  in_vienna ? "Die Störung seit 00:40 ist behoben." : "Die Störung seit 2026-11-26 23:40 UTC ist behoben.");
    }
}

TEST(engine_times, the_forms_and_their_longest) {
    const auto vienna = zone("Europe/Vienna");
    const core::time_zone utc_zone;
    EXPECT_EQ(next_update_text(t0, 30min, vienna), "09:45");
    EXPECT_EQ(next_update_text(t0, 30min, utc_zone), "08:45 UTC");
    EXPECT_EQ(started_at_text(t0 + 59s, t0 + 1h, vienna), "09:15");
    EXPECT_EQ(started_at_text(t0, t0 + 24h, vienna), "2026-11-26 09:15");
    EXPECT_EQ(started_at_text(t0, t0 + 24h, utc_zone), "2026-11-26 08:15 UTC");
    EXPECT_EQ(longest_engine_field("next_update", vienna), "23:59");
    EXPECT_EQ(longest_engine_field("next_update", utc_zone), "23:59 UTC");
    EXPECT_EQ(longest_engine_field("started_at", vienna), "9999-12-31 23:59");
    EXPECT_EQ(longest_engine_field("started_at", utc_zone), "9999-12-31 23:59 UTC");
    EXPECT_EQ(longest_engine_field("incident_id", vienna), "18446744073709551615");
    EXPECT_EQ(longest_engine_field("topic", vienna), std::nullopt);
}

TEST(engine_ids, idempotency_keys_are_stable_for_the_same_incident_and_step) {
    auto run = [](std::uint64_t first_id) {
        engine e(outage_settings());
        e.set_next_id(first_id);
        std::vector<action> out;
        const auto id = e.open(outage(), t0, out);
        e.tick(t0 + 20min, out);
        e.resolve(id, "anna", t0 + 30min, out);
        e.approve(id, resolved_statement, "anna", t0 + 31min, out);
        std::vector<std::string> keys;
        for (const auto& a : out) keys.push_back(a.idempotency_key);
        return keys;
    };
    const auto a = run(41);
    EXPECT_EQ(a, run(41));
    EXPECT_EQ(a, (std::vector<std::string>{"41/open/0/oncall-pagerduty", "41/open/0/comms-slack",
                                           "41/open/1/brand-mastodon", "41/open/2/comms-lead",
                                           "41/resolve/4/comms-slack", "41/resolve/3/brand-mastodon"}));
    std::vector<std::string> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(engine_ids, ids_increase_and_continue_after_set_next_id) {
    engine e(outage_settings());
    EXPECT_EQ(e.next_id(), 1u);
    std::vector<action> out;
    auto o = outage();
    EXPECT_EQ(e.open(o, t0, out), 1u);
    o.key = "b";
    EXPECT_EQ(e.open(o, t0, out), 2u);
    e.set_next_id(100);
    o.key = "c";
    EXPECT_EQ(e.open(o, t0, out), 100u);
    EXPECT_EQ(e.incidents().back().id, 100u);
}

TEST(engine_ids, duplicate_channels_in_a_step_yield_one_action) {
    auto s = outage_settings();
    s.playbooks[0].steps[0].channels = {"comms-slack", "comms-slack"};
    engine e(s);
    std::vector<action> out;
    e.open(outage(), t0, out);
    EXPECT_EQ(out.size(), 1u);
}

TEST(engine_deadlines, next_deadline_follows_the_schedule) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(e.next_deadline(), t0 + 3min);
    e.tick(t0 + 3min, out);
    EXPECT_EQ(e.next_deadline(), t0 + 10min);
    e.acknowledge(id, "anna", t0 + 4min);
    EXPECT_FALSE(e.next_deadline().has_value());
}

TEST(engine_silence, a_silenced_rule_opens_nothing_until_the_silence_ends) {
    engine e(outage_settings());
    std::vector<action> out;
    EXPECT_EQ(e.silence("isp-outage", "liwest", t0 + 1h, "anna", t0), command_result::done);
    EXPECT_EQ(e.silence("isp-outage", "liwest", t0 + 1h, "anna", t0), command_result::already_done);
    EXPECT_TRUE(e.silenced("isp-outage", "liwest", t0 + 30min));
    EXPECT_EQ(e.open(outage(), t0 + 30min, out), 0u);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(e.incidents().empty());
    EXPECT_EQ(e.open(outage(), t0 + 1h, out), 1u);

    auto other = outage();
    other.key = "magenta";
    e.silence("isp-outage", "", t0 + 3h, "anna", t0 + 1h);  // every key of the rule
    EXPECT_EQ(e.open(other, t0 + 2h, out), 0u);
}

TEST(engine_restore, scheduled_steps_fire_after_a_restart) {
    std::vector<incident> saved;
    {
        engine e(outage_settings());
        std::vector<action> out;
        e.open(outage(), t0, out);
        saved = e.incidents();
    }
    engine e(outage_settings());
    e.restore(saved);
    EXPECT_EQ(e.next_id(), 2u);
    EXPECT_EQ(e.next_deadline(), t0 + 3min);
    std::vector<action> out;
    EXPECT_EQ(e.open(outage(), t0 + 1min, out), 1u);  // still open: no second incident
    EXPECT_TRUE(out.empty());
    e.tick(t0 + 5min, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].idempotency_key, "1/open/1/brand-mastodon");
}

TEST(engine_restore, steps_missing_from_the_new_playbook_are_skipped) {
    std::vector<incident> saved;
    {
        engine e(outage_settings());
        std::vector<action> out;
        e.open(outage(), t0, out);
        saved = e.incidents();
    }
    auto s = outage_settings();
    s.playbooks[0].steps.resize(1);
    engine e(s);
    e.restore(saved);
    std::vector<action> out;
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::skipped);
    // The on_resolve steps still match the playbook's on_resolve list.
    e.resolve(1, "anna", t0 + 2h, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].idempotency_key, "1/resolve/4/comms-slack");
}

TEST(engine_strings, names_of_states_and_kinds) {
    EXPECT_EQ(to_string(incident_state::acknowledged), "acknowledged");
    EXPECT_EQ(to_string(step_state::awaiting_approval), "awaiting_approval");
    EXPECT_EQ(to_string(action_kind::statement), "statement");
    EXPECT_EQ(to_string(step_kind::escalate), "escalate");
}

}  // namespace
}  // namespace crisisd::incident
