// ns per detector::observe() with 1, 100 and 10,000 live keys, and the memory each live key
// holds (5-minute window, 6-hour baseline, the DESIGN.md outage rule).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "detect/detector.hpp"

namespace {

using namespace std::chrono_literals;
namespace detect = crisisd::detect;

detect::detector_settings outage_rule() {
    detect::detector_settings s;
    s.window = 5min;
    s.baseline = 6h;
    s.min_baseline_rate = 1.0;
    s.max_per_author = 5;
    s.max_keys = 100000;
    s.fire_when = {true,
                   {{detect::metric::negative_count, detect::comparison::ge, 20},
                    {detect::metric::unique_authors, detect::comparison::ge, 10},
                    {detect::metric::negative_ratio, detect::comparison::ge, 0.6},
                    {detect::metric::volume_ratio, detect::comparison::ge, 4}},
                   {}};
    s.clear_when = {true, {{detect::metric::volume_ratio, detect::comparison::lt, 1.5}}, 15min};
    return s;
}

std::uint64_t next_random(std::uint64_t& x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

void bm_observe(benchmark::State& state) {
    const auto n_keys = static_cast<std::size_t>(state.range(0));
    detect::detector d({outage_rule()});
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < n_keys; ++i) keys.push_back("topic-" + std::to_string(i));
    std::vector<detect::signal> out;
    std::uint64_t rng = 0x9E3779B97F4A7C15ull;
    auto t = crisisd::core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
    // Warm-up: every key live with a window's worth of traffic (1,000 mentions per second overall).
    const std::size_t warm = std::max<std::size_t>(n_keys * 20, 300000);
    for (std::size_t i = 0; i < warm; ++i) {
        t += 1ms;
        const double compound = static_cast<double>(next_random(rng) % 2001) / 1000.0 - 1.0;
        d.observe(0, keys[i % n_keys], {next_random(rng) % 5000 + 1, compound}, t, out);
    }
    out.clear();
    std::size_t i = 0;
    for (auto _ : state) {
        t += 1ms;
        const std::uint64_t r = next_random(rng);
        const detect::observation o{r % 5000 + 1, static_cast<double>(r % 2001) / 1000.0 - 1.0};
        d.observe(0, keys[i], o, t, out);
        if (++i == n_keys) i = 0;
        if (out.size() > 4096) out.clear();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["live_keys"] = static_cast<double>(d.live_keys());
    state.counters["bytes_per_key"] =
        static_cast<double>(d.memory_bytes()) / static_cast<double>(std::max<std::size_t>(1, d.live_keys()));
}
BENCHMARK(bm_observe)->Arg(1)->Arg(100)->Arg(10000);

// Memory of quiet keys: a handful of mentions from a few authors each.
void bm_memory_quiet_keys(benchmark::State& state) {
    const auto n_keys = static_cast<std::size_t>(state.range(0));
    std::size_t bytes = 0;
    for (auto _ : state) {
        detect::detector d({outage_rule()});
        std::vector<detect::signal> out;
        auto t = crisisd::core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
        for (std::size_t k = 0; k < n_keys; ++k) {
            const std::string key = "topic-" + std::to_string(k);
            for (std::uint64_t a = 1; a <= 5; ++a) d.observe(0, key, {a, -0.5}, t + a * 1s, out);
        }
        bytes = d.memory_bytes();
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["bytes_per_key"] = static_cast<double>(bytes) / static_cast<double>(n_keys);
}
BENCHMARK(bm_memory_quiet_keys)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond);

void bm_tick(benchmark::State& state) {
    const auto n_keys = static_cast<std::size_t>(state.range(0));
    detect::detector d({outage_rule()});
    std::vector<detect::signal> out;
    auto t = crisisd::core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
    for (std::size_t k = 0; k < n_keys; ++k) {
        const std::string key = "topic-" + std::to_string(k);
        for (std::uint64_t a = 1; a <= 3; ++a) d.observe(0, key, {a, -0.5}, t, out);
    }
    for (auto _ : state) {
        t += 1s;  // a one-second clearing timer; keys stay live for the window
        d.tick(t, out);
        out.clear();
        if (d.live_keys() < n_keys) {
            state.PauseTiming();
            for (std::size_t k = 0; k < n_keys; ++k) d.observe(0, "topic-" + std::to_string(k), {1, -0.5}, t, out);
            state.ResumeTiming();
        }
    }
    state.counters["keys"] = static_cast<double>(n_keys);
}
BENCHMARK(bm_tick)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
