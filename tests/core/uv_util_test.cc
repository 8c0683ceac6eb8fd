// Tests for core/uv_util.hh: container_of, close_then_delete frees only from the close callback, walk_and_close.
#include <string>

#include <gtest/gtest.h>

#include "core/uv_util.hh"

namespace mpic::core {
namespace {

struct tracked {
    explicit tracked(int* counter) : destroyed(counter) {}
    ~tracked() { ++*destroyed; }
    std::string name = "non-trivial member before the handle";
    int* destroyed;
    uv_timer_t timer{};
};

TEST(uv_util, container_of_recovers_owner) {
    int destroyed = 0;
    tracked t(&destroyed);
    EXPECT_EQ(container_of(&t.timer, &tracked::timer), &t);
    EXPECT_EQ(container_of(&t.destroyed, &tracked::destroyed), &t);
}

TEST(uv_util, close_then_delete_frees_in_close_callback) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    int destroyed = 0;
    auto* t = new tracked(&destroyed);
    ASSERT_EQ(uv_timer_init(&loop, &t->timer), 0);
    close_then_delete<&tracked::timer>(t);
    EXPECT_EQ(destroyed, 0) << "freed before libuv ran the close callback";
    uv_run(&loop, UV_RUN_NOWAIT);
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(uv_util, walk_and_close_counts_and_close_loop_returns_zero) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    uv_timer_t a;
    uv_timer_t b;
    uv_idle_t idle;
    ASSERT_EQ(uv_timer_init(&loop, &a), 0);
    ASSERT_EQ(uv_timer_init(&loop, &b), 0);
    ASSERT_EQ(uv_idle_init(&loop, &idle), 0);
    ASSERT_EQ(uv_idle_start(&idle, [](uv_idle_t*) {}), 0);
    uv_close(as_handle(&b), nullptr); // already closing: not counted again
    EXPECT_EQ(open_handle_count(&loop), 2U);
    EXPECT_EQ(uv_loop_close(&loop), UV_EBUSY);
    std::size_t closed = 0;
    EXPECT_EQ(close_loop(&loop, &closed), 0);
    EXPECT_EQ(closed, 2U);
}

} // namespace
} // namespace mpic::core
