// Timer churn on one loop: what a reactor pays per deadline.
//  - BM_uv_timer_start_stop: raw libuv, the floor.
//  - BM_timer_start_stop: core::timer re-armed and disarmed (callback stored in a unique_function).
//  - BM_timer_churn/N: N timers created, armed with spread-out timeouts (a heap of N), then destroyed; the close
//    callbacks (which free the handle blocks) are run, so the figure includes the full lifetime.
//  - BM_one_shot: a deadline-bounded completion created and completed, the per-operation cost of style.md §13.
#include <chrono>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/timer.hh"
#include "core/uv_util.hh"

namespace {

using namespace mpic::core;
using namespace std::chrono_literals;

struct loop_guard {
    uv_loop_t loop;
    loop_guard() { uv_loop_init(&loop); }
    ~loop_guard() { (void)close_loop(&loop); }
};

void BM_uv_timer_start_stop(benchmark::State& state) {
    loop_guard g;
    uv_timer_t t;
    uv_timer_init(&g.loop, &t);
    for (auto _ : state) {
        uv_timer_start(
            &t, [](uv_timer_t*) {}, 1000, 0);
        uv_timer_stop(&t);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_uv_timer_start_stop);

void BM_timer_start_stop(benchmark::State& state) {
    loop_guard g;
    timer t(&g.loop);
    int fired = 0;
    for (auto _ : state) {
        t.start(1s, [&fired] { ++fired; });
        t.stop();
    }
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_start_stop);

void BM_timer_churn(benchmark::State& state) {
    loop_guard g;
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::unique_ptr<timer>> timers;
    timers.reserve(n);
    int fired = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) {
            auto t = std::make_unique<timer>(&g.loop);
            t->start(std::chrono::milliseconds(1000 + static_cast<int>(i % 4096)), [&fired] { ++fired; });
            timers.push_back(std::move(t));
        }
        timers.clear();                 // stop + uv_close every handle
        uv_run(&g.loop, UV_RUN_NOWAIT); // close callbacks free the handle blocks
    }
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_timer_churn)->Arg(1000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_one_shot(benchmark::State& state) {
    loop_guard g;
    int completions = 0;
    std::size_t i = 0;
    for (auto _ : state) {
        {
            one_shot op(&g.loop, deadline::after(&g.loop, 5s), [&completions](std::error_code) { ++completions; });
            op.complete();
        }
        if (++i % 1024 == 0) {
            uv_run(&g.loop, UV_RUN_NOWAIT); // free closed handles in batches, as a busy loop would
        }
    }
    benchmark::DoNotOptimize(completions);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_one_shot);

} // namespace

BENCHMARK_MAIN();
