// `crisisd replay --chart`: the SVG shows each key's story with its incidents.
#include "report/chart.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace crisisd::report {
namespace {

using namespace std::chrono_literals;

const core::timestamp t0 = core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}} + 8h;

std::unique_ptr<pipeline::pipeline> outage_pipeline() {
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.match.keywords = {"liwest"};
    r.detect.fire_when = {true,
                          {{detect::metric::negative_count, detect::comparison::ge, 10},
                           {detect::metric::volume_ratio, detect::comparison::ge, 4}},
                          {}};
    r.detect.clear_when = {true, {{detect::metric::negative_count, detect::comparison::lt, 2}}, 2min};
    pipeline::pipeline_settings ps;
    ps.rules = {r};
    return std::move(std::get<std::unique_ptr<pipeline::pipeline>>(pipeline::pipeline::create(std::move(ps))));
}

TEST(chart, draws_volume_baseline_negative_share_and_the_incident) {
    auto p = outage_pipeline();
    chart_options o;
    o.title = "storm <1>.jsonl";
    chart_recorder chart(o);
    pipeline::step_result step;
    core::mention m;
    m.lang = "en";
    m.text = "Liwest is down again, terrible and awful service";
    // 20 minutes: quiet, a storm of 30 angry mentions in a minute, then silence.
    for (auto t = t0; t < t0 + 20min; t += 1s) {
        const auto since = t - t0;
        if (since >= 5min && since < 6min && since.count() % 2'000'000 == 0) {
            m.id = "m" + std::to_string(since.count());
            m.author = "@a" + std::to_string(since.count());
            p->process(m, t, step);
        }
        p->tick(t, step);
        chart.sample(*p, t);
    }
    ASSERT_EQ(p->incidents().incidents().size(), 1u);
    const std::string svg = chart.render(*p);
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_NE(svg.find("storm &lt;1&gt;.jsonl"), std::string::npos) << "text is escaped";
    EXPECT_NE(svg.find("isp-outage · liwest"), std::string::npos);
    EXPECT_NE(svg.find("#1 opened 08:05:"), std::string::npos);
    EXPECT_NE(svg.find("cleared 08:"), std::string::npos);
    EXPECT_NE(svg.find("08:10"), std::string::npos) << "a time tick";
    EXPECT_NE(svg.find("per minute"), std::string::npos);
}

TEST(chart, says_so_when_nothing_matched) {
    auto p = outage_pipeline();
    chart_recorder chart;
    chart.sample(*p, t0);
    EXPECT_NE(chart.render(*p).find("No mention matched a rule"), std::string::npos);
}

}  // namespace
}  // namespace crisisd::report
