// Tests for core/reactor.hh: reactor identity, cross-thread and cross-reactor posting, intake closing, and clean
// shutdown with work in flight (gate, grace period, stop hooks, uv_loop_close == 0 on every reactor).
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "core/reactor.hh"
#include "core/timer.hh"
#include "core/uv_util.hh"

namespace mpic::core {
namespace {

using namespace std::chrono_literals;

reactor_pool_config small_pool(unsigned n, std::size_t capacity = 1024) {
    reactor_pool_config config;
    config.reactors = n;
    config.mailbox_capacity = capacity;
    return config;
}

void expect_clean(const stop_report& report, std::size_t reactors) {
    ASSERT_EQ(report.reactors.size(), reactors);
    EXPECT_TRUE(report.clean());
    for (const auto& r : report.reactors) {
        EXPECT_EQ(r.loop_close_status, 0) << "reactor " << r.id;
        EXPECT_EQ(r.forced_handles, 0U) << "reactor " << r.id << " left handles nobody closed";
    }
}

TEST(reactor_pool, default_size_is_hardware_concurrency) {
    reactor_pool pool;
    unsigned expected = std::max(1U, std::thread::hardware_concurrency());
    EXPECT_EQ(pool.size(), expected);
}

TEST(reactor_pool, current_and_id_on_each_reactor) {
    reactor_pool pool(small_pool(3));
    ASSERT_TRUE(pool.start());
    EXPECT_EQ(reactor::current(), nullptr);
    for (unsigned i = 0; i < pool.size(); ++i) {
        std::promise<std::pair<reactor*, unsigned>> seen;
        ASSERT_TRUE(pool.post(i, [&seen] { seen.set_value({reactor::current(), reactor::current()->id()}); }));
        auto [r, id] = seen.get_future().get();
        EXPECT_EQ(r, &pool.at(i));
        EXPECT_EQ(id, i);
    }
    expect_clean(pool.stop(1s), 3);
}

TEST(reactor_pool, pinned_reactors_run_on_allowed_cpus) {
    reactor_pool_config config = small_pool(2);
    config.pin_threads = true;
    reactor_pool pool(config);
    ASSERT_TRUE(pool.start());
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    for (unsigned i = 0; i < pool.size(); ++i) {
        std::promise<int> cpus_in_mask;
        ASSERT_TRUE(pool.post(i, [&cpus_in_mask, &allowed] {
            cpu_set_t mine;
            CPU_ZERO(&mine);
            pthread_getaffinity_np(pthread_self(), sizeof mine, &mine);
            int count = CPU_COUNT(&mine);
            for (int c = 0; c < CPU_SETSIZE; ++c) {
                if (CPU_ISSET(static_cast<unsigned>(c), &mine) && !CPU_ISSET(static_cast<unsigned>(c), &allowed)) {
                    count = -1; // pinned outside what the process may use
                }
            }
            cpus_in_mask.set_value(count);
        }));
        EXPECT_EQ(cpus_in_mask.get_future().get(), 1) << "reactor " << i << " is pinned to exactly one allowed CPU";
    }
    expect_clean(pool.stop(1s), 2);
}

TEST(reactor_pool, post_from_reactor_to_reactor_and_back) {
    reactor_pool pool(small_pool(2));
    ASSERT_TRUE(pool.start());
    std::promise<int> done;
    ASSERT_TRUE(pool.post(0, [&pool, &done] {
        int hops = 1;
        ASSERT_TRUE(pool.post(1, [&pool, &done, hops] {
            EXPECT_EQ(reactor::current()->id(), 1U);
            ASSERT_TRUE(pool.post(0, [&done, hops] {
                EXPECT_EQ(reactor::current()->id(), 0U);
                done.set_value(hops + 2);
            }));
        }));
    }));
    EXPECT_EQ(done.get_future().get(), 3);
    expect_clean(pool.stop(1s), 2);
}

TEST(reactor_pool, post_is_never_inline_even_on_own_reactor) {
    reactor_pool pool(small_pool(1));
    ASSERT_TRUE(pool.start());
    std::promise<bool> inline_run;
    ASSERT_TRUE(pool.post(0, [&pool, &inline_run] {
        auto flag = std::make_shared<bool>(false);
        ASSERT_TRUE(pool.post(0, [flag, &inline_run] { inline_run.set_value(*flag); }));
        *flag = true; // set after post returned: the task must observe it
    }));
    EXPECT_TRUE(inline_run.get_future().get());
    expect_clean(pool.stop(1s), 1);
}

TEST(reactor_pool, post_after_stop_returns_shutting_down) {
    reactor_pool pool(small_pool(2));
    ASSERT_TRUE(pool.start());
    auto report = pool.stop(0ms);
    expect_clean(report, 2);
    auto r = pool.post(1, [] { ADD_FAILURE() << "ran after stop"; });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::shutting_down));
    EXPECT_TRUE(pool.at(0).stopping());
    EXPECT_TRUE(pool.stop(0ms).clean()) << "stop is idempotent";
}

