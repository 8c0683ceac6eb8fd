#pragma once
// mailbox: how any thread hands work to a reactor (style.md §4: other threads talk to a loop only through a
// wakeup handle plus an MPSC queue, like h2o multithread.h and Seastar smp::submit_to). The queue is Dmitry
// Vyukov's bounded ring with one sequence number per slot: producers claim a position with one CAS and publish
// with one release store; the single consumer needs no RMW at all.
//
// The wakeup is an eventfd watched by a uv_poll_t, not a uv_async_t. libuv 1.44's async handle makes the woken
// loop spin (uv__async_spin: up to 997 `pause` iterations, then sched_yield) until the sending thread has finished
// uv_async_send; on a loaded machine the sender is often preempted inside that window, and profiling the ping-pong
// benchmark showed 73% of all CPU in that spin (~27 µs per hop). Here the consumer announces that it is going idle
// (`_wake_needed`) and producers write the eventfd only then, so a busy consumer costs producers no syscall at all
// (the "sleeping consumer" protocol of Seastar's and folly's queues).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <uv.h>

#include "core/function.hh"
#include "core/result.hh"

namespace mpic::core {

/// A bounded multi-producer single-consumer queue of tasks, woken through an eventfd polled by the loop.
///
/// Invariants:
/// - push() may be called from any thread; try_pop()/run_batch()/attach()/close() only from the consumer thread
///   (the thread running the attached loop).
/// - Tasks pushed by one producer are popped in the order that producer pushed them (positions are claimed in
///   program order). There is no order between producers.
/// - Every task accepted by push() is either popped exactly once or destroyed by ~mailbox(); none is lost.
/// - push() never blocks: a full ring returns errc::queue_full, a closed mailbox errc::shutting_down.
/// - No wakeup is lost: a task published while the consumer is idle always makes the eventfd readable.
/// - The mailbox embeds its uv_poll_t, so it must outlive the handle's close callback: destroy it only after
///   close() and a loop iteration (or uv_loop_close) have completed.
class mailbox {
public:
    /// Creates a ring of at least `capacity` slots (rounded up to a power of two, minimum 2). `batch` caps how
    /// many tasks one wakeup runs before yielding to the loop's I/O (the rest are run on the next iteration).
    explicit mailbox(std::size_t capacity, std::size_t batch = 256);
    ~mailbox();

    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    /// Initialises the wakeup handle on `loop`; from then on push() wakes the loop, whose callback runs tasks in
    /// batches. Tasks pushed before attach() are run on the first loop iteration. Consumer thread only.
    result<void> attach(uv_loop_t* loop);

    /// Enqueues `t` and wakes the consumer. Any thread. Errors: errc::queue_full when the ring has no free slot
    /// (the task is destroyed, not run), errc::shutting_down after close() (likewise). Precondition: t is not
    /// empty.
    result<void> push(task&& t);

    /// Pops the oldest published task into `out`. Consumer thread only. Returns false when the ring is empty
    /// (or the next slot is claimed but not yet published; its producer's wakeup will follow).
    bool try_pop(task& out);

    /// Pops and runs up to `max` tasks; returns how many ran. Consumer thread only.
    std::size_t run_batch(std::size_t max);

    /// Stops intake (push then returns shutting_down), waits for producers already inside push() to leave (a
    /// bounded wait: push() holds no lock and does a few atomic operations), and closes the wakeup handle. Tasks
    /// still queued stay there: run them with run_batch() or let ~mailbox() destroy them. Consumer thread only;
    /// idempotent.
    void close();

    /// True once close() has begun.
    bool closed() const noexcept { return (_producers.load(std::memory_order_acquire) & closed_bit) != 0; }

    /// Number of slots.
    std::size_t capacity() const noexcept { return _mask + 1; }

    /// Tasks queued at this instant (approximate when producers are active).
    std::size_t size_approx() const noexcept;

private:
    struct alignas(64) slot {
        std::atomic<std::uint64_t> sequence;
        task value;
    };

    static void on_readable(uv_poll_t* handle, int status, int events);
    bool has_ready() const noexcept;
    void wake() noexcept;

    static constexpr std::uint64_t closed_bit = 1;
    static constexpr std::uint64_t producer_unit = 2;

    std::unique_ptr<slot[]> _slots;
    std::uint64_t _mask;
    std::size_t _batch;
    alignas(64) std::atomic<std::uint64_t> _enqueue_pos{0};
    /// Bit 0: closed. Bits 1..: number of producers inside push(). close() waits for the count to reach zero
    /// before closing the wakeup handle, so no producer can write to it while it closes.
    alignas(64) std::atomic<std::uint64_t> _producers{0};
    /// Written only by the consumer; atomic (relaxed) so size_approx() may read it from any thread.
    alignas(64) std::atomic<std::uint64_t> _dequeue_pos{0};
    /// True while the consumer is idle (or about to be) and needs an eventfd write to notice new tasks. The
    /// first producer to exchange it to false writes the eventfd; everyone else skips the syscall.
    alignas(64) std::atomic<bool> _wake_needed{false};
    int _event_fd = -1;
    uv_poll_t _poll{};
    /// Set (release) once the eventfd and poll handle exist; producers wake the loop only after seeing it.
    std::atomic<bool> _attached{false};
    /// Consumer-only copy of "close() has run", so the drain loop does not read the producers' hot cache line.
    bool _closed_by_consumer = false;
};

} // namespace mpic::core
