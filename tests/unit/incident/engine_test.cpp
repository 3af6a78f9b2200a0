#include "incident/engine.hpp"

#include <gtest/gtest.h>

#include "core/time_zone.hpp"
#include "incident/template.hpp"
#include "fakes/manual_clock.hpp"

#include <algorithm>
#include <chrono>
#include <random>
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
    o.severity = severity_level::critical;
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
    EXPECT_EQ(out[0].event, action_event::opened);
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
    // The text shown for the veto at 08:15, not one rendered again at posting (issue 11).
    EXPECT_EQ(a.text, "Wir wissen von der Störung bei liwest und arbeiten an der Behebung. Update folgt bis 08:45 UTC.");
    EXPECT_EQ(a.approval_mode, approval::veto);
    EXPECT_EQ(a.approved_by, "");
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
    EXPECT_EQ(notes[0]->event, action_event::escalated);
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
    for (const auto& a : out) EXPECT_NE(a.event, action_event::escalated);
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
    EXPECT_EQ(out.back().event, action_event::escalated);
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
    EXPECT_EQ(out[0].event, action_event::resolved);
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

// The text is rendered once, when shown for the veto: a reload that changes what a placeholder
// would give (here: the playbook's status_url) does not change what goes out, which is what
// people could veto. (Before, the text was rendered again at posting and then skipped.)
TEST(engine_templates, the_shown_text_is_posted_even_when_a_reload_changed_its_values) {
    auto s = outage_settings(approval::veto);
    s.statements[0].text = {{"en", "Details: {status_url}"}};
    engine e(s);
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    ASSERT_EQ(e.find(1)->steps[holding_step].state, step_state::scheduled);
    auto saved = e.incidents();
    s.playbooks[0].status_url = "https://elsewhere.example";
    engine reloaded(s);
    out.clear();
    reloaded.restore(saved, engine::restore_reason::reload, t0 + 1min, out);
    EXPECT_TRUE(out.empty());
    reloaded.tick(t0 + 3min, out);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(out.at(0).text, "Details: https://status.example.at");
}

// {next_update} is computed when the text is shown for the veto, not when it is posted: what a
// person could veto is what goes out, byte for byte.
TEST(engine_templates, next_update_is_fixed_when_the_text_is_shown) {
    engine e(outage_settings());
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    const std::string shown = e.find(1)->steps[holding_step].preview;
    EXPECT_EQ(shown, "We are aware of the liwest outage and are working on it. Next update by 08:45 UTC.");
    EXPECT_EQ(e.find(1)->steps[holding_step].language, "en");
    out.clear();
    e.tick(t0 + 3min, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out.at(0).text, shown);
    EXPECT_EQ(e.find(1)->steps[holding_step].preview, shown);
    EXPECT_NE(history_of(*e.find(1), "posted step 1").find(shown), std::string::npos);
}

TEST(engine_templates, an_approved_statement_is_the_text_shown_for_approval) {
    engine e(outage_settings(approval::required));
    std::vector<action> out;
    e.open(outage({{"en", 1}}), t0, out);
    const std::string shown = e.find(1)->steps[holding_step].preview;
    out.clear();
    ASSERT_EQ(e.approve(1, holding_step, "anna", t0 + 40min, out), command_result::done);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, shown);
    EXPECT_EQ(out[0].approval_mode, approval::required);
    EXPECT_EQ(out[0].approved_by, "anna");
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
    std::vector<action> restored;
    e.restore(saved, engine::restore_reason::restart, t0 + 1min, restored);
    EXPECT_TRUE(restored.empty());
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
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 1min, out);
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::skipped);
    // The on_resolve steps still match the playbook's on_resolve list.
    e.resolve(1, "anna", t0 + 2h, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].idempotency_key, "1/resolve/4/comms-slack");
}

// ---- steps keep their identity across a reload or restart ----------------------------------

std::vector<const action*> of_step(const std::vector<action>& as, std::size_t step) {
    std::vector<const action*> r;
    for (const auto& a : as)
        if (a.step == step) r.push_back(&a);
    return r;
}

std::vector<incident> opened_with(const engine_settings& s, core::timestamp at = t0) {
    engine e(s);
    std::vector<action> out;
    e.open(outage(), at, out);
    return e.incidents();
}

