// The incident view (admin API, console, `--report`): the engine's incident in the codec's
// names, its evidence, what was emitted with its delivery status and what is still pending.
#include "report/incident_log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace crisisd::report {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;

std::unique_ptr<pipeline::pipeline> storm_pipeline(std::vector<incident::playbook_settings>& playbooks) {
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.playbook = "outage";
    r.match.keywords = {"liwest"};
    r.detect.fire_when = {true, {{detect::metric::negative_count, detect::comparison::ge, 10}}, {}};
    r.detect.clear_when = {true, {{detect::metric::negative_count, detect::comparison::lt, 2}}, 2min};
    incident::playbook_settings pb;
    pb.name = "outage";
    incident::step_settings page;
    page.channels = {"oncall"};
    incident::step_settings post;
    post.kind = incident::step_kind::statement;
    post.statement = "holding";
    post.channels = {"brand"};
    post.approval_mode = incident::approval::veto;
    post.wait = 3min;
    pb.steps = {page, post};
    incident::statement_settings st;
    st.name = "holding";
    st.approved_by = "legal";
    st.approved_at = "2026-11-01";
    st.text = {{"en", "We know about the outage."}};
    pipeline::pipeline_settings ps;
    ps.rules = {r};
    ps.incidents.playbooks = {pb};
    ps.incidents.statements = {st};
    playbooks = ps.incidents.playbooks;
    return std::move(std::get<std::unique_ptr<pipeline::pipeline>>(pipeline::pipeline::create(std::move(ps))));
}

TEST(incident_log, writes_the_view_with_emitted_and_pending_actions) {
    std::vector<incident::playbook_settings> playbooks;
    auto p = storm_pipeline(playbooks);
    incident_log log;
    pipeline::step_result step;
    core::mention m;
    m.lang = "en";
    m.text = "Liwest is down again, terrible and awful service";
    for (int i = 0; i < 12; ++i) {
        m.id = "m" + std::to_string(i);
        m.author = "@a" + std::to_string(i);
        p->process(m, t0 + std::chrono::seconds(i), step);
    }
    for (const auto& a : step.actions) log.emitted(a);
    ASSERT_EQ(p->incidents().incidents().size(), 1u);
    log.sample(*p, t0 + 15s);

    incident_log::view_options o;
    o.now = t0 + 15s;
    auto status = [](const incident::action&) { return delivery_status::sent; };
    auto doc = boost::json::parse(log.write_all(*p, playbooks, status, o, true, std::nullopt));
    const auto& inc = doc.at("incidents").at(0).as_object();
    EXPECT_EQ(inc.at("state").as_string(), "open");
    EXPECT_TRUE(inc.at("acknowledged_at").is_null());
    EXPECT_GE(inc.at("evidence").at("count").to_number<double>(), 10);
    EXPECT_TRUE(inc.at("evidence").as_object().contains("zscore"));
    EXPECT_FALSE(inc.at("evidence").at("samples").as_array().empty());
    const auto& actions = inc.at("actions").as_array();
    ASSERT_EQ(actions.size(), 2u);
    EXPECT_EQ(actions[0].at("kind").as_string(), "notify");
    EXPECT_EQ(actions[0].at("status").as_string(), "sent");
    EXPECT_EQ(actions[1].at("kind").as_string(), "statement");
    EXPECT_EQ(actions[1].at("status").as_string(), "pending");
    EXPECT_EQ(actions[1].at("text").as_string(), "We know about the outage.");
    const auto& steps = inc.at("steps").as_array();
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[1].at("kind").as_string(), "statement");
    EXPECT_EQ(steps[1].at("state").as_string(), "scheduled");
    EXPECT_EQ(steps[1].at("approval").as_string(), "veto");
    EXPECT_EQ(inc.at("series").as_array().size(), 2u);  // the evidence at opening, then the sample

    o.detail = false;
    auto lean = boost::json::parse(log.write_all(*p, playbooks, status, o, false, 12));
    EXPECT_FALSE(lean.at("incidents").at(0).as_object().contains("steps"));
    EXPECT_EQ(lean.at("mentions_processed").as_int64(), 12);
}

