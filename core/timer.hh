#pragma once
// Timers and deadlines on a reactor's loop clock (style.md §13: every check has a total deadline and per-stage
// ones; a uv_timer_t per operation is fine because libuv keeps timers in a heap).
//
// - deadline: an absolute time in milliseconds on the loop clock (uv_now), or "never".
// - timer: RAII owner of a uv_timer_t whose memory is freed from the close callback (libuv design.rst), so the
//   timer object itself may be destroyed at any time, including from inside its own callback.
// - one_shot: the completion of one asynchronous operation, fired exactly once with success (or the operation's
//   own error), errc::timed_out when its deadline passes, or errc::cancelled.

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <system_error>

#include <uv.h>

#include "core/error.hh"
#include "core/function.hh"

namespace mpic::core {

/// An absolute point on a loop's clock (uv_now, milliseconds, updated once per loop iteration). Value type.
/// Every loop's clock is CLOCK_MONOTONIC in milliseconds, so a deadline made on one reactor means the same instant
/// on another (to within each loop's cached-time lag, under one iteration). Invariant: never() compares greater
/// than every finite deadline.
class deadline {
public:
    /// A deadline at `loop_ms` on the loop clock.
    static constexpr deadline at(std::uint64_t loop_ms) noexcept { return deadline(loop_ms); }
    /// uv_now(loop) + timeout (negative timeouts count as 0; saturates below never()).
    static deadline after(uv_loop_t* loop, std::chrono::milliseconds timeout) noexcept;
    /// No deadline.
    static constexpr deadline never() noexcept { return deadline(std::numeric_limits<std::uint64_t>::max()); }

    constexpr std::uint64_t when_ms() const noexcept { return _at; }
    constexpr bool is_never() const noexcept { return _at == never()._at; }
    /// Time left on `loop`'s clock; zero once passed; milliseconds::max() for never().
    std::chrono::milliseconds remaining(uv_loop_t* loop) const noexcept;
    /// True once uv_now(loop) >= when_ms().
    bool expired(uv_loop_t* loop) const noexcept { return !is_never() && uv_now(loop) >= _at; }
    /// The earlier of two deadlines (a stage deadline capped by the check's total deadline).
    constexpr deadline earliest(deadline other) const noexcept { return _at <= other._at ? *this : other; }

    constexpr auto operator<=>(const deadline&) const noexcept = default;

private:
    constexpr explicit deadline(std::uint64_t at) noexcept : _at(at) {}
    std::uint64_t _at;
};

/// RAII one-shot timer on one loop. Loop thread only. Invariants: at most one callback is pending; the callback
/// runs at most once per start(); after stop() or destruction it does not run. The uv handle lives in a separate
/// heap block that is freed from its close callback, so destroying the timer (even inside the callback) is safe.
class timer {
public:
    /// Initialises the handle on `loop` (uv_timer_init cannot fail on Unix).
    explicit timer(uv_loop_t* loop);
    ~timer();
    timer(timer&& other) noexcept;
    timer& operator=(timer&& other) noexcept;
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;

    /// Arms the timer to run `cb` after `timeout` (negative counts as 0), replacing any pending callback, which is
    /// destroyed without running. Precondition: not moved-from.
    void start(std::chrono::milliseconds timeout, task cb);
    /// Arms the timer for deadline `d`; a passed deadline fires on the next loop iteration, never() does not arm.
    void start_at(deadline d, task cb);
    /// Disarms and destroys the pending callback, if any.
    void stop() noexcept;
    /// True while a callback is pending.
    bool armed() const noexcept;
    /// The loop this timer runs on. Precondition: not moved-from.
    uv_loop_t* loop() const noexcept;

private:
    struct state;
    state* _state = nullptr;
};

/// The single completion of one asynchronous operation, bounded by a deadline. Loop thread only; not movable
/// (its timer refers to it). Invariant: `on_done` is invoked exactly once: by the first of complete(),
/// the deadline (errc::timed_out), cancel() (errc::cancelled) or the destructor (errc::cancelled, so an owner
/// that is torn down still reports). Later calls return false and do nothing. on_done may destroy the one_shot.
class one_shot {
public:
    using callback = unique_function<void(std::error_code)>;

    /// Arms the deadline (a passed deadline fires timed_out on the next loop iteration, never inline; never()
    /// arms nothing). Precondition: on_done is not empty.
    one_shot(uv_loop_t* loop, deadline d, callback on_done);
    ~one_shot();
    one_shot(const one_shot&) = delete;
    one_shot& operator=(const one_shot&) = delete;

    /// Completes with `ec` (empty: success; otherwise the operation's own error). Returns false if already done.
    bool complete(std::error_code ec = {});
    /// Completes with errc::cancelled. Returns false if already done.
    bool cancel() { return complete(make_error_code(errc::cancelled)); }
    /// True until the completion has fired.
    bool pending() const noexcept { return static_cast<bool>(_on_done); }
    /// The deadline this operation was given.
    deadline due() const noexcept { return _due; }

private:
    timer _timer;
    deadline _due;
    callback _on_done;
};

} // namespace mpic::core
