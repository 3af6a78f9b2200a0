// What the hand-written core::json_writer saves over Boost.JSON (object + serialize), on the two
// shapes it is kept or dropped for: the per-mention line of `crisisd score` (kept) and a channel
// payload like PagerDuty's (Boost.JSON since issue 12: one per delivered action, next to an HTTPS
// request). Run with callgrind for instruction counts, or as is for a same-run time ratio.
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <string>

#include "core/json_writer.hpp"

namespace {

using crisisd::core::append_json_string;
using crisisd::core::json_writer;

struct mention_score {
    std::string id = "at://did:plc:4f2xq7cvlmv3yq4w7c3s2x3q/app.bsky.feed.post/3l6zq2k7n2b2x";
    std::string lang = "de";
    double compound = -0.6249, pos = 0.0, neu = 0.588, neg = 0.412;
};

void append_fixed4(std::string& out, double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 4);
    out.append(buf, r.ptr);
}

void score_line_hand(benchmark::State& state) {
    const mention_score s;
    std::string out;
    for (auto _ : state) {
        out.clear();
        out += "{\"id\":";
        append_json_string(out, s.id);
        out += ",\"lang\":";
        append_json_string(out, s.lang);
        out += ",\"compound\":";
        append_fixed4(out, s.compound);
        out += ",\"pos\":";
        append_fixed4(out, s.pos);
        out += ",\"neu\":";
        append_fixed4(out, s.neu);
        out += ",\"neg\":";
        append_fixed4(out, s.neg);
        out += "}\n";
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(score_line_hand);

void score_line_boost(benchmark::State& state) {
    const mention_score s;
    std::string out;
    for (auto _ : state) {
        out.clear();
        boost::json::object o{{"id", s.id}, {"lang", s.lang}, {"compound", s.compound},
                              {"pos", s.pos},  {"neu", s.neu},   {"neg", s.neg}};
        out += boost::json::serialize(o);
        out += '\n';
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(score_line_boost);

const std::string summary = "Incident 42 opened: outage complaints about 'glasfaser' in Linz (rule isp-outage)";

void pager_payload_hand(benchmark::State& state) {
    for (auto _ : state) {
        std::string body;
        json_writer w(body);
        w.begin_object().member("routing_key", "R0123456789abcdef0123456789abcdef").member("event_action", "trigger");
        w.member("dedup_key", "crisisd/5f0c/isp-outage/42").key("payload").begin_object();
        w.member("summary", summary).member("source", "crisisd").member("severity", "critical");
        w.member("timestamp", "2026-12-04T18:49:57Z").member("component", "glasfaser").member("class", "isp-outage");
        w.key("custom_details").begin_object().member("incident_id", std::uint64_t{42}).member("event", "opened");
        w.end_object().end_object().member("client", "crisisd").end_object();
        benchmark::DoNotOptimize(body.data());
    }
}
BENCHMARK(pager_payload_hand);

void pager_payload_boost(benchmark::State& state) {
    for (auto _ : state) {
        boost::json::object body{{"routing_key", "R0123456789abcdef0123456789abcdef"},
                                 {"event_action", "trigger"},
                                 {"dedup_key", "crisisd/5f0c/isp-outage/42"}};
        body["payload"] = boost::json::object{
            {"summary", summary},         {"source", "crisisd"},     {"severity", "critical"},
            {"timestamp", "2026-12-04T18:49:57Z"}, {"component", "glasfaser"}, {"class", "isp-outage"},
            {"custom_details", boost::json::object{{"incident_id", std::uint64_t{42}}, {"event", "opened"}}}};
        body["client"] = "crisisd";
        std::string out = boost::json::serialize(body);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(pager_payload_boost);

}  // namespace

BENCHMARK_MAIN();
