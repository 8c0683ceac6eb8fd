#pragma once
// unique_function<R(Args...)>: a move-only, type-erased callable. std::function requires copyable targets, which
// rules out lambdas that own a unique_ptr, a gate holder or a completion; C++23's std::move_only_function is not in
// g++ 12's C++20 mode. Small targets live inline so posting a task to a mailbox does not allocate (Seastar's
// noncopyable_function has the same shape).

#include <cassert>
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace mpic::core {

template <class Signature>
class unique_function;

/// A move-only callable wrapper. Invariants: a moved-from or default-constructed unique_function is empty
/// (operator bool is false); invoking an empty one is a precondition violation (asserted). Targets of at most
/// `inline_capacity` bytes, alignment at most `alignof(void*)` and a noexcept move constructor are stored inline
/// (no allocation); larger ones are heap-allocated once at construction.
template <class R, class... Args>
class unique_function<R(Args...)> {
public:
    /// Bytes available for an inline target. 40 keeps sizeof(unique_function) at 48 so that a mailbox slot
    /// (sequence number + task) fits one 64-byte cache line.
    static constexpr std::size_t inline_capacity = 40;

    unique_function() noexcept = default;
    unique_function(std::nullptr_t) noexcept {}

    /// Wraps any callable invocable as R(Args...). The callable is moved (or copied) into the wrapper.
    template <class F, class D = std::decay_t<F>,
              std::enable_if_t<!std::is_same_v<D, unique_function> && std::is_invocable_r_v<R, D&, Args...>, int> = 0>
    unique_function(F&& f) { // NOLINT(google-explicit-constructor): implicit like std::function
        if constexpr (stored_inline<D>) {
            ::new (static_cast<void*>(_storage)) D(std::forward<F>(f));
            _ops = &inline_ops<D>::table;
        } else {
            ::new (static_cast<void*>(_storage)) D*(new D(std::forward<F>(f)));
            _ops = &heap_ops<D>::table;
        }
    }

    unique_function(unique_function&& other) noexcept : _ops(other._ops) {
        if (_ops != nullptr) {
            _ops->relocate(_storage, other._storage);
            other._ops = nullptr;
        }
    }

    unique_function& operator=(unique_function&& other) noexcept {
        if (this != &other) {
            reset();
            if (other._ops != nullptr) {
                other._ops->relocate(_storage, other._storage);
                _ops = other._ops;
                other._ops = nullptr;
            }
        }
        return *this;
    }

    unique_function& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }

    unique_function(const unique_function&) = delete;
    unique_function& operator=(const unique_function&) = delete;

    ~unique_function() { reset(); }

    /// True when a target is held.
    explicit operator bool() const noexcept { return _ops != nullptr; }

    /// Invokes the target. Precondition: *this is not empty.
    R operator()(Args... args) {
        assert(_ops != nullptr);
        return _ops->invoke(_storage, std::forward<Args>(args)...);
    }

    /// Destroys the target, leaving *this empty.
    void reset() noexcept {
        if (_ops != nullptr) {
            _ops->relocate(nullptr, _storage);
            _ops = nullptr;
        }
    }

    /// True when a target of type F would be stored without a heap allocation.
    template <class F>
    static constexpr bool stored_inline = sizeof(F) <= inline_capacity &&
                                          alignof(F) <= alignof(void*) && std::is_nothrow_move_constructible_v<F>;

private:
    struct ops {
        R (*invoke)(void* storage, Args&&... args);
        /// Moves the target from `src` into `dst` and destroys it in `src`; with dst == nullptr only destroys.
        void (*relocate)(void* dst, void* src) noexcept;
    };

    template <class F>
    struct inline_ops {
        static R invoke(void* storage, Args&&... args) {
            return std::invoke(*static_cast<F*>(storage), std::forward<Args>(args)...);
        }
        static void relocate(void* dst, void* src) noexcept {
            F* from = static_cast<F*>(src);
            if (dst != nullptr) {
                ::new (dst) F(std::move(*from));
            }
            from->~F();
        }
        static constexpr ops table{&invoke, &relocate};
    };

    template <class F>
    struct heap_ops {
        static R invoke(void* storage, Args&&... args) {
            return std::invoke(**static_cast<F**>(storage), std::forward<Args>(args)...);
        }
        static void relocate(void* dst, void* src) noexcept {
            F* target = *static_cast<F**>(src);
            if (dst != nullptr) {
                ::new (dst) F*(target); // ownership of the heap block moves with the pointer
            } else {
                delete target;
            }
        }
        static constexpr ops table{&invoke, &relocate};
    };

    const ops* _ops = nullptr;
    alignas(void*) unsigned char _storage[inline_capacity];
};

/// The unit of work a reactor runs: a move-only callable taking nothing and returning nothing.
using task = unique_function<void()>;

} // namespace mpic::core
