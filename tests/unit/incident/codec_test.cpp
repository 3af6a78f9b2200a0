// The codec: enum names both ways; incident snapshots round-trip exactly (a restart restores
// incidents and step timers as they were); action payloads read back what was written, in the
// very bytes channels have always received.
#include "incident/codec.hpp"

#include <gtest/gtest.h>

namespace crisisd::incident {
namespace {

using namespace std::chrono_literals;

template <class E>
void expect_names_round_trip(std::initializer_list<E> all, std::optional<E> (*from)(std::string_view)) {
    for (E e : all) EXPECT_EQ(from(to_string(e)), e) << to_string(e);
    EXPECT_FALSE(from("maybe"));
    // An empty name is none of them, except action_event::none's (an action without an event).
    if constexpr (!std::is_same_v<E, action_event>) {
        EXPECT_FALSE(from(""));
    }
}

TEST(names, every_enum_round_trips_and_unknown_names_are_refused) {
    expect_names_round_trip({incident_state::open, incident_state::acknowledged, incident_state::resolved},
                            incident_state_from_string);
    expect_names_round_trip({step_state::scheduled, step_state::awaiting_approval, step_state::emitted,
                             step_state::vetoed, step_state::skipped},
                            step_state_from_string);
    expect_names_round_trip({action_kind::notify, action_kind::statement}, action_kind_from_string);
    expect_names_round_trip({step_kind::notify, step_kind::statement, step_kind::escalate}, step_kind_from_string);
    expect_names_round_trip({approval::automatic, approval::veto, approval::required}, approval_from_string);
    EXPECT_EQ(to_string(approval::automatic), "auto");  // the config's spelling
    expect_names_round_trip({action_event::none, action_event::opened, action_event::escalated,
                             action_event::acknowledged, action_event::resolved, action_event::veto_restarted},
                            action_event_from_string);
    expect_names_round_trip({severity_level::info, severity_level::warning, severity_level::critical},
                            severity_level_from_string);
    // The names on the wire, in payloads, snapshots and the config, as they always were.
    EXPECT_EQ(to_string(action_event::none), "");
    EXPECT_EQ(to_string(action_event::opened), "opened");
    EXPECT_EQ(to_string(action_event::escalated), "escalated");
    EXPECT_EQ(to_string(action_event::acknowledged), "acknowledged");
    EXPECT_EQ(to_string(action_event::resolved), "resolved");
    EXPECT_EQ(to_string(action_event::veto_restarted), "veto_restarted");
    EXPECT_EQ(to_string(severity_level::info), "info");
    EXPECT_EQ(to_string(severity_level::warning), "warning");
    EXPECT_EQ(to_string(severity_level::critical), "critical");
    EXPECT_FALSE(action_event_from_string("ack"));
    EXPECT_FALSE(severity_level_from_string("major"));
    EXPECT_EQ(action_kind_of(step_kind::escalate), action_kind::notify);
    EXPECT_EQ(action_kind_of(step_kind::statement), action_kind::statement);
}

TEST(incident_snapshot, round_trips_every_field) {
    incident inc;
    inc.id = 42;
    inc.rule = "isp-outage";
    inc.key = "liwest";
    inc.severity = severity_level::critical;
    inc.playbook = "outage-holding-statement";
    inc.state = incident_state::acknowledged;
    inc.opened_at = *core::parse_rfc3339("2026-11-26T08:17:00.123456Z");
    inc.acknowledged_at = inc.opened_at + std::chrono::seconds(30);
    inc.evidence.count = 40;
    inc.evidence.negative_ratio = 0.75;
    inc.evidence.volume_ratio = 6.5;
    inc.languages = {{"de", 30}, {"en", 10}};
    step_status st;
    st.index = 1;
    st.kind = step_kind::statement;
    st.state = step_state::scheduled;
    st.due = inc.opened_at + std::chrono::minutes(3);
    st.preview = "Wir wissen von der Störung \"liwest\".";
    st.language = "de";
    st.fresh_approval = true;
    step_identity id;
    id.kind = step_kind::statement;
    id.statement = "outage-holding";
    id.approval_mode = approval::veto;
    id.channels = {"brand-mastodon", "brand-bluesky"};
    id.wait = std::chrono::minutes(3);
    id.after = std::chrono::seconds(7);
    id.unless_acknowledged = false;
    st.identity = id;
    inc.steps.push_back(st);
    step_status later;
    later.index = 2;
    later.on_resolve = true;
    inc.steps.push_back(later);
    inc.history.push_back({inc.opened_at, "crisisd", "opened"});

    auto back = incident_from_json(incident_to_json(inc));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, 42u);
    EXPECT_EQ(back->rule, inc.rule);
    EXPECT_EQ(back->severity, severity_level::critical);
    EXPECT_EQ(back->state, incident_state::acknowledged);
    EXPECT_EQ(back->opened_at, inc.opened_at);
    EXPECT_EQ(back->acknowledged_at, inc.acknowledged_at);
    EXPECT_FALSE(back->resolved_at);
    EXPECT_EQ(back->evidence.volume_ratio, 6.5);
    EXPECT_EQ(back->languages, inc.languages);
    ASSERT_EQ(back->steps.size(), 2u);
    EXPECT_EQ(back->steps[0].due, st.due);
    EXPECT_EQ(back->steps[0].preview, st.preview);
    EXPECT_EQ(back->steps[0].kind, step_kind::statement);
    EXPECT_EQ(back->steps[0].language, "de");
    EXPECT_TRUE(back->steps[0].fresh_approval);
    EXPECT_EQ(back->steps[0].identity, st.identity);
    EXPECT_FALSE(back->steps[1].identity);
    EXPECT_FALSE(back->steps[1].fresh_approval);
    EXPECT_TRUE(back->steps[1].on_resolve);
    EXPECT_FALSE(back->steps[1].due);
    ASSERT_EQ(back->history.size(), 1u);
    EXPECT_EQ(back->history[0].what, "opened");
    EXPECT_FALSE(incident_from_json("[]"));
}

// A snapshot written before steps kept their identity still loads; the missing identity is what
// tells the engine the step counts as changed.
TEST(incident_snapshot, old_snapshots_without_identities_load) {
    const std::string old = R"({"id":3,"rule":"r","key":"k","severity":"critical","playbook":"p","state":"open",
        "opened_at_us":1000,"acknowledged_at_us":null,"resolved_at_us":null,"evidence":{},"languages":{"de":2},
        "steps":[{"index":0,"on_resolve":false,"kind":"statement","state":"scheduled","due_us":2000,"preview":"Hallo"}],
        "history":[]})";
    auto back = incident_from_json(old);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->steps.size(), 1u);
    EXPECT_FALSE(back->steps[0].identity);
    EXPECT_FALSE(back->steps[0].fresh_approval);
    EXPECT_EQ(back->steps[0].preview, "Hallo");
    EXPECT_EQ(back->steps[0].language, "");
    // An identity that cannot be read is no identity either.
    auto damaged = incident_from_json(R"({"id":4,"steps":[{"index":0,"kind":"statement","identity":{"kind":"statement",
        "approval":"sometimes","channels":["x"]}}]})");
    ASSERT_TRUE(damaged);
    EXPECT_FALSE(damaged->steps.at(0).identity);
}