TEST(reactor_pool, full_mailbox_reports_queue_full) {
    reactor_pool pool(small_pool(1, 4));
    ASSERT_TRUE(pool.start());
    // Park the reactor inside a task so nothing drains while we fill its mailbox. The test thread is the only
    // producer, so it can count exactly: 4 slots, the 5th push fails.
    std::promise<void> parked;
    std::promise<void> release;
    auto release_future = release.get_future().share();
    ASSERT_TRUE(pool.post(0, [&parked, release_future] {
        parked.set_value();
        release_future.wait(); // a test-only block; real tasks never block
    }));
    parked.get_future().wait();
    auto rejected = metrics_registry::global().add_counter("mpic_reactor_post_rejected_total", "",
                                                           {{"reactor", "0"}, {"reason", "queue_full"}});
    ASSERT_TRUE(rejected);
    std::uint64_t rejected_before = metrics_registry::global().read(*rejected);
    std::atomic<int> ran{0};
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(pool.post(0, [&ran] { ran.fetch_add(1); }));
    }
    auto overflow = pool.post(0, [&ran] { ran.fetch_add(100); });
    ASSERT_FALSE(overflow);
    EXPECT_EQ(overflow.error(), make_error_code(errc::queue_full));
    EXPECT_EQ(metrics_registry::global().read(*rejected), rejected_before + 1) << "overload is visible in metrics";
    release.set_value();
    expect_clean(pool.stop(1s), 1);
    EXPECT_EQ(ran.load(), 4) << "every accepted task ran once, the rejected one never";
}

// In-flight work holds the gate and finishes within the grace period: stop waits for it, the continuation it
// sends back to the reactor that owns the request is still accepted, new work is refused, and both loops close
// cleanly. Shape of a real request: reactor 1 owns it (holds its gate until the result arrives), reactor 0 runs
// the check (holds its gate until the check's timer completes).
TEST(reactor_pool, shutdown_waits_for_in_flight_work_within_grace) {
    reactor_pool pool(small_pool(2));
    ASSERT_TRUE(pool.start());
    std::promise<void> started;
    std::atomic<bool> finished{false};
    std::atomic<bool> continuation_ran{false};
    std::atomic<int> new_work_error{0};
    auto request_hold = std::make_shared<gate::holder>(); // touched only on reactor 1
    ASSERT_TRUE(pool.post(1, [&, request_hold] {
        auto held = reactor::current()->in_flight().enter();
        ASSERT_TRUE(held);
        *request_hold = std::move(*held);
        ASSERT_TRUE(pool.post(0, [&, request_hold] {
            reactor* self = reactor::current();
            auto check_hold = self->in_flight().enter();
            ASSERT_TRUE(check_hold);
            auto* t = new timer(self->loop());
            t->start(100ms, [&, t, request_hold, h = std::move(*check_hold)]() mutable {
                auto cont = pool.at(1).post_continuation([&, request_hold] {
                    continuation_ran = true;
                    request_hold->release(); // the request is answered: reactor 1 may finish stopping
                });
                EXPECT_TRUE(cont) << cont.error().message();
                auto fresh = pool.at(1).post([] {});
                new_work_error = fresh ? 0 : fresh.error().value();
                finished = true;
                delete t; // destroying a timer inside its own callback is allowed
                h.release();
            });
            started.set_value();
        }));
    }));
    started.get_future().wait();
    auto report = pool.stop(5s);
    EXPECT_TRUE(finished.load());
    EXPECT_TRUE(continuation_ran.load());
    EXPECT_EQ(new_work_error.load(), static_cast<int>(errc::shutting_down));
    expect_clean(report, 2);
    for (const auto& r : report.reactors) {
        EXPECT_FALSE(r.grace_expired) << "reactor " << r.id;
        EXPECT_EQ(r.in_flight_abandoned, 0U);
    }
}

