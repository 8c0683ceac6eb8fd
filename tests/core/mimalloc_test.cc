// The shipped allocator: binaries linked with mpic_use_mimalloc route operator new (and malloc) to mimalloc.
// Built only in non-sanitizer configurations (tests/core/CMakeLists.txt), where the override is linked.
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <mimalloc.h>

namespace {

TEST(mimalloc_override, operator_new_allocates_from_mimalloc) {
    auto block = std::make_unique<char[]>(4096);
    EXPECT_TRUE(mi_is_in_heap_region(block.get()));
    auto small = std::make_unique<int>(7);
    EXPECT_TRUE(mi_is_in_heap_region(small.get()));
    std::string s(1000, 'x');
    EXPECT_TRUE(mi_is_in_heap_region(s.data()));
}

TEST(mimalloc_override, malloc_allocates_from_mimalloc) {
    void* p = std::malloc(128);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(mi_is_in_heap_region(p));
    std::free(p);
}

TEST(mimalloc_override, foreign_pointer_is_not_in_heap) {
    static int not_heap = 0;
    int on_stack = 0;
    EXPECT_FALSE(mi_is_in_heap_region(&not_heap));
    EXPECT_FALSE(mi_is_in_heap_region(&on_stack));
}

} // namespace
