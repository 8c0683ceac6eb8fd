#pragma once
// reactor: one libuv loop on its own thread, and reactor_pool: one reactor per core (style.md §4 "shared-nothing,
// one loop per core"; Seastar's reactor/smp). Everything a reactor owns (loop, handles, c-ares channel, SSL_CTX,
// pools, its gate) is touched only from its thread; other threads reach it only through post(), which goes
// through the reactor's mailbox (bounded MPSC ring + uv_async_t).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "core/function.hh"
#include "core/gate.hh"
#include "core/mailbox.hh"
#include "core/metrics.hh"
#include "core/result.hh"

namespace mpic::core {

/// Construction parameters of a reactor_pool.
struct reactor_pool_config {
    /// Number of reactors; 0 means std::thread::hardware_concurrency() (at least 1).
    unsigned reactors = 0;
    /// Mailbox slots per reactor (rounded up to a power of two). post() fails with queue_full beyond this.
    std::size_t mailbox_capacity = 16384;
    /// Tasks one mailbox wakeup runs before the loop gets back to I/O.
    std::size_t drain_batch = 256;
    /// Thread names are prefix + reactor id (visible in top -H, perf, gdb). At most 15 characters are kept.
    std::string thread_name_prefix = "mpic-r";
    /// Pin reactor i to the i-th CPU (modulo the count) of the process's allowed CPU set (sched_getaffinity, so
    /// `taskset -c 2,3` confines the pool to CPUs 2 and 3). Failure to pin is ignored: it is an optimisation.
    bool pin_threads = false;
};

/// What one reactor's shutdown did. `loop_close_status` is uv_loop_close's return value: 0 when every handle was
/// closed and the loop is clean.
struct reactor_stop_report {
    unsigned id = 0;
    bool grace_expired = false;          ///< in-flight work was still inside the gate when the grace period ended
    std::size_t in_flight_abandoned = 0; ///< gate count at the moment the grace period expired
    std::size_t tasks_run_at_close = 0;  ///< accepted mailbox tasks run after intake closed for good
    std::size_t forced_handles = 0;      ///< handles nobody closed, closed by walk_and_close
    int loop_close_status = 0;           ///< uv_loop_close(); must be 0
};

/// What reactor_pool::stop() did, per reactor.
struct stop_report {
    std::vector<reactor_stop_report> reactors;
    /// True when every loop closed with status 0.
    bool clean() const noexcept;
};

class reactor_pool;

/// One event loop on one thread. Created and owned by a reactor_pool; never moved.
///
/// Lifecycle: created -> running (thread started, loop live) -> stopping (intake closed; in-flight work may finish
/// within the grace period) -> stopped (handles closed, uv_loop_close called). The object outlives its thread.
class reactor {
public:
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;
    ~reactor();

    /// The reactor whose thread is calling, or nullptr on any other thread. thread_local, so it is cheap.
    static reactor* current() noexcept;

    /// Index of this reactor in its pool, 0-based and dense.
    unsigned id() const noexcept { return _id; }

    /// The loop. Use it only on this reactor's thread (libuv is not thread-safe except uv_async_send).
    uv_loop_t* loop() noexcept { return &_loop; }

    /// True when called from this reactor's thread.
    bool is_current() const noexcept { return current() == this; }

    /// Runs `t` on this reactor's thread, later (never inline, even when called from this reactor). Any thread.
    /// Errors: errc::queue_full when the mailbox is full (t is destroyed without running), errc::shutting_down
    /// once stop was requested. An accepted task runs exactly once, before the loop closes. Tasks must not throw
    /// (they run under libuv's C frames) and must not block.
    result<void> post(task t);

    /// Like post(), but still accepted while the reactor is stopping, until its in-flight work has finished or the
    /// grace period ended. For replies that complete work already in flight (a perspective result travelling
    /// back to the reactor that owns the request); new work must use post().
    result<void> post_continuation(task t);

    /// The in-flight gate. Work that must be allowed to finish during shutdown holds a gate::holder for its
    /// duration. Reactor thread only.
    gate& in_flight() noexcept { return _in_flight; }

