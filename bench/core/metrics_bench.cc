// Observability hot paths (style.md §21): they run per check, so they must stay in the nanoseconds.
//  - BM_counter_inc / BM_histogram_observe: per-shard relaxed RMW.
//  - BM_log_disabled: a log call below the level threshold (one relaxed load and a branch).
//  - BM_log_format: formatting one line with five fields (no write), the cost when the level is enabled.
//  - BM_render_prometheus: a scrape of 100 histogram series.
#include <string>

#include <benchmark/benchmark.h>

#include "core/log.hh"
#include "core/metrics.hh"

namespace {

using namespace mpic::core;

void BM_counter_inc(benchmark::State& state) {
    metrics_registry reg;
    auto c = *reg.add_counter("bench_total", "bench");
    for (auto _ : state) {
        c.inc();
    }
    benchmark::DoNotOptimize(reg.read(c));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_counter_inc);

void BM_histogram_observe(benchmark::State& state) {
    metrics_registry reg;
    auto h = *reg.add_histogram("bench_seconds", "bench", {{"operation", "caa"}});
    std::uint64_t us = 1;
    for (auto _ : state) {
        h.observe_us(us);
        us = (us * 7 + 13) % 100'000;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_histogram_observe);

void BM_log_disabled(benchmark::State& state) {
    logger::global().set_level(log_level::warn);
    std::string perspective = "eu-west-1";
    for (auto _ : state) {
        log_debug("check_done", "trace", {{"perspective", perspective}, {"elapsed_us", 1234}});
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_log_disabled);

void BM_log_format(benchmark::State& state) {
    std::string perspective = "eu-west-1";
    for (auto _ : state) {
        std::string line = format_log_line(1'796'012'890'000'042, log_level::info, "check_done", "trace-123", 1,
                                           {{"perspective", perspective},
                                            {"elapsed_us", 1234},
                                            {"ok", true},
                                            {"problem", "mpic_error:dcv_checker:timeout"},
                                            {"ratio", 0.5}});
        benchmark::DoNotOptimize(line.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_log_format);

void BM_render_prometheus(benchmark::State& state) {
    metrics_registry reg;
    for (int i = 0; i < 100; ++i) {
        auto h = *reg.add_histogram("bench_seconds", "bench", {{"perspective", std::to_string(i)}});
        h.observe_us(static_cast<std::uint64_t>(i) * 100);
    }
    for (auto _ : state) {
        std::string text = reg.render_prometheus();
        benchmark::DoNotOptimize(text.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_render_prometheus)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
