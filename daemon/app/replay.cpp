// `crisisd replay`: the configured rules over a recorded stream, in event time and as fast as
// the machine goes, through the live daemon's runtime (runtime/): intake with its
// de-duplication and rate limits, the step handler with follow-ups, the step writer and the
// tick. Time is a simulated clock that follows each mention's created_at; the tick runs once a
// second of event time, or at the engine's next deadline. The state database is an in-memory
// one that goes with the run, and nothing is delivered: channels are recorders that take each
// action as it is queued, and the report lists it as "sent".
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "report/chart.hpp"
#include "app/cli.hpp"
#include "report/incident_log.hpp"
#include "report/timeline.hpp"
#include "core/log.hpp"
#include "parse/frame_parser.hpp"
#include "pipeline/pipeline.hpp"
#include "runtime/follow_ups.hpp"
#include "runtime/housekeeping.hpp"
#include "runtime/intake.hpp"
#include "runtime/step_handler.hpp"
#include "runtime/step_writer.hpp"

namespace crisisd::app {

namespace {

// Nothing to count per source in a replay; the summary line counts what was skipped.
struct quiet_probe final : runtime::source_probe {
    std::uint64_t duplicates = 0, rate_limited = 0;
    void received(runtime::clock::monotonic_time) override {}
    void dropped() override {}
    void rejected(std::string_view reason) override { rate_limited += reason == "rate_limited" ? 1 : 0; }
    void skipped(std::string_view why) override { duplicates += why == "duplicate" ? 1 : 0; }
};

// The runtime as replay drives it, and what it reports: to the timeline, the incident log and
// the chart.
struct replayer final : runtime::step_writer_events,
                        runtime::step_events,
                        runtime::tick_events,
                        runtime::intake_events {
    const config::settings& settings;
    bool quiet;
    report::timeline& tl;
    report::incident_log log;
    std::optional<report::chart_recorder> chart;
    std::uint64_t opened = 0;

    runtime::simulated_clock clock;
    runtime::inline_executor exec;
    std::unique_ptr<state::database> store;
    runtime::detection det;
    std::unique_ptr<runtime::step_writer> writer;
    std::unique_ptr<runtime::follow_ups> follow;
    std::unique_ptr<runtime::step_handler> steps;
    std::unique_ptr<runtime::housekeeping> keeper;
    std::unique_ptr<runtime::intake> in;
    quiet_probe probe;
    std::map<std::string, runtime::lane*, std::less<>> lanes;  // by the source a line names
    std::optional<core::timestamp> last_tick;

    replayer(const config::settings& s, bool q, report::timeline& t) : settings(s), quiet(q), tl(t) {}

    std::string build(std::unique_ptr<pipeline::pipeline> pipe, const std::string& db_path) {
        auto opened_db = state::database::open(db_path);
        if (auto* e = std::get_if<state::open_error>(&opened_db)) return e->message;
        store = std::move(std::get<std::unique_ptr<state::database>>(opened_db));
        det.pipe = std::move(pipe);
        writer = std::make_unique<runtime::step_writer>(*store, clock, *this);
        std::map<std::string, std::string, std::less<>> channel_types;
        for (const auto& c : settings.channels) channel_types.emplace(c.name, c.type);
        follow = std::make_unique<runtime::follow_ups>(*store, std::move(channel_types));
        steps = std::make_unique<runtime::step_handler>(det, *writer, *follow, clock, *this);
        // No detector snapshots (nothing restarts from this database); the retention sweep runs
        // daily in event time, so a year of stream does not pile a year of incidents up in it
        // (hourly, as live, it was a sixth of a year's replay for nothing a day would not do).
        runtime::housekeeping_settings hs;
        hs.retention = settings.storage.retention;
        hs.save_detector_every.reset();
        hs.sweep_every = std::chrono::hours(24);
        keeper = std::make_unique<runtime::housekeeping>(*store, det, *writer, *steps, clock, *this, hs);
        in = std::make_unique<runtime::intake>(*store, det, clock, exec, *this);
        return "";
    }

    // A recording names the source each line came from. Its authors count as they would live:
    // believed when that configured source vouches for them (platform format or `trusted:
    // true`), the source's one anonymous author when it does not; its max_rate applies in event
    // time. A name no configured source has is the operator's own recording of a platform:
    // believed.
    runtime::lane& lane_for(std::string_view name) {
        if (auto it = lanes.find(name); it != lanes.end()) return *it->second;
        runtime::lane_settings ls;
        ls.name = std::string(name);
        auto configured = std::find_if(settings.sources.begin(), settings.sources.end(),
                                       [&](const auto& s) { return s.name == name; });
        ls.trusted = configured == settings.sources.end() || configured->trusted ||
                     parse::format_vouches_for_authors(configured->format);
        if (configured != settings.sources.end()) ls.max_rate = configured->max_rate;
        auto& l = in->add(ls, nullptr, nullptr, probe);
        lanes.emplace(ls.name, &l);
        return l;
    }

    // Advances event time to t: fires every deadline and the clearing ticks on the way, once a
    // second of event time at most (what the live daemon does every 250 ms of wall time).
    void advance(core::timestamp t) {
        if (!last_tick) {
            last_tick = t;
            clock.set(t);
            return;
        }
        for (;;) {
            auto next = *last_tick + std::chrono::seconds(1);
            if (auto d = det.pipe->next_deadline(); d && *d > *last_tick && *d < next) next = *d;
            if (next > t) break;
            clock.set(next);
            keeper->tick();
            last_tick = next;
        }
        clock.set(t);
    }

    bool all_done() const {
        bool open = false;
        det.pipe->incidents().for_each_open([&](const incident::incident&) { open = true; });
        return !open && !det.pipe->next_deadline();
    }

    // --- what the runtime reports ---
    void write_failed() override {}
    void duplicate_refused(const incident::action&) override {}
    // Replay's channels are recorders that take every action at once: it is marked sent at its
    // event time, so the outbox holds what a run whose channels all answered would hold, and the
    // retention sweep can let its incident go (it keeps incidents with pending actions).
    void action_queued(const incident::action& a) override {
        if (auto rec = store->actions().find(a.idempotency_key)) store->actions().mark_sent(rec->seq, clock.now());
        log.emitted(a);
        if (!quiet) {
            tl.set_time(clock.now());
            tl.action_queued(a);
        }
    }
    void outbox_changed(bool) override {}
    void incident_opened(const incident::incident& inc, double) override {
        ++opened;
        if (!quiet) {
            tl.set_time(clock.now());
            tl.incident_opened(inc);
        }
    }
    void incident_resolved(const incident::incident& inc) override {
        if (!quiet) {
            tl.set_time(clock.now());
            tl.incident_resolved(inc);
        }
    }
    void incident_suppressed(std::string_view) override {}
    void incidents_retired(const std::vector<std::uint64_t>& ids) override { log.forget(ids); }
    void open_incidents(std::size_t) override {}
    void ticked(core::timestamp now, const pipeline::pipeline& p) override {
        log.sample(p, now);
        if (chart) chart->sample(p, now);
    }
    void mentions_processed(std::uint64_t) override {}
    void stepped(runtime::clock::monotonic_time) override { steps->handle(); }
};

struct read_counts {
    std::uint64_t rejected = 0, no_time = 0;
    std::optional<core::timestamp> now;
};

// Feeds every line of `in` through the runtime, in event time.
read_counts feed(replayer& r, std::FILE* in, const std::string& input_name) {
    read_counts c;
    auto parser = parse::make_parser(parse::parser_settings{});
    core::mention m;
    std::uint64_t line_no = 0;
    char* buf = nullptr;
    std::size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&buf, &cap, in)) >= 0) {
        ++line_no;
        std::string_view l(buf, static_cast<std::size_t>(n));
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
        if (l.empty()) continue;
        const auto res = parser->parse(l, m);
        if (res.kind == parse::frame_kind::rejected) {
            ++c.rejected;
            if (!r.quiet)
                std::fprintf(stderr, "%s:%llu: skipped: %s\n", input_name.c_str(), static_cast<unsigned long long>(line_no),
                             std::string(parse::to_string(res.reason)).c_str());
            continue;
        }
        if (m.created_at) {
            // Recorded streams are not perfectly ordered; event time never runs backwards.
            if (!c.now || *m.created_at > *c.now) c.now = *m.created_at;
        } else {
            ++c.no_time;
        }
        if (!c.now) continue;  // nothing to place it in time by
        r.advance(*c.now);
        r.in->offer_parsed(r.lane_for(m.network), m, res, parser->dedup_key());
    }
    std::free(buf);
    // Let the story finish: keep event time running after the last mention until every
    // incident has cleared and every scheduled step has run, at most a day.
    if (c.now) {
        const auto end = *c.now + std::chrono::hours(24);
        for (auto t = *c.now; t < end && !r.all_done();) {
            t += std::chrono::seconds(10);
            r.advance(t);
        }
    }
    return c;
}