    /// Registers `hook` to run on this reactor's thread when it stops, after the gate drained (or the grace period
    /// ended) and before leftover handles are force-closed: the place for a component to cancel what it still
    /// runs and close its handles properly (with close_then_delete). Returns an id for cancel_on_stop().
    /// Reactor thread only.
    std::uint64_t on_stop(task hook);

    /// Unregisters a hook (a component destroyed before the reactor stops). Returns false if the id is unknown
    /// or the hook already ran. Reactor thread only.
    bool cancel_on_stop(std::uint64_t hook_id);

    /// True once stop was requested. Any thread.
    bool stopping() const noexcept { return _intake_closed.load(std::memory_order_acquire); }

    /// Tasks waiting in the mailbox (approximate). Any thread.
    std::size_t queued() const noexcept { return _mailbox.size_approx(); }

private:
    friend class reactor_pool;
    reactor(unsigned id, const reactor_pool_config& config);

    void thread_main(std::promise<int> ready, std::string name, int cpu);
    void request_stop(std::chrono::milliseconds grace) noexcept;
    void begin_stop();
    void finish_stop(bool grace_expired);
    static void on_grace_timer(uv_timer_t* timer);

    unsigned _id;
    uv_loop_t _loop{};
    uv_async_t _stop_async{};
    uv_timer_t _grace_timer{};
    mailbox _mailbox;
    gate _in_flight;
    std::map<std::uint64_t, task> _stop_hooks;
    std::uint64_t _next_hook_id = 1;
    bool _finished = false;
    bool _drained = false; ///< the in-flight gate drained; finish_stop is due on the next loop turn
    std::atomic<bool> _intake_closed{false};
    std::atomic<bool> _loop_live{false};
    std::atomic<std::int64_t> _grace_ms{0};
    reactor_stop_report _report;
    /// mpic_reactor_post_rejected_total{reactor,reason}: posts refused by this reactor (global registry).
    counter _rejected_full;
    counter _rejected_stopping;
    std::thread _thread;
};

/// N reactors, each on its own thread. start(), join(), stop() and the destructor are called from one controlling
/// thread that is not a reactor thread of this pool (join would wait for itself); request_stop() may be called
/// from any thread, reactors included (a signal watcher on a reactor, an admin endpoint).
class reactor_pool {
public:
    explicit reactor_pool(reactor_pool_config config = {});
    /// Stops with a zero grace period if still running, then joins.
    ~reactor_pool();

    reactor_pool(const reactor_pool&) = delete;
    reactor_pool& operator=(const reactor_pool&) = delete;

    /// Starts every reactor thread and returns once every loop is running. On failure, the reactors already
    /// started are stopped and joined and the first error is returned. Call at most once.
    result<void> start();

    /// Number of reactors (fixed at construction).
    unsigned size() const noexcept { return static_cast<unsigned>(_reactors.size()); }

    /// Reactor `i`. Precondition: i < size().
    reactor& at(unsigned i) noexcept { return *_reactors[i]; }

    /// Shorthand for at(i).post(t). Precondition: i < size().
    result<void> post(unsigned i, task t) { return at(i).post(std::move(t)); }

    /// Closes intake on every reactor (post() returns shutting_down from now on) and asks each one to stop: wait
    /// up to `grace` for its gate to drain, run the remaining accepted tasks and the stop hooks, close every
    /// handle and uv_loop_close. Does not wait; join() does. Any thread; only atomics and uv_async_send.
    /// Idempotent (the first grace wins).
    void request_stop(std::chrono::milliseconds grace) noexcept;

    /// Waits for every reactor thread to end, which happens once request_stop() was called (from this or any
    /// other thread), and returns what each shutdown did. A daemon's main thread can call join() right after
    /// start() and let a signal handler on a reactor call request_stop().
    stop_report join();

    /// request_stop(grace) followed by join().
    stop_report stop(std::chrono::milliseconds grace);

private:
    reactor_pool_config _config;
    std::vector<std::unique_ptr<reactor>> _reactors;
    bool _started = false;
    bool _joined = false;
    stop_report _report;
};

} // namespace mpic::core
