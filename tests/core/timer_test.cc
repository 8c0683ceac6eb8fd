// Tests for core/timer.hh: deadline arithmetic, timer lifetime (stop, restart and destroy from inside the
// callback), and one_shot's exactly-once completion in every ordering of complete / timeout / cancel.
// Every test ends by closing the loop and asserting uv_loop_close == 0 (libuv's MAKE_VALGRIND_HAPPY).
#include <chrono>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "core/timer.hh"
#include "core/uv_util.hh"

namespace mpic::core {
namespace {

using namespace std::chrono_literals;

class timer_test : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(uv_loop_init(&_loop), 0); }
    void TearDown() override {
        std::size_t forced = 0;
        EXPECT_EQ(close_loop(&_loop, &forced), 0);
        EXPECT_EQ(forced, 0U) << "a timer left its handle open";
    }
    /// Runs the loop until `done` or a 5 s bound.
    template <class Pred>
    void run_until(Pred done) {
        auto limit = std::chrono::steady_clock::now() + 5s;
        while (!done() && std::chrono::steady_clock::now() < limit) {
            uv_run(&_loop, UV_RUN_ONCE);
        }
        ASSERT_TRUE(done()) << "loop bound reached";
    }
    uv_loop_t* loop() { return &_loop; }

    uv_loop_t _loop;
};

TEST_F(timer_test, deadline_arithmetic) {
    uv_update_time(loop());
    std::uint64_t now = uv_now(loop());
    deadline d = deadline::after(loop(), 250ms);
    EXPECT_EQ(d.when_ms(), now + 250);
    EXPECT_FALSE(d.expired(loop()));
    EXPECT_EQ(d.remaining(loop()), 250ms);
    EXPECT_EQ(deadline::after(loop(), -5ms).when_ms(), now) << "negative timeouts count as zero";
    EXPECT_TRUE(deadline::at(now).expired(loop()));
    EXPECT_EQ(deadline::at(0).remaining(loop()), 0ms);
    EXPECT_FALSE(deadline::never().expired(loop()));
    EXPECT_EQ(deadline::never().remaining(loop()), std::chrono::milliseconds::max());
    EXPECT_FALSE(deadline::after(loop(), std::chrono::milliseconds::max()).is_never()) << "saturates below never";
    EXPECT_EQ(d.earliest(deadline::never()), d);
    EXPECT_EQ(deadline::never().earliest(d), d);
    EXPECT_LT(d, deadline::never());
}

TEST_F(timer_test, fires_once_after_timeout) {
    timer t(loop());
    int fired = 0;
    t.start(10ms, [&] { ++fired; });
    EXPECT_TRUE(t.armed());
    run_until([&] { return fired > 0; });
    uv_run(loop(), UV_RUN_NOWAIT);
    EXPECT_EQ(fired, 1);
    EXPECT_FALSE(t.armed());
}

TEST_F(timer_test, stop_prevents_callback_and_releases_captures) {
    auto token = std::make_shared<int>(0);
    timer t(loop());
    bool fired = false;
    t.start(0ms, [&fired, token] { fired = true; });
    EXPECT_EQ(token.use_count(), 2);
    t.stop();
    EXPECT_EQ(token.use_count(), 1);
    uv_run(loop(), UV_RUN_NOWAIT);
    EXPECT_FALSE(fired);
}

TEST_F(timer_test, restart_replaces_pending_callback) {
    timer t(loop());
    std::vector<int> order;
    t.start(0ms, [&] { order.push_back(1); });
    t.start(5ms, [&] { order.push_back(2); });
    run_until([&] { return !order.empty(); });
    EXPECT_EQ(order, std::vector<int>{2});
}

TEST_F(timer_test, callback_may_restart_its_own_timer) {
    timer t(loop());
    int fired = 0;
    task again;
    again = [&] {
        if (++fired < 3) {
            t.start(1ms, [&] { again(); });
        }
    };
    t.start(1ms, [&] { again(); });
    run_until([&] { return fired == 3; });
}

TEST_F(timer_test, destroying_timer_inside_its_callback_is_safe) {
    auto* t = new timer(loop());
    bool fired = false;
    t->start(0ms, [&fired, t] {
        fired = true;
        delete t;
    });
    run_until([&] { return fired; });
}

