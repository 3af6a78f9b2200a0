// Sentiment scoring speed: ns per mention (English: VADER tweet texts; German: our own outage
// mentions), with the language given and with it guessed from the text (a mention without
// `lang`), the ratio to parsing the same mention as JSON with simdjson, and heap allocations per
// mention in steady state (counted by the global operator new below).
//
//   score_bench                       all four, google-benchmark output with the counters
//   median_ns is the headline figure: the median over the corpus of each mention's best of 5.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "core/json_writer.hpp"
#include "score/scorer.hpp"

namespace {
std::atomic<long> allocations{0};
}

// Counting allocator for this binary only. GCC pairs the inlined malloc/free of these very
// replacements with the new/delete expressions it sees and warns; the pairing is correct.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

std::vector<std::string> load(const std::string& name) {
    std::ifstream in(std::string(CRISISD_TEST_DATA) + "/sentiment/" + name);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

const std::vector<std::string>& english() {
    static const auto texts = load("vader_tweets_dev_texts.txt");
    return texts;
}

const std::vector<std::string>& german() {
    static const auto texts = load("german_mentions.txt");
    return texts;
}

// Median of per-mention scoring times and of per-mention simdjson parse times (one text field
// extracted), each taken as the median over the corpus of the best of 5 runs per mention.
struct per_mention {
    double score_ns;
    double parse_ns;
    double score_ns_140;  // median of each mention's time scaled to 140 characters
};

per_mention medians(const std::vector<std::string>& texts, const char* lang) {
    // The JSON document carries the language only when scoring is told it.
    using clock = std::chrono::steady_clock;
    const crisisd::score::scorer scorer;
    simdjson::ondemand::parser parser;
    std::vector<simdjson::padded_string> json;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        std::string doc = "{\"id\":\"" + std::to_string(i) + "\",\"source\":\"bench\",";
        if (*lang != '\0') doc += "\"lang\":\"" + std::string(lang) + "\",";
        doc += "\"text\":";
        crisisd::core::append_json_string(doc, texts[i]);
        doc += "}";
        json.emplace_back(doc);
    }
    std::vector<double> score_ns;
    std::vector<double> parse_ns;
    std::vector<double> score_ns_140;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        double best_score = 1e18;
        double best_parse = 1e18;
        for (int rep = 0; rep < 5; ++rep) {
            auto t0 = clock::now();
            benchmark::DoNotOptimize(scorer.score(texts[i], lang));
            auto t1 = clock::now();
            auto doc = parser.iterate(json[i]);
            std::string_view text;
            if (doc["text"].get_string().get(text) == simdjson::SUCCESS) benchmark::DoNotOptimize(text);
            auto t2 = clock::now();
            best_score = std::min(best_score, std::chrono::duration<double, std::nano>(t1 - t0).count());
            best_parse = std::min(best_parse, std::chrono::duration<double, std::nano>(t2 - t1).count());
        }
        score_ns.push_back(best_score);
        score_ns_140.push_back(best_score * 140.0 / static_cast<double>(std::max<std::size_t>(texts[i].size(), 1)));
        parse_ns.push_back(best_parse);
    }
    const auto median = [](std::vector<double>& v) {
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    return {median(score_ns), median(parse_ns), median(score_ns_140)};
}

void run(benchmark::State& state, const std::vector<std::string>& texts, const char* lang) {
    const crisisd::score::scorer scorer;
    for (const auto& t : texts) benchmark::DoNotOptimize(scorer.score(t, lang));  // warm scratch buffers
    const long before = allocations.load();
    std::size_t bytes = 0;
    std::size_t mentions = 0;
    for (auto _ : state) {
        for (const auto& t : texts) {
            benchmark::DoNotOptimize(scorer.score(t, lang));
            bytes += t.size();
        }
        mentions += texts.size();
    }
    const long allocated = allocations.load() - before;
    const per_mention m = medians(texts, lang);
    state.SetItemsProcessed(static_cast<std::int64_t>(mentions));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["ns_per_mention"] =
        benchmark::Counter(static_cast<double>(mentions), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["median_ns"] = m.score_ns;
    state.counters["median_ns_per_140_bytes"] = m.score_ns_140;
    state.counters["simdjson_median_ns"] = m.parse_ns;
    state.counters["ratio_to_simdjson"] = m.score_ns / m.parse_ns;
    state.counters["allocs_per_mention"] = static_cast<double>(allocated) / static_cast<double>(mentions);
    state.counters["avg_chars"] = static_cast<double>(bytes) / static_cast<double>(mentions);
}

void score_english(benchmark::State& state) { run(state, english(), "en"); }
void score_english_guessed(benchmark::State& state) { run(state, english(), ""); }
void score_german(benchmark::State& state) { run(state, german(), "de"); }
void score_german_guessed(benchmark::State& state) { run(state, german(), ""); }

BENCHMARK(score_english);
BENCHMARK(score_english_guessed);
BENCHMARK(score_german);
BENCHMARK(score_german_guessed);

}  // namespace

BENCHMARK_MAIN();