// Reading a snapshot and writing it again gives the same bytes: no field is lost on the way.
TEST(incident_snapshot, reading_and_writing_again_is_byte_identical) {
    incident inc;
    inc.id = 7;
    inc.rule = "r";
    inc.state = incident_state::resolved;
    inc.opened_at = core::timestamp{core::duration{1'000'000}};
    inc.resolved_at = inc.opened_at + 90s;
    inc.evidence = {12, 9, 0.75, -0.5, 8, 3.5, 0.25, 14, 2.5};
    step_status st;
    st.kind = step_kind::escalate;
    st.state = step_state::skipped;
    inc.steps.push_back(st);
    inc.history.push_back({inc.opened_at, "crisisd", "opened"});
    const auto once = incident_to_json(inc);
    auto back = incident_from_json(once);
    ASSERT_TRUE(back);
    EXPECT_EQ(incident_to_json(*back), once);
    EXPECT_EQ(back->evidence.zscore, 2.5);
    EXPECT_EQ(back->evidence.mean_compound, -0.5);
    EXPECT_EQ(back->steps.at(0).kind, step_kind::escalate);
    EXPECT_EQ(back->steps.at(0).state, step_state::skipped);
}

action statement_action() {
    action a;
    a.idempotency_key = "3/open/1/brand-mastodon";
    a.incident_id = 3;
    a.step = 1;
    a.kind = action_kind::statement;
    a.channel = "brand-mastodon";
    a.statement = "outage-holding";
    a.language = "de";
    a.text = "Wir wissen von der \"Störung\".";
    a.at = *core::parse_rfc3339("2026-11-26T08:20:00Z");
    a.approval_mode = approval::required;
    a.approved_by = "alice";
    return a;
}

