// Tests for core/mailbox.hh: FIFO per producer under contention, exact delivery counts, overflow and closed
// errors, batched draining through uv_async_t, and pending tasks destroyed (not run, not leaked) at teardown.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "core/mailbox.hh"
#include "core/uv_util.hh"

namespace mpic::core {
namespace {

TEST(mailbox, capacity_rounds_up_to_power_of_two) {
    EXPECT_EQ(mailbox(5).capacity(), 8U);
    EXPECT_EQ(mailbox(0).capacity(), 2U);
    EXPECT_EQ(mailbox(1024).capacity(), 1024U);
}

TEST(mailbox, overflow_reports_queue_full_and_recovers) {
    mailbox box(8);
    int ran = 0;
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(box.push([&ran] { ++ran; }));
    }
    auto full = box.push([&ran] { ran += 100; });
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error(), make_error_code(errc::queue_full));
    EXPECT_EQ(box.size_approx(), 8U);
    EXPECT_EQ(box.run_batch(1), 1U);
    EXPECT_TRUE(box.push([&ran] { ++ran; }));
    EXPECT_EQ(box.run_batch(100), 8U);
    EXPECT_EQ(ran, 9) << "the rejected task must never run";
    task t;
    EXPECT_FALSE(box.try_pop(t));
}

TEST(mailbox, closed_refuses_with_shutting_down) {
    mailbox box(4);
    ASSERT_TRUE(box.push([] {}));
    box.close();
    EXPECT_TRUE(box.closed());
    auto r = box.push([] {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::shutting_down));
    EXPECT_EQ(box.run_batch(10), 1U) << "a task accepted before close stays runnable";
    box.close(); // idempotent
}

TEST(mailbox, destructor_destroys_pending_tasks_without_running_them) {
    auto token = std::make_shared<int>(0);
    bool ran = false;
    {
        mailbox box(4);
        ASSERT_TRUE(box.push([token, &ran] { ran = true; }));
        ASSERT_TRUE(box.push([token, &ran] { ran = true; }));
        EXPECT_EQ(token.use_count(), 3);
    }
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(ran);
}

// Several producers hammer a small ring while one consumer drains it: every accepted task arrives exactly once
// and each producer's tasks arrive in the order that producer pushed them. Overflow is expected (the ring is far
// smaller than the load) and must be reported, never silently dropped.
TEST(mailbox, contention_exact_count_and_per_producer_order) {
    constexpr int producers = 4;
    constexpr int per_producer = 20000;
    mailbox box(64);
    std::vector<std::vector<int>> seen(producers); // consumer-only
    std::atomic<int> rejected{0};
    std::atomic<bool> go{false};

    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            for (int i = 0; i < per_producer; ++i) {
                for (;;) {
                    auto r = box.push([&seen, p, i] { seen[p].push_back(i); });
                    if (r) {
                        break;
                    }
                    ASSERT_EQ(r.error(), make_error_code(errc::queue_full));
                    rejected.fetch_add(1, std::memory_order_relaxed);
                    std::this_thread::yield();
                }
            }
        });
    }
    go.store(true);
    std::size_t total = 0;
    while (total < static_cast<std::size_t>(producers * per_producer)) {
        std::size_t n = box.run_batch(256);
        if (n == 0) {
            std::this_thread::yield();
        }
        total += n;
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(box.run_batch(1000), 0U) << "nothing beyond what was pushed";
    for (int p = 0; p < producers; ++p) {
        ASSERT_EQ(seen[p].size(), static_cast<std::size_t>(per_producer));
        for (int i = 0; i < per_producer; ++i) {
            ASSERT_EQ(seen[p][i], i) << "producer " << p << " out of order";
        }
    }
    EXPECT_GT(rejected.load(), 0) << "a 64-slot ring under 80k pushes must overflow at least once";
}

// Wakeups through the loop: tasks pushed before attach run on the first iteration, at most `batch` per iteration,
// and the remainder on following iterations.
TEST(mailbox, loop_drains_in_batches) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    {
        mailbox box(16, 4);
        int ran = 0;
        for (int i = 0; i < 10; ++i) {
            ASSERT_TRUE(box.push([&ran] { ++ran; }));
        }
        ASSERT_TRUE(box.attach(&loop));
        uv_run(&loop, UV_RUN_NOWAIT);
        EXPECT_EQ(ran, 4);
        uv_run(&loop, UV_RUN_NOWAIT);
        EXPECT_EQ(ran, 8);
        uv_run(&loop, UV_RUN_NOWAIT);
        EXPECT_EQ(ran, 10);
        // A push from another thread wakes the loop.
        std::thread producer([&box, &ran] { ASSERT_TRUE(box.push([&ran] { ran = 100; })); });
        producer.join();
        uv_run(&loop, UV_RUN_ONCE);
        EXPECT_EQ(ran, 100);
        box.close();
        EXPECT_EQ(close_loop(&loop), 0);
    }
}

} // namespace
} // namespace mpic::core