// Issue 11, finding 2: step 2 was an escalation when the incident opened; the reloaded playbook
// has a `required` statement there. It must wait for a person, not post when the escalation
// would have fired.
TEST(engine_identity, a_step_that_became_a_required_statement_waits_for_approval) {
    auto saved = opened_with(outage_settings());
    auto s = outage_settings();
    s.playbooks[0].steps[escalate_index] = statement_step("outage-resolved", approval::required);
    engine e(s);
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 1min, out);
    EXPECT_TRUE(out.empty());
    const step_status& st = e.find(1)->steps[escalate_index];
    EXPECT_EQ(st.state, step_state::awaiting_approval);
    EXPECT_EQ(st.kind, step_kind::statement);
    EXPECT_TRUE(st.fresh_approval);
    EXPECT_EQ(st.preview, "Die Störung bei liwest ist behoben.");
    EXPECT_EQ(history_of(*e.find(1), "step 2 changed"),
              "step 2 changed in the playbook since the incident opened: needs approval");
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(of_step(out, escalate_index).empty());
    out.clear();
    ASSERT_EQ(e.approve(1, escalate_index, "anna", t0 + 1h, out), command_result::done);
    const auto posted = of_kind(out, action_kind::statement);
    ASSERT_EQ(posted.size(), 1u);
    EXPECT_EQ(posted[0]->text, "Die Störung bei liwest ist behoben.");
    EXPECT_EQ(posted[0]->approval_mode, approval::required);
    EXPECT_EQ(posted[0]->approved_by, "anna");
}

// Even an `auto` or `veto` statement that was not there when the incident opened needs a person:
// nobody agreed to it for this incident.
TEST(engine_identity, any_changed_statement_needs_fresh_approval) {
    for (approval mode : {approval::automatic, approval::veto}) {
        auto saved = opened_with(outage_settings());
        auto s = outage_settings();
        s.playbooks[0].steps[escalate_index] = statement_step("outage-resolved", mode, 1min);
        engine e(s);
        std::vector<action> out;
        e.restore(saved, engine::restore_reason::restart, t0 + 1min, out);
        e.tick(t0 + 1h, out);
        EXPECT_TRUE(of_step(out, escalate_index).empty()) << to_string(mode);
        EXPECT_EQ(e.find(1)->steps[escalate_index].state, step_state::awaiting_approval);
        // The holding statement did not change: its veto wait goes on as before.
        EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::emitted);
    }
}

TEST(engine_identity, a_statement_whose_approval_mode_changed_needs_fresh_approval) {
    auto saved = opened_with(outage_settings(approval::veto));
    engine e(outage_settings(approval::automatic));
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 1min, out);
    e.tick(t0 + 1min, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::awaiting_approval);
    // A veto no longer stops it from going out only by waiting: it can still be vetoed.
    EXPECT_EQ(e.veto(1, holding_step, "anna", t0 + 2min), command_result::done);
}

TEST(engine_identity, the_same_step_carries_on_with_its_timer_and_text) {
    auto saved = opened_with(outage_settings());
    const std::string shown = saved[0].steps[holding_step].preview;
    engine e(outage_settings());
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 1min, out);
    EXPECT_EQ(e.find(1)->steps[holding_step].due, t0 + 3min);
    EXPECT_FALSE(e.find(1)->steps[holding_step].fresh_approval);
    e.tick(t0 + 3min, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].text, shown);
    EXPECT_EQ(out[0].approval_mode, approval::veto);
    EXPECT_EQ(out[0].approved_by, "");
}

// A changed escalation runs as recorded when the incident opened (engine.hpp says why).
TEST(engine_identity, a_changed_escalation_runs_as_recorded) {
    auto saved = opened_with(outage_settings());
    auto s = outage_settings();
    s.playbooks[0].steps[escalate_index] = escalate_step(1min, {"somebody-else"});
    engine e(s);
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 2min, out);
    e.tick(t0 + 5min, out);
    EXPECT_TRUE(of_kind(out, action_kind::notify).empty());  // not at the new, shorter time
    EXPECT_EQ(history_of(*e.find(1), "step 2 changed"),
              "step 2 changed in the playbook since the incident opened: runs as it was when the incident opened");
    e.tick(t0 + 10min, out);
    ASSERT_EQ(out.size(), 2u);  // the holding statement at 3 min, then the escalation
    EXPECT_EQ(out[1].channel, "comms-lead");
    EXPECT_EQ(out[1].event, action_event::escalated);
}