incident open_incident() {
    incident inc;
    inc.id = 3;
    inc.rule = "isp-outage";
    inc.key = "liwest";
    inc.severity = severity_level::critical;
    inc.state = incident_state::acknowledged;
    inc.opened_at = *core::parse_rfc3339("2026-11-26T08:17:00Z");
    inc.evidence = {40, 30, 0.75, -0.6, 25, 12.5, 1.5, 8.25, 4};
    return inc;
}

// The exact body channels and webhook receivers have always been sent: a change here is a change
// on the wire.
TEST(action_payload, writes_the_wire_format) {
    const auto inc = open_incident();
    EXPECT_EQ(action_to_json(statement_action(), &inc, "https://crisisd.example/"),
              R"({"idempotency_key":"3/open/1/brand-mastodon","kind":"statement","channel":"brand-mastodon",)"
              R"("text":"Wir wissen von der \"Störung\".","at":"2026-11-26T08:20:00Z","statement":"outage-holding",)"
              R"("language":"de","approval":"required","approved_by":"alice","incident":{"id":3,"rule":"isp-outage",)"
              R"("key":"liwest","severity":"critical","state":"acknowledged","opened_at":"2026-11-26T08:17:00Z",)"
              R"("evidence":{"count":40,"negative_count":30,"negative_ratio":0.75,"unique_authors":25,)"
              R"("volume_ratio":8.25,"rate":12.5,"baseline_rate":1.5}},)"
              R"("console_url":"https://crisisd.example/#incident-3"})");
    action n;
    n.idempotency_key = "3/acknowledged/pd";
    n.channel = "pd";
    n.event = action_event::acknowledged;
    n.text = "incident 3 acknowledged";
    n.at = *core::parse_rfc3339("2026-11-26T08:21:00Z");
    EXPECT_EQ(action_to_json(n, nullptr, "https://ignored.example/"),
              R"({"idempotency_key":"3/acknowledged/pd","kind":"notify","channel":"pd",)"
              R"("text":"incident 3 acknowledged","at":"2026-11-26T08:21:00Z","event":"acknowledged"})");
}

