// Tests for core/function.hh: move-only targets, inline vs heap storage, moves leave the source empty.
#include <array>
#include <memory>

#include <gtest/gtest.h>

#include "core/function.hh"

namespace mpic::core {
namespace {

TEST(unique_function, holds_move_only_target) {
    auto p = std::make_unique<int>(41);
    unique_function<int(int)> f = [p = std::move(p)](int x) { return *p + x; };
    ASSERT_TRUE(f);
    EXPECT_EQ(f(1), 42);
}

TEST(unique_function, small_target_is_inline_and_large_is_heap) {
    struct small {
        void* a;
        void* b;
        void operator()() {}
    };
    struct large {
        std::array<char, 128> bytes;
        void operator()() {}
    };
    EXPECT_TRUE(task::stored_inline<small>);
    EXPECT_FALSE(task::stored_inline<large>);
    EXPECT_EQ(sizeof(task), 48U);
}

TEST(unique_function, move_transfers_target_and_empties_source) {
    int calls = 0;
    std::array<char, 100> pad{}; // force the heap path as well
    task big = [&calls, pad] { calls += 1 + pad[0]; };
    task small = [&calls] { calls += 10; };
    task moved_big = std::move(big);
    task moved_small = std::move(small);
    EXPECT_FALSE(big);   // NOLINT(bugprone-use-after-move): checking the documented moved-from state
    EXPECT_FALSE(small); // NOLINT(bugprone-use-after-move)
    moved_big();
    moved_small();
    EXPECT_EQ(calls, 11);
    moved_small = std::move(moved_big);
    EXPECT_FALSE(moved_big); // NOLINT(bugprone-use-after-move)
    moved_small();
    EXPECT_EQ(calls, 12);
}

TEST(unique_function, destroys_captures_exactly_once) {
    auto counter = std::make_shared<int>(0);
    {
        task a = [counter] {};
        EXPECT_EQ(counter.use_count(), 2);
        task b = std::move(a);
        EXPECT_EQ(counter.use_count(), 2);
        b = nullptr;
        EXPECT_EQ(counter.use_count(), 1);
    }
    {
        std::array<char, 100> pad{};
        task heap = [counter, pad] { (void)pad; };
        task other = std::move(heap);
        EXPECT_EQ(counter.use_count(), 2);
    }
    EXPECT_EQ(counter.use_count(), 1);
}

} // namespace
} // namespace mpic::core