TEST(engine_identity, a_statement_replaced_by_a_page_is_not_posted) {
    auto saved = opened_with(outage_settings());
    auto s = outage_settings();
    s.playbooks[0].steps[holding_step] = escalate_step(1min, {"comms-lead"});
    engine e(s);
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 30s, out);
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::skipped);
    EXPECT_EQ(history_of(*e.find(1), "skipped step 1"),
              "skipped step 1 changed in the playbook since the incident opened: it is no longer this statement step");
}

// Snapshots written before steps kept their identity: a statement counts as changed, a page
// follows the playbook (the only record there is).
TEST(engine_identity, steps_without_a_recorded_identity_count_as_changed) {
    auto saved = opened_with(outage_settings());
    for (auto& st : saved[0].steps) st.identity.reset();
    engine e(outage_settings());
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::restart, t0 + 1min, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::awaiting_approval);
    EXPECT_EQ(e.find(1)->steps[escalate_index].state, step_state::scheduled);
    e.tick(t0 + 10min, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].event, action_event::escalated);
}

// Defence in depth inside the engine: a `required` statement that somehow is scheduled (a damaged
// snapshot) is not posted by time passing.
TEST(engine_identity, a_required_statement_is_never_posted_without_a_person) {
    auto saved = opened_with(outage_settings(approval::required));
    auto& st = saved[0].steps[holding_step];
    ASSERT_EQ(st.state, step_state::awaiting_approval);
    st.state = step_state::scheduled;
    st.due = t0 + 1min;
    engine e(outage_settings(approval::required));
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 30s, out);
    e.tick(t0 + 2min, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].state, step_state::awaiting_approval);
}

// ---- overdue veto waits restart --------------------------------------------------------------

TEST(engine_restart, an_overdue_veto_wait_waits_again_and_responders_are_told) {
    auto saved = opened_with(outage_settings());  // veto wait 3 min, due t0 + 3 min
    engine e(outage_settings());
    const core::timestamp start = t0 + 2h;
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::restart, start, out);
    ASSERT_EQ(out.size(), 2u);
    for (const auto& a : out) {
        EXPECT_EQ(a.kind, action_kind::notify);
        EXPECT_EQ(a.event, action_event::veto_restarted);
        EXPECT_NE(a.text.find("unless vetoed"), std::string::npos) << a.text;
    }
    EXPECT_EQ(out[0].channel, "oncall-pagerduty");
    EXPECT_EQ(out[1].channel, "comms-slack");
    EXPECT_NE(out[0].idempotency_key, "1/open/1/oncall-pagerduty");
    ASSERT_EQ(e.acknowledge(1, "anna", start), command_result::done);  // no escalation in the way
    const step_status& st = e.find(1)->steps[holding_step];
    EXPECT_EQ(st.state, step_state::scheduled);
    EXPECT_EQ(st.due, start + 3min);
    EXPECT_EQ(e.next_deadline(), start + 3min);
    // Shown anew: its next update counts from now, not from before the outage.
    EXPECT_NE(st.preview.find("10:45 UTC"), std::string::npos) << st.preview;
    EXPECT_NE(history_of(*e.find(1), "ran out while crisisd was down").find("waits again until"), std::string::npos);
    out.clear();
    e.tick(start, out);
    e.tick(start + 2min, out);
    EXPECT_TRUE(out.empty());
    e.tick(start + 3min, out);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(out[0].text, e.find(1)->steps[holding_step].preview);
}

TEST(engine_restart, a_short_veto_wait_restarts_for_at_least_a_minute_and_can_be_vetoed) {
    auto s = outage_settings();
    s.playbooks[0].steps[holding_step].wait = 10s;
    auto saved = opened_with(s);
    engine e(s);
    const core::timestamp start = t0 + 5min;
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::restart, start, out);
    EXPECT_EQ(e.find(1)->steps[holding_step].due, start + 1min);
    EXPECT_EQ(e.veto(1, holding_step, "anna", start + 30s), command_result::done);
    out.clear();
    e.tick(start + 2min, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

TEST(engine_restart, without_a_notify_step_the_escalation_channels_are_told) {
    auto s = outage_settings();
    s.playbooks[0].steps.erase(s.playbooks[0].steps.begin());  // holding statement is now step 0
    auto saved = opened_with(s);
    engine e(s);
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::restart, t0 + 5min, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].channel, "comms-lead");
    EXPECT_EQ(out[0].step, 0u);
}