// Every event a notify action carries, and each severity, spelled on the wire as before.
TEST(action_payload, writes_every_event_and_severity_by_its_name) {
    auto inc = open_incident();
    for (auto [level, name] : {std::pair{severity_level::info, "info"}, std::pair{severity_level::warning, "warning"}}) {
        inc.severity = level;
        action n;
        n.idempotency_key = "3/open/0/pd";
        n.channel = "pd";
        n.event = action_event::opened;
        n.text = "t";
        n.at = *core::parse_rfc3339("2026-11-26T08:21:00Z");
        const auto json = action_to_json(n, &inc, "");
        EXPECT_NE(json.find(std::string(R"("severity":")") + name + "\""), std::string::npos) << json;
        EXPECT_NE(json.find(R"("at":"2026-11-26T08:21:00Z","event":"opened","incident":{)"), std::string::npos) << json;
    }
    for (auto [event, name] : {std::pair{action_event::escalated, "escalated"}, std::pair{action_event::resolved, "resolved"},
                               std::pair{action_event::veto_restarted, "veto_restarted"}}) {
        action n;
        n.idempotency_key = "k";
        n.channel = "pd";
        n.event = event;
        n.at = *core::parse_rfc3339("2026-11-26T08:21:00Z");
        EXPECT_EQ(action_to_json(n, nullptr, ""),
                  std::string(R"({"idempotency_key":"k","kind":"notify","channel":"pd","text":"","at":"2026-11-26T08:21:00Z","event":")") +
                      name + "\"}");
        auto back = action_from_json(action_to_json(n, nullptr, ""));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->event, event);
    }
}

TEST(action_payload, reads_back_what_was_written) {
    auto inc = open_incident();
    inc.resolved_at = inc.opened_at + 30min;
    const auto a = statement_action();
    auto p = action_from_json(action_to_json(a, &inc, "https://crisisd.example/"));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->idempotency_key, a.idempotency_key);
    EXPECT_EQ(p->kind, action_kind::statement);
    EXPECT_EQ(p->channel, a.channel);
    EXPECT_EQ(p->text, a.text);
    EXPECT_EQ(p->at, a.at);
    EXPECT_EQ(p->statement, a.statement);
    EXPECT_EQ(p->language, "de");
    EXPECT_TRUE(p->has_approval);
    EXPECT_EQ(p->approval_mode, approval::required);
    EXPECT_EQ(p->approved_by, "alice");
    EXPECT_EQ(p->console_url, "https://crisisd.example/#incident-3");
    ASSERT_TRUE(p->incident);
    EXPECT_EQ(p->incident->id, 3u);
    EXPECT_EQ(p->incident->rule, "isp-outage");
    EXPECT_EQ(p->incident->key, "liwest");
    EXPECT_EQ(p->incident->severity, severity_level::critical);
    EXPECT_EQ(p->incident->state, incident_state::acknowledged);
    EXPECT_EQ(p->incident->opened_at, inc.opened_at);
    EXPECT_EQ(p->incident->resolved_at, inc.resolved_at);
    EXPECT_EQ(p->incident->evidence.volume_ratio, 8.25);
    EXPECT_EQ(p->incident->evidence.baseline_rate, 1.5);
    EXPECT_EQ(p->incident->evidence.zscore, 0);  // not in the summary form
}

TEST(action_payload, reads_damaged_and_old_payloads_without_guessing) {
    EXPECT_FALSE(action_from_json("[]"));
    EXPECT_FALSE(action_from_json("{\"kind\":"));
    auto old = action_from_json(R"({"kind":"statement","text":"x","at":"not a time","incident":{"id":-4}})");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->kind, action_kind::statement);
    EXPECT_FALSE(old->has_approval);  // written before approvals travelled with statements
    EXPECT_EQ(old->at, core::timestamp{});
    ASSERT_TRUE(old->incident);
    EXPECT_EQ(old->incident->id, 0u);
    EXPECT_FALSE(old->incident->state);
    EXPECT_FALSE(old->incident->severity);
    EXPECT_EQ(old->event, action_event::none);  // a statement's payload has no event
    auto odd = action_from_json(R"({"kind":"tweet","approval":7,"event":"exploded"})");
    ASSERT_TRUE(odd);
    EXPECT_FALSE(odd->kind);
    EXPECT_TRUE(odd->has_approval);
    EXPECT_FALSE(odd->approval_mode);
    EXPECT_FALSE(odd->incident);
    EXPECT_FALSE(odd->event);  // a name this crisisd does not know
}

}  // namespace
}  // namespace crisisd::incident