// GET /api/v1/incidents answers from write_list: the same bytes as write_all's detailed list,
// with a settled incident's view kept until something about it changes.
TEST(incident_log, list_keeps_settled_views_until_they_change) {
    std::vector<incident::playbook_settings> playbooks;
    auto p = storm_pipeline(playbooks);
    incident_log log;
    pipeline::step_result step;
    core::mention m;
    m.lang = "en";
    m.text = "Liwest is down again, terrible and awful service";
    for (int i = 0; i < 12; ++i) {
        m.id = "m" + std::to_string(i);
        m.author = "@a" + std::to_string(i);
        p->process(m, t0 + std::chrono::seconds(i), step);
    }
    for (const auto& a : step.actions) log.emitted(a);
    ASSERT_EQ(p->incidents().incidents().size(), 1u);
    const auto id = p->incidents().incidents()[0].id;
    log.sample(*p, t0 + 15s);

    incident_log::view_options o;
    o.now = t0 + 15s;
    o.wall_ms = [](core::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    std::string sent_or_not = "sent";
    auto status = [&](const incident::action&) {
        return sent_or_not == "sent" ? delivery_status::sent : delivery_status::pending;
    };
    auto same_as_write_all = [&] {
        EXPECT_EQ(log.write_list(*p, playbooks, status, o), log.write_all(*p, playbooks, status, o, true, std::nullopt));
    };

    // Open, with a statement waiting out its veto: rendered on every request, never kept.
    same_as_write_all();
    EXPECT_EQ(log.cached_views(), 0u);

    // Resolved with nothing pending: kept, and answered from the cache while nothing changes.
    std::vector<incident::action> out;
    ASSERT_EQ(p->incidents().resolve(id, "alice", t0 + 20s, out), incident::command_result::done);
    for (const auto& a : out) log.emitted(a);
    o.now = t0 + 21s;
    same_as_write_all();
    EXPECT_EQ(log.cached_views(), 1u);
    const auto before = log.write_list(*p, playbooks, status, o);

    // A change the log is told about (a delivery outcome, a command) renders it again.
    sent_or_not = "pending";
    EXPECT_EQ(log.write_list(*p, playbooks, status, o), before);  // not told: the cached view
    log.changed(std::vector<std::uint64_t>{id});
    EXPECT_EQ(log.cached_views(), 0u);
    same_as_write_all();
    EXPECT_EQ(log.cached_views(), 0u);  // an action pending again: not settled
    EXPECT_NE(log.write_list(*p, playbooks, status, o), before);
    sent_or_not = "sent";
    same_as_write_all();
    EXPECT_EQ(log.cached_views(), 1u);
    log.forget_views();  // new playbooks
    EXPECT_EQ(log.cached_views(), 0u);
    same_as_write_all();

    // ?resolved=N: open incidents and the newest N resolved ones, and how many were left out.
    auto none = boost::json::parse(log.write_list(*p, playbooks, status, o, 0));
    EXPECT_TRUE(none.at("incidents").as_array().empty());
    EXPECT_EQ(none.at("resolved_omitted").as_int64(), 1);
    auto one = boost::json::parse(log.write_list(*p, playbooks, status, o, 1));
    EXPECT_EQ(one.at("incidents").as_array().size(), 1u);
    EXPECT_EQ(one.at("resolved_omitted").as_int64(), 0);

    // Retired from the engine's memory: out of the list and out of the cache.
    step.clear();
    p->tick(t0 + 20s + 25h, step);
    ASSERT_EQ(step.retired, std::vector<std::uint64_t>{id});
    log.forget(step.retired);
    EXPECT_EQ(log.cached_views(), 0u);
    auto doc = boost::json::parse(log.write_list(*p, playbooks, status, o));
    EXPECT_TRUE(doc.at("incidents").as_array().empty());
}

// The view's delivery status of an action follows its outbox record; the record's state is read
// back from the database by the names it was written with.
TEST(incident_log, delivery_status_follows_the_outbox_record) {
    EXPECT_EQ(delivery_status_of(nullptr), delivery_status::pending);
    state::record r;
    for (auto [st, want] : {std::pair{state::record_state::pending, "pending"}, std::pair{state::record_state::sent, "sent"},
                            std::pair{state::record_state::dead, "failed"}}) {
        r.state = st;
        EXPECT_EQ(to_string(delivery_status_of(&r)), want);
        EXPECT_EQ(state::record_state_from_string(state::to_string(st)), st);
    }
    EXPECT_FALSE(state::record_state_from_string("lost"));
}

}  // namespace
}  // namespace crisisd::report