// A wait still running at the restart, and any wait at a reload, just carries on.
TEST(engine_restart, waits_not_yet_over_and_reloads_restart_nothing) {
    auto saved = opened_with(outage_settings());
    {
        engine e(outage_settings());
        std::vector<action> out;
        e.restore(saved, engine::restore_reason::restart, t0 + 1min, out);
        EXPECT_TRUE(out.empty());
        EXPECT_EQ(e.find(1)->steps[holding_step].due, t0 + 3min);
    }
    engine e(outage_settings());
    std::vector<action> out;
    e.restore(saved, engine::restore_reason::reload, t0 + 5min, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.find(1)->steps[holding_step].due, t0 + 3min);
}

TEST(engine_strings, approval_modes_as_in_the_config) {
    for (approval a : {approval::automatic, approval::veto, approval::required})
        EXPECT_EQ(approval_from_string(to_string(a)), a);
    EXPECT_EQ(to_string(approval::automatic), "auto");
    EXPECT_FALSE(approval_from_string("maybe"));
}

TEST(engine_strings, names_of_states_and_kinds) {
    EXPECT_EQ(to_string(incident_state::acknowledged), "acknowledged");
    EXPECT_EQ(to_string(step_state::awaiting_approval), "awaiting_approval");
    EXPECT_EQ(to_string(action_kind::statement), "statement");
    EXPECT_EQ(to_string(step_kind::escalate), "escalate");
}


// ---- retention: resolved incidents leave memory; deadlines from an ordered queue ----------