// Work that does not finish in time: the grace period ends, the component's stop hook cancels it and closes its
// handle properly, and uv_loop_close still returns 0.
TEST(reactor_pool, grace_expiry_runs_stop_hooks_and_closes_cleanly) {
    reactor_pool pool(small_pool(1));
    ASSERT_TRUE(pool.start());
    std::promise<void> started;
    std::atomic<bool> cancelled{false};
    struct stuck_work {
        std::unique_ptr<timer> t;
        gate::holder held;
    };
    auto work = std::make_shared<stuck_work>();
    ASSERT_TRUE(pool.post(0, [&, work] {
        reactor* self = reactor::current();
        auto held = self->in_flight().enter();
        ASSERT_TRUE(held);
        work->held = std::move(*held);
        work->t = std::make_unique<timer>(self->loop());
        work->t->start(1h, [] { ADD_FAILURE() << "the stuck work must be cancelled, not completed"; });
        self->on_stop([&, work] {
            cancelled = true;
            work->t.reset();      // closes the handle; memory freed in its close callback
            work->held.release(); // leave the gate
        });
        started.set_value();
    }));
    started.get_future().wait();
    auto t0 = std::chrono::steady_clock::now();
    auto report = pool.stop(50ms);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(cancelled.load());
    expect_clean(report, 1);
    EXPECT_TRUE(report.reactors[0].grace_expired);
    EXPECT_EQ(report.reactors[0].in_flight_abandoned, 1U);
    EXPECT_GE(elapsed, 50ms);
    EXPECT_LT(elapsed, 5s);
}

// A handle nobody closes is force-closed and counted; the loop still closes with 0.
TEST(reactor_pool, leaked_handle_is_force_closed_and_reported) {
    reactor_pool pool(small_pool(1));
    ASSERT_TRUE(pool.start());
    auto idle = std::make_unique<uv_idle_t>(); // outlives the loop, so a callback-less close is safe
    std::promise<void> armed;
    ASSERT_TRUE(pool.post(0, [&] {
        uv_idle_init(reactor::current()->loop(), idle.get());
        armed.set_value();
    }));
    armed.get_future().wait();
    auto report = pool.stop(0ms);
    ASSERT_EQ(report.reactors.size(), 1U);
    EXPECT_EQ(report.reactors[0].forced_handles, 1U);
    EXPECT_EQ(report.reactors[0].loop_close_status, 0);
}

TEST(reactor_pool, cancelled_stop_hook_does_not_run) {
    reactor_pool pool(small_pool(1));
    ASSERT_TRUE(pool.start());
    std::atomic<int> hooks_run{0};
    std::promise<bool> cancelled;
    ASSERT_TRUE(pool.post(0, [&] {
        reactor* self = reactor::current();
        auto keep = self->on_stop([&] { hooks_run += 1; });
        auto drop = self->on_stop([&] { hooks_run += 100; });
        (void)keep;
        bool first = self->cancel_on_stop(drop);
        bool second = self->cancel_on_stop(drop);
        cancelled.set_value(first && !second);
    }));
    EXPECT_TRUE(cancelled.get_future().get());
    expect_clean(pool.stop(0ms), 1);
    EXPECT_EQ(hooks_run.load(), 1);
}

// Many producers posting to many reactors while the pool stops: every accepted post runs exactly once, every
// refused one reports shutting_down or queue_full, and nothing else happens.
TEST(reactor_pool, stop_under_concurrent_posting_accounts_for_every_task) {
    reactor_pool pool(small_pool(2, 256));
    ASSERT_TRUE(pool.start());
    std::atomic<long> accepted{0};
    std::atomic<long> ran{0};
    std::atomic<long> other_errors{0};
    std::atomic<bool> quit{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < 3; ++p) {
        producers.emplace_back([&, p] {
            unsigned target = static_cast<unsigned>(p) % pool.size();
            while (!quit.load()) {
                auto r = pool.post(target, [&ran] { ran.fetch_add(1); });
                if (r) {
                    accepted.fetch_add(1);
                } else if (r.error() == make_error_code(errc::shutting_down)) {
                    return;
                } else if (r.error() != make_error_code(errc::queue_full)) {
                    other_errors.fetch_add(1);
                }
            }
        });
    }
    std::this_thread::sleep_for(50ms);
    auto report = pool.stop(100ms);
    quit = true;
    for (auto& t : producers) {
        t.join();
    }
    expect_clean(report, 2);
    EXPECT_EQ(other_errors.load(), 0);
    EXPECT_GT(accepted.load(), 0);
    EXPECT_EQ(ran.load(), accepted.load());
}

} // namespace
} // namespace mpic::core