void print_summary(const replayer& r, const read_counts& c) {
    const auto& pipe = *r.det.pipe;
    std::printf("\n%llu mentions replayed, %llu matched a rule, %llu incident(s)",
                static_cast<unsigned long long>(pipe.processed()), static_cast<unsigned long long>(pipe.matched()),
                static_cast<unsigned long long>(r.opened));
    if (c.rejected) std::printf(", %llu line(s) skipped", static_cast<unsigned long long>(c.rejected));
    if (r.probe.duplicates)
        std::printf(", %llu duplicate(s) skipped", static_cast<unsigned long long>(r.probe.duplicates));
    if (r.probe.rate_limited)
        std::printf(", %llu over a source's max_rate", static_cast<unsigned long long>(r.probe.rate_limited));
    if (c.no_time)
        std::printf(", %llu without created_at placed at the previous time", static_cast<unsigned long long>(c.no_time));
    // The live cap applies in event time too: say when it held incidents back.
    for (std::size_t i = 0; i < pipe.rules().size(); ++i)
        if (auto refused = pipe.suppressed(i))
            std::printf(", %llu not opened by rule %s at its max_incidents_per_hour",
                        static_cast<unsigned long long>(refused), pipe.rule(i).name.c_str());
    std::printf("\n");
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
    options o{args};
    if (auto bad = o.unknown({"--config", "--input", "--report", "--chart"}, {"--quiet"}); !bad.empty()) {
        std::fprintf(stderr, "crisisd replay: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    auto config_path = o.value("--config");
    auto input_path = o.value("--input");
    if (!config_path || !input_path) {
        std::fprintf(stderr, "usage: crisisd replay --config FILE --input FILE.jsonl [--report OUT.json] [--chart OUT.svg] [--quiet]\n");
        return exit_usage;
    }
    auto settings = load_config_or_report(*config_path);
    if (!settings) return exit_config;

    std::FILE* in = *input_path == "-" ? stdin : std::fopen(input_path->c_str(), "rb");
    if (!in) {
        std::fprintf(stderr, "crisisd replay: cannot open %s\n", input_path->c_str());
        return exit_no_input;
    }

    pipeline::pipeline_settings ps;
    ps.rules = settings->rules;
    ps.incidents.playbooks = settings->playbooks;
    ps.incidents.statements = settings->statements;
    // A report or chart covers the whole stream, so it keeps every incident; otherwise resolved
    // incidents leave memory as they do live, and a year of stream replays at a flat cost.
    if (o.value("--report") || o.value("--chart")) ps.incidents.resolved_grace.reset();
    else ps.incidents.resolved_grace = settings->storage.resolved_grace;
    auto created = pipeline::pipeline::create(std::move(ps));
    if (auto* e = std::get_if<std::string>(&created)) {
        std::fprintf(stderr, "%s: error: %s\n", config_path->c_str(), e->c_str());
        return exit_config;
    }

    const bool quiet = o.flag("--quiet");
    // The runtime logs what the timeline shows; only errors go to stderr here.
    core::set_log_threshold(core::log_level::error);
    report::timeline tl(stdout, nullptr, !quiet && ::isatty(STDOUT_FILENO));
    replayer r(*settings, quiet, tl);
    // SQLite's in-memory database: the outbox, snapshots and counters of a run that keeps none
    // of them, at no cost in disk writes.
    if (auto err = r.build(std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created)), ":memory:");
        !err.empty()) {
        std::fprintf(stderr, "crisisd replay: %s\n", err.c_str());
        return exit_failure;
    }
    if (o.value("--chart")) {
        report::chart_options co;
        co.title = input_path->substr(input_path->rfind('/') + 1);
        r.chart.emplace(co);
    }
    const auto counts = feed(r, in, *input_path);
    if (in != stdin) std::fclose(in);
    if (!quiet) print_summary(r, counts);

    if (auto chart_path = o.value("--chart")) {
        std::ofstream out(*chart_path, std::ios::binary);
        out << r.chart->render(*r.det.pipe);
        if (!out) {
            std::fprintf(stderr, "crisisd replay: cannot write %s\n", chart_path->c_str());
            return exit_failure;
        }
    }
    if (auto report_path = o.value("--report")) {
        report::incident_log::view_options vo;
        vo.now = counts.now.value_or(core::timestamp{});
        vo.detail = false;
        auto json = r.log.write_all(*r.det.pipe, settings->playbooks,
                                    [](const incident::action&) { return report::delivery_status::sent; }, vo, false,
                                    r.det.pipe->processed());
        std::ofstream out(*report_path, std::ios::binary);
        out << json << '\n';
        if (!out) {
            std::fprintf(stderr, "crisisd replay: cannot write %s\n", report_path->c_str());
            return exit_failure;
        }
    }
    return exit_ok;
}

}  // namespace crisisd::app
