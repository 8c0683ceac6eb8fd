// What the quorum layer costs per MPIC attempt (style.md §16: report CPU µs per operation; run with
// --benchmark_repetitions=5 --benchmark_report_aggregates_only=true for median/MAD on this shared machine).
//  - BM_decide: the pure rule on one tally (what every report pays inside its CAS loop).
//  - BM_evaluate/N: the complete-information evaluation with its audit record, N remotes.
//  - BM_attempt/N: one attempt's state machine: create, primary + N remote reports, outcome built, callback.
//  - BM_attempt_contended/N: the same with the N reports split over 2 threads racing on one decision.
//  - BM_selection_seed: sha256(secret + lowercased target) through EVP.
//  - BM_make_cohorts/N: N remotes in 4 RIRs split into cohorts of 5.
#include <atomic>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "quorum/cohort.hh"
#include "quorum/decision.hh"

namespace {

using namespace mpic::quorum;

decision_config config_for(int n, corroboration_mode mode = corroboration_mode::primary_decides) {
    decision_config c;
    c.rule = br_rule(n, *parse_civil_date("2027-01-01"), {});
    c.mode = mode;
    for (int i = 0; i < n; ++i) {
        c.remotes.push_back({"p" + std::to_string(i), static_cast<rir>(i % rir_count)});
    }
    return c;
}

mpic::validators::check_result passed() {
    mpic::validators::check_result r;
    r.completed = true;
    r.passed = true;
    return r;
}

void BM_decide(benchmark::State& state) {
    const quorum_rule rule = br_rule(6, *parse_civil_date("2027-01-01"), {});
    tally t;
    t.passed = 3;
    t.failed = 1;
    t.pending = 2;
    t.passed_rirs = 0b011;
    t.pending_rirs = 0b100;
    t.primary = primary_state::passed;
    for (auto _ : state) {
        benchmark::DoNotOptimize(t);
        auto d = decide(rule, corroboration_mode::primary_decides, t);
        benchmark::DoNotOptimize(d);
    }
}
BENCHMARK(BM_decide);

void BM_evaluate(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const decision_config c = config_for(n);
    std::vector<report_state> states(static_cast<std::size_t>(n), report_state::passed);
    states.back() = report_state::failed;
    for (auto _ : state) {
        auto o = evaluate(c, primary_state::passed, states);
        benchmark::DoNotOptimize(o);
    }
}
BENCHMARK(BM_evaluate)->Arg(3)->Arg(6)->Arg(12);

void BM_attempt(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const decision_config c = config_for(n);
    const auto result = passed();
    int fired = 0;
    for (auto _ : state) {
        auto d = quorum_decision::create(c, [&fired](const quorum_outcome&) { ++fired; });
        (*d)->report_primary(result);
        for (int i = 0; i < n; ++i) {
            (*d)->report_remote(static_cast<std::size_t>(i), result);
        }
        benchmark::DoNotOptimize((*d)->outcome());
    }
    state.counters["fired"] = static_cast<double>(fired);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_attempt)->Arg(3)->Arg(6)->Arg(12);

void BM_attempt_contended(benchmark::State& state) {
    // All remotes report failure except enough to keep the decision open until the last one, so both threads
    // keep hitting the CAS. Two threads are spawned per attempt; the figure includes their start-up, so compare
    // it with BM_thread_pair below rather than with BM_attempt.
    const int n = static_cast<int>(state.range(0));
    const decision_config c = config_for(n, corroboration_mode::all_remote);
    const auto result = passed();
    for (auto _ : state) {
        auto d = quorum_decision::create(c);
        quorum_decision* decision = d->get();
        std::atomic<bool> go{false};
        auto work = [&](std::size_t first) {
            while (!go.load(std::memory_order_acquire)) {
                std::this_thread::yield(); // the machine is shared: never burn a core waiting
            }
            for (std::size_t i = first; i < static_cast<std::size_t>(n); i += 2) {
                decision->report_remote(i, result);
            }
        };
        std::thread a(work, 0);
        std::thread b(work, 1);
        go.store(true, std::memory_order_release);
        a.join();
        b.join();
        benchmark::DoNotOptimize(decision->outcome());
    }
}
BENCHMARK(BM_attempt_contended)->Arg(6)->Arg(24)->UseRealTime();

void BM_thread_pair(benchmark::State& state) {
    for (auto _ : state) {
        std::thread a([] {});
        std::thread b([] {});
        a.join();
        b.join();
    }
}
BENCHMARK(BM_thread_pair)->UseRealTime();

void BM_selection_seed(benchmark::State& state) {
    for (auto _ : state) {
        auto s = selection_seed("a-32-byte-secret-for-cohorts....", "WWW.Example.COM");
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_selection_seed);

void BM_make_cohorts(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    std::vector<perspective_info> remotes;
    for (int i = 0; i < n; ++i) {
        perspective_info p;
        p.code = "p" + std::to_string(i);
        p.region = static_cast<rir>(i % 4);
        p.location = {-60.0 + 120.0 * i / n, -170.0 + 340.0 * ((i * 7) % n) / n};
        remotes.push_back(p);
    }
    const too_close_relation rel(remotes);
    const auto seed = selection_seed("secret", "example.com");
    for (auto _ : state) {
        auto plan = make_cohorts(remotes, rel, {5, true}, seed);
        benchmark::DoNotOptimize(plan);
    }
}
BENCHMARK(BM_make_cohorts)->Arg(10)->Arg(30);

} // namespace

BENCHMARK_MAIN();
