// incident_list_bench: what rendering GET /api/v1/incidents costs with N incidents held in memory
// (issue 13: 2,000 held, the storm's count, made each answer take 62 ms of the event loop).
// Ten are open, the rest resolved with their pages sent, as during the day after a storm
// (storage.resolved_grace keeps them 24 h). Not a test: it reports and never fails on a timing.
//
//   every_incident   incident_log::write_all, the list as it was answered before: every
//                    incident rendered on every request
//   settled_cached   incident_log::write_list, the list as it is answered now: settled
//                    incidents' views kept, the open ones rendered
//
// The status function here is a map lookup; the daemon's reads the outbox's SQLite table per
// action, which write_list also skips for the cached views, so the live ratio is larger.
#include <benchmark/benchmark.h>

#include <map>
#include <string>

#include "pipeline/pipeline.hpp"
#include "report/incident_log.hpp"

namespace {

using namespace std::chrono_literals;
using namespace crisisd;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;
constexpr int open_incidents = 10;

struct held {
    std::unique_ptr<pipeline::pipeline> p;
    std::vector<incident::playbook_settings> playbooks;
    report::incident_log log;
    std::map<std::string, report::delivery_status> outbox;
    report::incident_log::view_options o;

    report::delivery_status status(const incident::action& a) const {
        auto it = outbox.find(a.idempotency_key);
        return it == outbox.end() ? report::delivery_status::pending : it->second;
    }
};

// One rule grouped by source: each source's angry mention opens an incident of its own.
std::unique_ptr<held> hold(int incidents) {
    auto h = std::make_unique<held>();
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.playbook = "outage";
    r.max_incidents_per_hour = 0;
    r.match.keywords = {"liwest"};
    r.detect.group_by = detect::group_topic | detect::group_source;
    r.detect.fire_when = {true, {{detect::metric::negative_count, detect::comparison::ge, 1}}, {}};
    r.detect.clear_when = {true, {{detect::metric::count, detect::comparison::lt, 1}}, 1h};
    incident::playbook_settings pb;
    pb.name = "outage";
    incident::step_settings page;
    page.channels = {"oncall", "chat"};
    pb.steps = {page};
    pipeline::pipeline_settings ps;
    ps.rules = {r};
    ps.incidents.playbooks = {pb};
    h->playbooks = ps.incidents.playbooks;
    h->p = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(pipeline::pipeline::create(std::move(ps))));

    pipeline::step_result step;
    core::mention m;
    m.lang = "en";
    m.author = "@angry";
    m.text = "Liwest is down again, terrible and awful service, nothing works";
    for (int i = 0; i < incidents; ++i) {
        m.id = "m" + std::to_string(i);
        m.source = "s" + std::to_string(i);
        h->p->process(m, t0 + std::chrono::milliseconds(i), step);
    }
    std::vector<incident::action> actions = step.actions;
    const auto& all = h->p->incidents().incidents();
    std::vector<std::uint64_t> ids;
    for (const auto& inc : all) ids.push_back(inc.id);
    for (std::size_t i = 0; i + open_incidents < ids.size(); ++i)
        h->p->incidents().resolve(ids[i], "alice", t0 + 1h, actions);
    for (const auto& a : actions) {
        h->log.emitted(a);
        h->outbox[a.idempotency_key] = report::delivery_status::sent;
    }
    h->log.sample(*h->p, t0 + 1h);
    h->o.now = t0 + 1h;
    return h;
}

void every_incident(benchmark::State& state) {
    auto h = hold(static_cast<int>(state.range(0)));
    auto status = [&](const incident::action& a) { return h->status(a); };
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto body = h->log.write_all(*h->p, h->playbooks, status, h->o, true, std::nullopt);
        bytes = body.size();
        benchmark::DoNotOptimize(body);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
}

void settled_cached(benchmark::State& state) {
    auto h = hold(static_cast<int>(state.range(0)));
    auto status = [&](const incident::action& a) { return h->status(a); };
    std::size_t bytes = 0;
    benchmark::DoNotOptimize(h->log.write_list(*h->p, h->playbooks, status, h->o));  // the first request fills it
    for (auto _ : state) {
        auto body = h->log.write_list(*h->p, h->playbooks, status, h->o);
        bytes = body.size();
        benchmark::DoNotOptimize(body);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
    state.counters["cached"] = static_cast<double>(h->log.cached_views());
}

BENCHMARK(every_incident)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(settled_cached)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
