// Mailbox and cross-reactor hand-off.
//  - BM_mailbox_push_pop: the ring alone, one thread (the floor: atomics and the task move, no wakeups).
//  - BM_handoff_stream: reactor 0 streams messages to reactor 1 as fast as the mailbox accepts them (throughput;
//    the producer retries on queue_full by re-posting itself, so it never blocks).
//  - BM_handoff_window: the same with credit-based flow control (at most N unacknowledged), the steady state.
//  - BM_handoff_ping_pong: one message bouncing between two reactors (latency of one hop including the wakeup).
// The pool pins reactor i to the i-th CPU allowed by taskset, so `taskset -c 0,1` puts them on two cores.
#include <atomic>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>

#include <benchmark/benchmark.h>

#include "core/mailbox.hh"
#include "core/reactor.hh"

namespace {

using namespace mpic::core;

void BM_mailbox_push_pop(benchmark::State& state) {
    mailbox box(1024);
    std::uint64_t sink = 0;
    const auto batch = static_cast<int>(state.range(0));
    for (auto _ : state) {
        for (int i = 0; i < batch; ++i) {
            (void)box.push([&sink] { ++sink; });
        }
        box.run_batch(static_cast<std::size_t>(batch));
    }
    benchmark::DoNotOptimize(sink);
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_mailbox_push_pop)->Arg(1)->Arg(64)->Arg(512);

/// CPU time of the whole process (both reactors and the idle benchmark thread), for CPU-per-message figures.
double process_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// Waits until every task already queued on both reactors has run. A reactor's mailbox is FIFO per producer and
/// everything queued before this call was pushed before the barrier task, so when it runs, they have run.
void quiesce(reactor_pool& pool) {
    for (unsigned r = 0; r < pool.size(); ++r) {
        std::promise<void> reached;
        (void)pool.at(r).post([&reached] { reached.set_value(); });
        reached.get_future().wait();
    }
}

reactor_pool_config two_reactors(std::size_t capacity, bool pinned = true) {
    reactor_pool_config config;
    config.reactors = 2;
    config.mailbox_capacity = capacity;
    config.pin_threads = pinned; // reactor 0 and 1 on the first two CPUs allowed by taskset
    return config;
}

/// State of one streaming run; the producer fields are touched only on reactor 0, the consumer's only on 1.
struct stream_run {
    reactor_pool* pool = nullptr;
    std::uint64_t to_send = 0;
    std::uint64_t sent = 0;     // reactor 0
    std::uint64_t full = 0;     // reactor 0: queue_full retries
    std::uint64_t received = 0; // reactor 1
    std::promise<void> done;
};

void produce(stream_run* run) {
    while (run->sent < run->to_send) {
        auto r = run->pool->post(1, [run] {
            if (++run->received == run->to_send) {
                run->done.set_value();
            }
        });
        if (!r) {
            ++run->full;
            // Back off by yielding to our own loop: re-post and return, never block the reactor.
            (void)run->pool->post(0, [run] { produce(run); });
            return;
        }
        ++run->sent;
    }
}

void BM_handoff_stream(benchmark::State& state) {
    reactor_pool pool(two_reactors(static_cast<std::size_t>(state.range(0))));
    if (!pool.start()) {
        state.SkipWithError("reactor_pool::start failed");
        return;
    }
    constexpr std::uint64_t messages = 200'000;
    std::uint64_t full = 0;
    double cpu = 0;
    for (auto _ : state) {
        auto owned = std::make_unique<stream_run>();
        stream_run* run = owned.get();
        run->pool = &pool;
        run->to_send = messages;
        auto finished = run->done.get_future();
        double cpu0 = process_cpu_ns();
        (void)pool.post(0, [run] { produce(run); });
        finished.wait();
        quiesce(pool); // tasks still holding `run` have finished before it is freed
        cpu += process_cpu_ns() - cpu0;
        full += run->full;
    }
    (void)pool.stop(std::chrono::seconds(1));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
    state.counters["ns_per_msg"] = benchmark::Counter(static_cast<double>(state.iterations() * messages),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["cpu_ns_per_msg"] = cpu / static_cast<double>(state.iterations() * messages);
    state.counters["full_retries_per_run"] =
        static_cast<double>(full) / static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}
BENCHMARK(BM_handoff_stream)->Arg(1024)->Arg(16384)->UseRealTime()->Unit(benchmark::kMillisecond);

/// Credit-based streaming: at most `window` messages unacknowledged; the consumer returns credits in batches of
/// `ack_every`. The steady-state pattern of a coordinator feeding a perspective reactor (no queue_full spinning).
struct window_run {
    reactor_pool* pool = nullptr;
    std::uint64_t to_send = 0;
    std::uint64_t window = 0;
    std::uint64_t ack_every = 0;
    std::uint64_t sent = 0;     // reactor 0
    std::uint64_t credited = 0; // reactor 0: messages acknowledged
    std::uint64_t received = 0; // reactor 1
    std::promise<void> done;
};

void window_fill(window_run* run) {
    while (run->sent < run->to_send && run->sent - run->credited < run->window) {
        auto r = run->pool->post(1, [run] {
            if (++run->received == run->to_send) {
                run->done.set_value();
            } else if (run->received % run->ack_every == 0) {
                (void)run->pool->post(0, [run] {
                    run->credited += run->ack_every;
                    window_fill(run);
                });
            }
        });
        if (!r) {
            return; // cannot happen while window <= capacity; the next ack resumes
        }
        ++run->sent;
    }
}

void BM_handoff_window(benchmark::State& state) {
    reactor_pool pool(two_reactors(16384));
    if (!pool.start()) {
        state.SkipWithError("reactor_pool::start failed");
        return;
    }
    constexpr std::uint64_t messages = 200'000;
    double cpu = 0;
    for (auto _ : state) {
        auto owned = std::make_unique<window_run>();
        window_run* run = owned.get();
        run->pool = &pool;
        run->to_send = messages;
        run->window = static_cast<std::uint64_t>(state.range(0));
        run->ack_every = run->window / 4;
        auto finished = run->done.get_future();
        double cpu0 = process_cpu_ns();
        (void)pool.post(0, [run] { window_fill(run); });
        finished.wait();
        quiesce(pool); // tasks still holding `run` have finished before it is freed
        cpu += process_cpu_ns() - cpu0;
    }
    (void)pool.stop(std::chrono::seconds(1));
    auto total = static_cast<double>(state.iterations() * messages);
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.counters["ns_per_msg"] = benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["cpu_ns_per_msg"] = cpu / total; // both reactors' CPU, the process total
}
BENCHMARK(BM_handoff_window)->Arg(256)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);

struct ping_run {
    reactor_pool* pool = nullptr;
    std::uint64_t remaining = 0;
    std::promise<void> done;
};

void bounce(ping_run* run, unsigned to) {
    if (run->remaining-- == 0) {
        run->done.set_value();
        return;
    }
    (void)run->pool->post(to, [run, to] { bounce(run, 1 - to); });
}

void BM_handoff_ping_pong(benchmark::State& state) {
    reactor_pool pool(two_reactors(1024, state.range(0) != 0));
    if (!pool.start()) {
        state.SkipWithError("reactor_pool::start failed");
        return;
    }
    constexpr std::uint64_t hops = 20'000;
    double cpu = 0;
    for (auto _ : state) {
        auto owned = std::make_unique<ping_run>();
        ping_run* run = owned.get();
        run->pool = &pool;
        run->remaining = hops;
        auto finished = run->done.get_future();
        double cpu0 = process_cpu_ns();
        (void)pool.post(0, [run] { bounce(run, 1); });
        finished.wait();
        quiesce(pool); // tasks still holding `run` have finished before it is freed
        cpu += process_cpu_ns() - cpu0;
    }
    (void)pool.stop(std::chrono::seconds(1));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * hops));
    state.counters["cpu_ns_per_hop"] = cpu / static_cast<double>(state.iterations() * hops);
    state.counters["ns_per_hop"] = benchmark::Counter(static_cast<double>(state.iterations() * hops),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
// Arg 1: reactors pinned to two CPUs (the production layout: every hop is a cross-CPU wakeup). Arg 0: unpinned,
// the scheduler may run both on one CPU, where a hop is a same-CPU context switch (cheaper, not representative).
BENCHMARK(BM_handoff_ping_pong)->ArgName("pinned")->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
