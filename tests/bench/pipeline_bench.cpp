// ns per mention for the spine's hot path on realistic ~300-byte generic mentions: parse,
// score, match + detect, and all of it together (pipeline::process), beside simdjson parsing
// the same bytes as the reference. Run: build/…/tests/bench/pipeline_bench
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <random>

#include "detect/detector.hpp"
#include "parse/generic.hpp"
#include "pipeline/pipeline.hpp"
#include "score/scorer.hpp"

using namespace crisisd;
using namespace std::chrono_literals;

namespace {

// A corpus of generic mentions around 300 bytes: German and English, complaints and chatter,
// most mentioning the brand the rule listens for.
std::vector<std::string> make_corpus(std::size_t n) {
    const char* texts[] = {
        "Liwest schon wieder Totalausfall, kein Internet seit einer Stunde!! Homeoffice unmöglich, danke für nichts.",
        "@liwest Internet ist komplett weg, Hotline Warteschleife 40 Minuten. Frechheit, ich überlege zu kündigen.",
        "Liwest outage again?! No internet, no TV, and the status page says everything is fine. Really terrible.",
        "Neuer Router von Liwest ist angekommen, Installation war einfach und das WLAN ist deutlich schneller :)",
        "Moved to Linz last month, Liwest cable has been solid so far and support answered within minutes. Nice!",
        "Heute Nebel über der Donau, Linz sieht aus wie im Film. Wer geht heute Abend noch auf einen Spritzer?",
        "#Liwest Störung in ganz Urfahr? Bei uns geht gar nichts mehr, Fernsehen und Telefon sind auch tot.",
        "Does anyone know if Liwest offers static IPs for home customers? Asking because my VPN keeps dropping."};
    std::mt19937 rng(42);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        const char* t = texts[rng() % std::size(texts)];
        std::string m = R"({"id":"m-)" + std::to_string(i) +
                        R"(","created_at":"2026-11-26T08:15:02Z","source":"mastodon","author":"@user)" +
                        std::to_string(rng() % 500) + R"(@example.social","lang":")" +
                        (t[0] == 'L' || t[0] == '@' || t[0] == '#' || t[0] == 'N' || t[0] == 'H' ? "de" : "en") +
                        R"(","text":")" + t + R"(","url":"https://example.social/@user/)" + std::to_string(100000 + i) +
                        R"("})";
        out.push_back(std::move(m));
    }
    return out;
}

const std::vector<std::string>& corpus() {
    static const auto c = make_corpus(4096);
    return c;
}

pipeline::pipeline_settings bench_settings() {
    pipeline::rule_settings r;
    r.name = "isp-outage";
    r.match.keywords = {"Liwest", "@liwest", "#liwest"};
    detect::condition c;
    c.what = detect::metric::negative_count;
    c.op = detect::comparison::ge;
    c.threshold = 1e9;  // measure the steady state, not incident handling
    r.detect.fire_when.conditions = {c};
    pipeline::pipeline_settings s;
    s.rules = {r};
    return s;
}

void simdjson_parse_reference(benchmark::State& state) {
    simdjson::dom::parser parser;
    const auto& c = corpus();
    std::vector<simdjson::padded_string> padded;
    for (const auto& m : c) padded.emplace_back(m);
    std::size_t i = 0, bytes = 0;
    for (auto _ : state) {
        auto doc = parser.parse(padded[i++ % padded.size()]);
        benchmark::DoNotOptimize(doc);
    }
    for (const auto& m : c) bytes += m.size();
    state.counters["bytes_per_mention"] = static_cast<double>(bytes) / static_cast<double>(c.size());
}
BENCHMARK(simdjson_parse_reference);

void parse_generic(benchmark::State& state) {
    parse::generic_parser parser;
    core::mention m;
    const auto& c = corpus();
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = parser.parse(c[i++ % c.size()], m);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(parse_generic);

void score_only(benchmark::State& state) {
    parse::generic_parser parser;
    std::vector<core::mention> ms(corpus().size());
    for (std::size_t k = 0; k < ms.size(); ++k) parser.parse(corpus()[k], ms[k]);
    score::scorer scorer;
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& m = ms[i++ % ms.size()];
        auto s = scorer.score(m.text, m.lang);
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(score_only);

void detect_only(benchmark::State& state) {
    auto settings = bench_settings();
    detect::detector d({settings.rules[0].detect});
    std::vector<detect::signal> signals;
    auto t = core::timestamp{} + std::chrono::hours(24 * 20000);
    std::uint64_t i = 0;
    for (auto _ : state) {
        detect::observation o{(i % 500) * 0x9E3779B97F4A7C15ull | 1u, (i % 3 == 0) ? -0.6 : 0.2};
        d.observe(0, "Liwest", o, t += 10ms, signals);
        ++i;
    }
}
BENCHMARK(detect_only);

void text_match_score_detect(benchmark::State& state) {
    // pipeline::process on parsed mentions: HTML/text clean-up, case folding, the Vectorscan
    // scan, scoring of matching mentions and detection.
    parse::generic_parser parser;
    std::vector<core::mention> ms(corpus().size());
    for (std::size_t k = 0; k < ms.size(); ++k) parser.parse(corpus()[k], ms[k]);
    auto created = pipeline::pipeline::create(bench_settings());
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    auto t = core::timestamp{} + std::chrono::hours(24 * 20000);
    std::size_t i = 0;
    for (auto _ : state) {
        p.process(ms[i++ % ms.size()], t += 10ms, out);
        out.clear();
    }
}
BENCHMARK(text_match_score_detect);

void parse_score_detect(benchmark::State& state) {
    parse::generic_parser parser;
    core::mention m;
    auto created = pipeline::pipeline::create(bench_settings());
    auto& p = *std::get<std::unique_ptr<pipeline::pipeline>>(created);
    pipeline::step_result out;
    const auto& c = corpus();
    auto t = core::timestamp{} + std::chrono::hours(24 * 20000);
    std::size_t i = 0;
    for (auto _ : state) {
        if (!parser.parse(c[i++ % c.size()], m)) p.process(m, t += 10ms, out);
        out.clear();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(parse_score_detect);

}  // namespace

BENCHMARK_MAIN();
