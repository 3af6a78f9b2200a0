// `crisisd replay`: the configured rules over a recorded stream, in event time and as fast as
// the machine goes. The same pipeline as the daemon; time comes from each mention's
// created_at instead of a clock, and timers (clearing, veto waits) are driven in event time.
// Nothing is delivered: actions the playbook would have taken are reported as "sent".
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "report/chart.hpp"
#include "app/cli.hpp"
#include "report/incident_log.hpp"
#include "report/timeline.hpp"
#include "core/log.hpp"
#include "parse/frame_parser.hpp"
#include "parse/generic.hpp"
#include "pipeline/pipeline.hpp"

namespace crisisd::app {

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
    auto& pipe = *std::get<std::unique_ptr<pipeline::pipeline>>(created);

    bool quiet = o.flag("--quiet");
    report::timeline tl(stdout, nullptr, !quiet && ::isatty(STDOUT_FILENO));
    report::incident_log log;
    pipeline::step_result step;
    std::uint64_t opened = 0;
    std::optional<report::chart_recorder> chart;
    if (o.value("--chart")) {
        report::chart_options co;
        co.title = input_path->substr(input_path->rfind('/') + 1);
        chart.emplace(co);
    }

    auto report_step = [&](core::timestamp t) {
        if (step.empty()) return;
        tl.set_time(t);
        opened += step.opened.size();
        log.forget(step.retired);
        for (auto id : step.opened)
            if (auto* inc = pipe.incidents().find(id); inc && !quiet) tl.incident_opened(*inc);
        for (const auto& a : step.actions) {
            log.emitted(a);
            if (!quiet) tl.action_queued(a);
        }
        for (auto id : step.resolved)
            if (auto* inc = pipe.incidents().find(id); inc && !quiet) tl.incident_resolved(*inc);
        step.clear();
    };

    // Advances event time to t: fires every deadline and the clearing ticks on the way, once a
    // second of event time at most (what the live daemon does in wall time).
    std::optional<core::timestamp> last_tick;
    auto advance = [&](core::timestamp t) {
        if (!last_tick) {
            last_tick = t;
            return;
        }
        for (;;) {
            auto next = *last_tick + std::chrono::seconds(1);
            if (auto d = pipe.next_deadline(); d && *d > *last_tick && *d < next) next = *d;
            if (next > t) break;
            pipe.tick(next, step);
            log.sample(pipe, next);
            if (chart) chart->sample(pipe, next);
            report_step(next);
            last_tick = next;
        }
    };

    parse::generic_parser parser;
    core::mention m;
    std::uint64_t line_no = 0, rejected = 0, no_time = 0;
    std::optional<core::timestamp> now;
    char* buf = nullptr;
    std::size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&buf, &cap, in)) >= 0) {
        ++line_no;
        std::string_view l(buf, static_cast<std::size_t>(n));
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
        if (l.empty()) continue;
        if (auto r = parser.parse(l, m)) {
            ++rejected;
            if (!quiet) std::fprintf(stderr, "%s:%llu: skipped: %s\n", input_path->c_str(),
                                     static_cast<unsigned long long>(line_no), std::string(parse::to_string(*r)).c_str());
            continue;
        }
        if (m.created_at) {
            // Recorded streams are not perfectly ordered; event time never runs backwards.
            if (!now || *m.created_at > *now) now = *m.created_at;
        } else {
            ++no_time;
        }
        if (!now) continue;  // nothing to place it in time by
        // A recording names the source each line came from. Its authors count as they would
        // live: believed when that configured source vouches for them (platform format or
        // `trusted: true`), the source's one anonymous author when it does not. A name no
        // configured source has is the operator's own recording of a platform: believed.
        m.source = m.network;
        auto configured = std::find_if(settings->sources.begin(), settings->sources.end(),
                                       [&](const auto& s) { return s.name == m.source; });
        m.author_vouched = configured == settings->sources.end() || configured->trusted ||
                           parse::format_vouches_for_authors(configured->format);
        advance(*now);
        pipe.process(m, *now, step);
        report_step(*now);
    }
    std::free(buf);
    if (in != stdin) std::fclose(in);

    // Let the story finish: keep event time running after the last mention until every
    // incident has cleared and every scheduled step has run, at most a day.
    if (now) {
        auto end = *now + std::chrono::hours(24);
        auto t = *now;
        auto all_done = [&] {
            bool open = false;
            pipe.incidents().for_each_open([&](const incident::incident&) { open = true; });
            return !open && !pipe.next_deadline();
        };
        while (t < end && !all_done()) {
            t += std::chrono::seconds(10);
            advance(t);
        }
    }

    if (!quiet) {
        std::printf("\n%llu mentions replayed, %llu matched a rule, %llu incident(s)",
                    static_cast<unsigned long long>(pipe.processed()), static_cast<unsigned long long>(pipe.matched()),
                    static_cast<unsigned long long>(opened));
        if (rejected) std::printf(", %llu line(s) skipped", static_cast<unsigned long long>(rejected));
        if (no_time) std::printf(", %llu without created_at placed at the previous time", static_cast<unsigned long long>(no_time));
        // The live cap applies in event time too: say when it held incidents back.
        for (std::size_t r = 0; r < pipe.rules().size(); ++r)
            if (auto refused = pipe.suppressed(r))
                std::printf(", %llu not opened by rule %s at its max_incidents_per_hour", static_cast<unsigned long long>(refused),
                            pipe.rule(r).name.c_str());
        std::printf("\n");
    }

    if (auto chart_path = o.value("--chart")) {
        std::ofstream out(*chart_path, std::ios::binary);
        out << chart->render(pipe);
        if (!out) {
            std::fprintf(stderr, "crisisd replay: cannot write %s\n", chart_path->c_str());
            return exit_failure;
        }
    }

    if (auto report_path = o.value("--report")) {
        report::incident_log::view_options vo;
        vo.now = now.value_or(core::timestamp{});
        vo.detail = false;
        auto sent = [](const incident::action&) { return report::delivery_status::sent; };
        auto json = log.write_all(pipe, settings->playbooks, sent, vo, false, pipe.processed());
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