TEST_F(timer_test, moved_timer_keeps_pending_callback) {
    timer a(loop());
    bool fired = false;
    a.start(1ms, [&] { fired = true; });
    timer b(std::move(a));
    timer c(loop());
    c = std::move(b); // c's own handle is closed, b's adopted
    run_until([&] { return fired; });
}

TEST_F(timer_test, start_at_never_does_not_arm) {
    timer t(loop());
    t.start_at(deadline::never(), [] { ADD_FAILURE() << "never fired"; });
    EXPECT_FALSE(t.armed());
}

// one_shot: exactly-once in every ordering.

struct recorder {
    std::vector<std::error_code> calls;
    one_shot::callback cb() {
        return [this](std::error_code ec) { calls.push_back(ec); };
    }
};

TEST_F(timer_test, one_shot_success_before_deadline) {
    recorder r;
    one_shot op(loop(), deadline::after(loop(), 20ms), r.cb());
    EXPECT_TRUE(op.pending());
    EXPECT_TRUE(op.complete());
    EXPECT_FALSE(op.pending());
    uv_sleep(30);
    uv_run(loop(), UV_RUN_NOWAIT); // the deadline has passed: nothing more may fire
    ASSERT_EQ(r.calls.size(), 1U);
    EXPECT_FALSE(r.calls[0]);
}

TEST_F(timer_test, one_shot_times_out) {
    recorder r;
    one_shot op(loop(), deadline::after(loop(), 5ms), r.cb());
    run_until([&] { return !r.calls.empty(); });
    ASSERT_EQ(r.calls.size(), 1U);
    EXPECT_EQ(r.calls[0], make_error_code(errc::timed_out));
    EXPECT_FALSE(op.complete()) << "late success after the timeout is ignored";
    EXPECT_FALSE(op.cancel()) << "cancel after fire is ignored";
    EXPECT_EQ(r.calls.size(), 1U);
}

TEST_F(timer_test, one_shot_fire_after_cancel_is_suppressed) {
    recorder r;
    one_shot op(loop(), deadline::after(loop(), 5ms), r.cb());
    EXPECT_TRUE(op.cancel());
    EXPECT_FALSE(op.cancel()) << "cancel twice";
    uv_sleep(15);
    uv_run(loop(), UV_RUN_NOWAIT); // the deadline passes after the cancel
    EXPECT_FALSE(op.complete());
    ASSERT_EQ(r.calls.size(), 1U);
    EXPECT_EQ(r.calls[0], make_error_code(errc::cancelled));
}

TEST_F(timer_test, one_shot_operation_error_is_passed_through) {
    recorder r;
    one_shot op(loop(), deadline::never(), r.cb());
    EXPECT_TRUE(op.complete(uv_error(UV_ECONNREFUSED)));
    ASSERT_EQ(r.calls.size(), 1U);
    EXPECT_EQ(r.calls[0], uv_error(UV_ECONNREFUSED));
}

TEST_F(timer_test, one_shot_passed_deadline_fires_from_loop_not_inline) {
    recorder r;
    one_shot op(loop(), deadline::at(0), r.cb());
    EXPECT_TRUE(r.calls.empty()) << "no completion from inside the constructor";
    run_until([&] { return !r.calls.empty(); });
    EXPECT_EQ(r.calls[0], make_error_code(errc::timed_out));
}

TEST_F(timer_test, one_shot_destructor_cancels_pending_operation) {
    recorder r;
    { one_shot op(loop(), deadline::after(loop(), 1h), r.cb()); }
    ASSERT_EQ(r.calls.size(), 1U);
    EXPECT_EQ(r.calls[0], make_error_code(errc::cancelled));
    {
        one_shot done(loop(), deadline::never(), r.cb());
        done.complete();
    }
    EXPECT_EQ(r.calls.size(), 2U) << "a completed one_shot does not fire again on destruction";
}

TEST_F(timer_test, one_shot_callback_may_destroy_it_and_reentrant_calls_are_ignored) {
    int calls = 0;
    bool reentrant_result = true;
    one_shot* holder = nullptr;
    holder = new one_shot(loop(), deadline::after(loop(), 1ms), [&](std::error_code ec) {
        ++calls;
        EXPECT_EQ(ec, make_error_code(errc::timed_out));
        reentrant_result = holder->cancel(); // re-entrant: already completing
        delete holder;                       // destroying from inside the completion
    });
    run_until([&] { return calls > 0; });
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(reentrant_result);
}

} // namespace
} // namespace mpic::core