namespace retention {

using crisisd::testing::manual_clock;

engine_settings paging_settings(std::optional<core::duration> grace) {
    engine_settings e = outage_settings();
    e.playbooks.push_back(playbook_settings{});
    auto& pb = e.playbooks.back();
    pb.name = "page";
    pb.steps = {notify_step({"oncall"}), escalate_step(20min, {"lead"})};
    pb.on_resolve = {notify_step({"oncall"})};
    e.resolved_grace = grace;
    return e;
}

opening page(std::string key) {
    opening o = outage();
    o.playbook = "page";
    o.key = std::move(key);
    return o;
}

// The clock's time goes to tick() and retire(), as the pipeline does on its regular tick.
std::vector<std::uint64_t> tick(engine& e, const manual_clock& clock) {
    std::vector<action> out;
    std::vector<std::uint64_t> retired;
    e.tick(clock.now(), out);
    e.retire(clock.now(), retired);
    return retired;
}

TEST(engine_retention, a_resolved_incident_leaves_memory_once_its_grace_ran_out) {
    manual_clock clock(t0);
    engine e(paging_settings(1h));
    std::vector<action> out;
    const auto id = e.open(page("liwest"), clock.now(), out);
    clock.advance(10min);
    e.clear("isp-outage", "liwest", clock.now(), out);
    ASSERT_EQ(e.find(id)->state, incident_state::resolved);

    clock.advance(59min);
    EXPECT_TRUE(tick(e, clock).empty());
    EXPECT_NE(e.find(id), nullptr) << "still within the grace: the console shows it";

    clock.advance(1min);
    EXPECT_EQ(tick(e, clock), std::vector<std::uint64_t>{id});
    EXPECT_EQ(e.find(id), nullptr);
    EXPECT_TRUE(e.incidents().empty());
    EXPECT_FALSE(e.next_deadline().has_value());

    // Numbering goes on, and the same rule+key opens afresh.
    const auto next = e.open(page("liwest"), clock.now(), out);
    EXPECT_EQ(next, id + 1);
    EXPECT_EQ(e.find_open("isp-outage", "liwest")->id, next);
}

TEST(engine_retention, an_open_incident_never_leaves_memory) {
    manual_clock clock(t0);
    engine e(paging_settings(1h));
    std::vector<action> out;
    const auto open_id = e.open(page("liwest"), clock.now(), out);
    const auto acked_id = e.open(page("magenta"), clock.now(), out);
    ASSERT_EQ(e.acknowledge(acked_id, "Jana", clock.now()), command_result::done);
    for (int day = 0; day < 400; ++day) {
        clock.advance(24h);
        EXPECT_TRUE(tick(e, clock).empty());
    }
    ASSERT_NE(e.find(open_id), nullptr);
    ASSERT_NE(e.find(acked_id), nullptr);
    EXPECT_EQ(e.incidents().size(), 2u);
    std::size_t open = 0;
    e.for_each_open([&](const incident&) { ++open; });
    EXPECT_EQ(open, 2u);
}

TEST(engine_retention, a_resolved_incident_waiting_for_a_person_stays_and_its_grace_counts_from_the_last_change) {
    manual_clock clock(t0);
    engine_settings s = outage_settings();
    s.resolved_grace = 1h;
    engine e(s);
    std::vector<action> out;
    const auto id = e.open(outage(), clock.now(), out);
    clock.advance(5min);
    e.clear("isp-outage", "liwest", clock.now(), out);
    // The on_resolve statement needs a person's approval: the incident is not done.
    ASSERT_EQ(e.find(id)->steps[resolved_statement].state, step_state::awaiting_approval);
    clock.advance(3h);
    EXPECT_TRUE(tick(e, clock).empty());
    ASSERT_NE(e.find(id), nullptr);

    ASSERT_EQ(e.approve(id, resolved_statement, "Head of Communications", clock.now(), out), command_result::done);
    clock.advance(59min);
    EXPECT_TRUE(tick(e, clock).empty()) << "the grace counts from the approval, not from resolution";
    clock.advance(1min);
    EXPECT_EQ(tick(e, clock), std::vector<std::uint64_t>{id});
}

TEST(engine_retention, without_a_grace_resolved_incidents_stay) {
    manual_clock clock(t0);
    engine e(paging_settings(std::nullopt));
    std::vector<action> out;
    const auto id = e.open(page("liwest"), clock.now(), out);
    e.clear("isp-outage", "liwest", clock.now(), out);
    clock.advance(24h * 365);
    EXPECT_TRUE(tick(e, clock).empty());
    EXPECT_NE(e.find(id), nullptr);
}

TEST(engine_retention, a_restored_incident_resolved_long_ago_leaves_at_the_next_retire) {
    manual_clock clock(t0);
    engine first(paging_settings(1h));
    std::vector<action> out;
    const auto old_id = first.open(page("liwest"), clock.now(), out);
    first.clear("isp-outage", "liwest", clock.now(), out);
    const auto live_id = first.open(page("magenta"), clock.now(), out);

    clock.advance(48h);
    engine second(paging_settings(1h));
    second.restore(first.incidents(), engine::restore_reason::restart, clock.now(), out);
    EXPECT_EQ(tick(second, clock), std::vector<std::uint64_t>{old_id});
    ASSERT_NE(second.find(live_id), nullptr);
    EXPECT_EQ(second.incidents().size(), 1u);
    EXPECT_EQ(second.next_id(), live_id + 1);
}

// The earliest due time of any scheduled step, by walking everything (what next_deadline did).
std::optional<core::timestamp> brute_force_deadline(const engine& e) {
    std::optional<core::timestamp> next;
    for (const incident& inc : e.incidents())
        for (const step_status& st : inc.steps)
            if (st.state == step_state::scheduled && st.due && (!next || *st.due < *next)) next = st.due;
    return next;
}

TEST(engine_retention, next_deadline_matches_a_scan_of_every_step_over_randomized_schedules) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        engine_settings s = outage_settings();
        s.resolved_grace = std::chrono::minutes(60 + pick(600));
        playbook_settings pb;
        pb.name = "random";
        for (int i = 0, n = 1 + pick(4); i < n; ++i) pb.steps.push_back(escalate_step(std::chrono::minutes(pick(90)), {"lead"}));
        pb.steps.push_back(statement_step("outage-holding", approval::veto, std::chrono::minutes(1 + pick(30))));
        pb.on_resolve = {statement_step("outage-resolved", approval::veto, std::chrono::minutes(pick(20))),
                         notify_step({"oncall"})};
        pb.status_url = "https://status.example.at";
        s.playbooks.push_back(pb);
        engine e(s);
        manual_clock clock(t0);
        std::vector<action> out;
        std::vector<std::uint64_t> retired;
        for (int op = 0; op < 400; ++op) {
            const std::string key = "k" + std::to_string(pick(8));
            opening o = outage();
            o.playbook = pick(3) == 0 ? "outage-holding-statement" : "random";
            o.key = key;
            std::uint64_t any_id = e.incidents().empty() ? 0 : e.incidents()[static_cast<std::size_t>(pick(static_cast<int>(e.incidents().size())))].id;
            switch (pick(8)) {
                case 0:
                case 1: e.open(o, clock.now(), out); break;
                case 2: e.clear("isp-outage", key, clock.now(), out); break;
                case 3: e.acknowledge(any_id, "Jana", clock.now()); break;
                case 4: e.veto(any_id, static_cast<std::size_t>(pick(6)), "Jana", clock.now()); break;
                case 5: e.approve(any_id, static_cast<std::size_t>(pick(6)), "Jana", clock.now(), out); break;
                default: clock.advance(std::chrono::seconds(pick(3600))); break;
            }
            const std::size_t before = retired.size();
            e.tick(clock.now(), out);
            e.retire(clock.now(), retired);
            for (std::size_t i = before; i < retired.size(); ++i) {
                ASSERT_EQ(e.find(retired[i]), nullptr);
            }
            ASSERT_EQ(e.next_deadline(), brute_force_deadline(e)) << "seed " << seed << " op " << op;
            // Nothing due is left behind by tick().
            if (auto d = e.next_deadline()) {
                ASSERT_GT(*d, clock.now()) << "seed " << seed << " op " << op;
            }
            for (const incident& inc : e.incidents()) {
                if (inc.state != incident_state::resolved) {
                    ASSERT_EQ(e.find_open(inc.rule, inc.key), &inc);
                }
            }
        }
        EXPECT_FALSE(retired.empty()) << "seed " << seed << ": the schedule should retire some incidents";
    }
}

}  // namespace retention
}  // namespace
}  // namespace crisisd::incident

