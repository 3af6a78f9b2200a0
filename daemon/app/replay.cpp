// `crisisd replay`: the configured rules over a recorded stream, in event time and as fast as
// the machine goes, through the live daemon's runtime (runtime/replay_driver.hpp drives it on a
// simulated clock, with an in-memory state database and recording channels). This file reads
// the arguments and prints: the timeline, the summary line, the report and the chart.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "app/cli.hpp"
#include "core/log.hpp"
#include "parse/frame_parser.hpp"
#include "pipeline/pipeline.hpp"
#include "report/timeline.hpp"
#include "runtime/replay_driver.hpp"

namespace crisisd::app {

namespace {

void print_summary(const runtime::replay_driver& r, const runtime::replay_counts& c) {
    const auto& pipe = r.pipe();
    std::printf("\n%llu mentions replayed, %llu matched a rule, %llu incident(s)",
                static_cast<unsigned long long>(pipe.processed()), static_cast<unsigned long long>(pipe.matched()),
                static_cast<unsigned long long>(r.incidents_opened()));
    if (c.rejected) std::printf(", %llu line(s) skipped", static_cast<unsigned long long>(c.rejected));
    if (c.duplicates) std::printf(", %llu duplicate(s) skipped", static_cast<unsigned long long>(c.duplicates));
    if (c.rate_limited)
        std::printf(", %llu over a source's max_rate", static_cast<unsigned long long>(c.rate_limited));
    if (c.no_time)
        std::printf(", %llu without created_at placed at the previous time", static_cast<unsigned long long>(c.no_time));
    // The live cap applies in event time too: say when it held incidents back.
    for (std::size_t i = 0; i < pipe.rules().size(); ++i)
        if (auto refused = pipe.suppressed(i))
            std::printf(", %llu not opened by rule %s at its max_incidents_per_hour",
                        static_cast<unsigned long long>(refused), pipe.rule(i).name.c_str());
    std::printf("\n");
}

runtime::replay_settings replay_settings_of(const config::settings& s) {
    runtime::replay_settings rs;
    for (const auto& c : s.channels) rs.channel_types.emplace(c.name, c.type);
    rs.retention = s.storage.retention;
    for (const auto& src : s.sources) {
        runtime::lane_settings ls;
        ls.name = src.name;
        ls.trusted = src.trusted || parse::format_vouches_for_authors(src.format);
        ls.max_rate = src.max_rate;
        rs.sources.push_back(std::move(ls));
    }
    return rs;
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

    auto ps = pipeline_settings_of(*settings);
    // A report or chart covers the whole stream, so it keeps every incident; otherwise resolved
    // incidents leave memory as they do live, and a year of stream replays at a flat cost.
    if (o.value("--report") || o.value("--chart")) ps.incidents.resolved_grace.reset();
    auto created = pipeline::pipeline::create(std::move(ps));
    if (auto* e = std::get_if<std::string>(&created)) {
        std::fprintf(stderr, "%s: error: %s\n", config_path->c_str(), e->c_str());
        return exit_config;
    }

    const bool quiet = o.flag("--quiet");
    // The runtime logs what the timeline shows; only errors go to stderr here.
    core::set_log_threshold(core::log_level::error);
    report::timeline tl(stdout, nullptr, !quiet && ::isatty(STDOUT_FILENO));
    runtime::replay_driver r(replay_settings_of(*settings), quiet ? nullptr : &tl);
    // SQLite's in-memory database: the outbox, snapshots and counters of a run that keeps none
    // of them, at no cost in disk writes.
    if (auto err = r.open(std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created)), ":memory:");
        !err.empty()) {
        std::fprintf(stderr, "crisisd replay: %s\n", err.c_str());
        return exit_failure;
    }
    if (o.value("--chart")) {
        report::chart_options co;
        co.title = input_path->substr(input_path->rfind('/') + 1);
        r.record_chart(co);
    }
    runtime::replay_driver::skipped_fn skipped;
    if (!quiet)
        skipped = [&](std::uint64_t line, std::string_view reason) {
            std::fprintf(stderr, "%s:%llu: skipped: %s\n", input_path->c_str(), static_cast<unsigned long long>(line),
                         std::string(reason).c_str());
        };
    const auto counts = r.feed(in, skipped);
    if (in != stdin) std::fclose(in);
    if (!quiet) print_summary(r, counts);

    if (auto chart_path = o.value("--chart")) {
        std::ofstream out(*chart_path, std::ios::binary);
        out << r.chart()->render(r.pipe());
        if (!out) {
            std::fprintf(stderr, "crisisd replay: cannot write %s\n", chart_path->c_str());
            return exit_failure;
        }
    }
    if (auto report_path = o.value("--report")) {
        std::ofstream out(*report_path, std::ios::binary);
        out << r.report_json(settings->playbooks, counts.now.value_or(core::timestamp{})) << '\n';
        if (!out) {
            std::fprintf(stderr, "crisisd replay: cannot write %s\n", report_path->c_str());
            return exit_failure;
        }
    }
    return exit_ok;
}

}  // namespace crisisd::app