namespace crisisd::incident {
namespace {

// The wall clock set forward past the veto wait: without the shift the statement went out at the
// next tick, a second after the incident opened. With it, the wait keeps the length it had left.
TEST(engine_shift, a_step_forward_keeps_the_veto_wait_it_had_left) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    out.clear();
    e.tick(t0 + 1min, out);
    e.shift(700s);
    e.tick(t0 + 1min + 700s + 1s, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.next_deadline(), t0 + 3min + 700s);
    EXPECT_EQ(e.veto(id, holding_step, "anna", t0 + 2min + 700s), command_result::done);
    e.tick(t0 + 3min + 700s, out);
    EXPECT_TRUE(of_kind(out, action_kind::statement).empty());
}

// Set back an hour: without the shift the statement and the escalation waited an extra hour.
// Times already recorded move too, so the incident's history reads in the clock people see.
TEST(engine_shift, a_step_back_keeps_waits_silences_and_history_in_step) {
    engine e(outage_settings());
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(e.silence("isp-outage", "other", t0 + 1h, "anna", t0), command_result::done);
    out.clear();
    e.shift(-1h);
    e.tick(t0 - 1h + 3min, out);
    ASSERT_EQ(of_kind(out, action_kind::statement).size(), 1u);
    EXPECT_EQ(e.find(id)->opened_at, t0 - 1h);
    EXPECT_EQ(e.find(id)->history.front().at, t0 - 1h);
    EXPECT_TRUE(e.silenced("isp-outage", "other", t0 - 1h + 59min));
    EXPECT_FALSE(e.silenced("isp-outage", "other", t0 + 1min));
}

}  // namespace
}  // namespace crisisd::incident

namespace crisisd::incident {
namespace {

// Cluster mode: ids come from the partition's sequence, and a partition that moved away leaves
// the engine without actions, its rule+key free for the next owner's copy.
using namespace std::chrono_literals;

TEST(engine_cluster, ids_come_from_the_id_source_and_drop_lets_incidents_go_without_actions) {
    engine e(outage_settings());
    e.set_id_source([](std::string_view, std::string_view) { return std::uint64_t{120007}; });
    std::vector<action> out;
    const auto id = e.open(outage(), t0, out);
    EXPECT_EQ(id, 120007u);
    EXPECT_EQ(out[0].idempotency_key, "120007/open/0/oncall-pagerduty");
    ASSERT_NE(e.next_deadline(), std::nullopt);

    out.clear();
    const auto dropped = e.drop([](const incident& inc) { return inc.id % 10000 == 7; });
    EXPECT_EQ(dropped, std::vector<std::uint64_t>{120007});
    EXPECT_EQ(e.find(120007), nullptr);
    EXPECT_EQ(e.find_open("isp-outage", "liwest"), nullptr);
    EXPECT_EQ(e.next_deadline(), std::nullopt);
    e.tick(t0 + 1h, out);
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace crisisd::incident
