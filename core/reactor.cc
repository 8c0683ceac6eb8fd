#include "core/reactor.hh"

#include <algorithm>
#include <cassert>
#include <limits>
#include <pthread.h>
#include <sched.h>

#include "core/error.hh"
#include "core/metrics.hh"
#include "core/uv_util.hh"

namespace mpic::core {
namespace {

thread_local reactor* t_current = nullptr;

} // namespace

bool stop_report::clean() const noexcept {
    return std::all_of(reactors.begin(), reactors.end(),
                       [](const reactor_stop_report& r) { return r.loop_close_status == 0; });
}

reactor::reactor(unsigned id, const reactor_pool_config& config)
    : _id(id), _mailbox(config.mailbox_capacity, config.drain_batch) {
    _report.id = id;
    // Overload is visible in metrics, not only in the caller's error: a full mailbox means this reactor cannot
    // keep up (style.md §21 per-loop counters). Registration failure leaves inert handles.
    metrics_registry& reg = metrics_registry::global();
    static constexpr std::string_view help = "Tasks refused by a reactor's mailbox, by reason.";
    std::string label = std::to_string(id);
    if (auto c =
            reg.add_counter("mpic_reactor_post_rejected_total", help, {{"reactor", label}, {"reason", "queue_full"}})) {
        _rejected_full = *c;
    }
    if (auto c = reg.add_counter("mpic_reactor_post_rejected_total", help,
                                 {{"reactor", label}, {"reason", "shutting_down"}})) {
        _rejected_stopping = *c;
    }
}

reactor::~reactor() {
    // The pool joins every thread before destroying reactors; by then the loop is closed and the handles embedded
    // here (mailbox async, stop async, grace timer) have had their close callbacks.
    assert(!_thread.joinable());
}

reactor* reactor::current() noexcept {
    return t_current;
}

result<void> reactor::post(task t) {
    if (_intake_closed.load(std::memory_order_acquire)) {
        _rejected_stopping.inc();
        return errc::shutting_down;
    }
    return post_continuation(std::move(t));
}

result<void> reactor::post_continuation(task t) {
    auto r = _mailbox.push(std::move(t));
    if (!r) {
        (r.error() == make_error_code(errc::queue_full) ? _rejected_full : _rejected_stopping).inc();
    }
    return r;
}

std::uint64_t reactor::on_stop(task hook) {
    assert(is_current());
    std::uint64_t hook_id = _next_hook_id++;
    _stop_hooks.emplace(hook_id, std::move(hook));
    return hook_id;
}

bool reactor::cancel_on_stop(std::uint64_t hook_id) {
    assert(is_current());
    return _stop_hooks.erase(hook_id) == 1;
}

void reactor::thread_main(std::promise<int> ready, std::string name, int cpu) {
    t_current = this;
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<unsigned>(cpu), &set);
        (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    bind_metrics_shard(_id + 1);                         // shard 0 is shared by non-reactor threads
    name.resize(std::min<std::size_t>(name.size(), 15)); // the kernel's TASK_COMM_LEN is 16 with the NUL
    pthread_setname_np(pthread_self(), name.c_str());

    if (int rc = uv_loop_init(&_loop); rc != 0) {
        ready.set_value(rc); // LCOV_EXCL_LINE: DefensiveCoding (epoll_create failed)
        t_current = nullptr;
        return;
    }
    int rc = uv_async_init(&_loop, &_stop_async,
                           [](uv_async_t* handle) { container_of(handle, &reactor::_stop_async)->begin_stop(); });
    if (rc == 0) {
        rc = uv_timer_init(&_loop, &_grace_timer);
    }
    if (rc == 0) {
        if (auto attached = _mailbox.attach(&_loop); !attached) {
            rc = attached.error().value(); // LCOV_EXCL_LINE: DefensiveCoding
        }
    }
    if (rc != 0) {
        // LCOV_EXCL_START: DefensiveCoding (eventfd exhaustion)
        _mailbox.close();
        _report.loop_close_status = close_loop(&_loop, &_report.forced_handles);
        ready.set_value(rc);
        t_current = nullptr;
        return;
        // LCOV_EXCL_STOP
    }
    _loop_live.store(true);
    ready.set_value(0);
    // A stop requested before _loop_live was set found no handle to wake; look once ourselves. Both sides use
    // seq_cst (store then load on different variables: a Dekker pattern), so at least one of them sees the other.
    if (_intake_closed.load()) {
        uv_async_send(&_stop_async);
    }

    uv_run(&_loop, UV_RUN_DEFAULT);

    // finish_stop() closed everything; close_loop only confirms (and mops up if a close callback re-opened).
    std::size_t late = 0;
    _report.loop_close_status = close_loop(&_loop, &late);
    _report.forced_handles += late;
    t_current = nullptr;
}

void reactor::request_stop(std::chrono::milliseconds grace) noexcept {
    if (_intake_closed.load()) {
        return; // already requested; the first grace period wins
    }
    // The grace is published before the flag so that a reactor seeing the flag also sees the grace. Only the
    // pool's controlling thread calls this, so there is no second writer to race with.
    _grace_ms.store(std::max<std::int64_t>(0, grace.count()));
    _intake_closed.store(true);
    if (_loop_live.load()) {
        uv_async_send(&_stop_async);
    }
}

void reactor::begin_stop() {
    if (_in_flight.closed()) {
        return; // a second wakeup (request raced with thread start); stop is already under way
    }
    // Seastar gate semantics: no new work enters, work inside may finish. finish_stop runs from gate::close if
    // nothing is inside, else when the last holder leaves or when the grace timer fires, whichever is first.
    // The drained callback runs inside whatever callback released the last holder (a resolver's, a mailbox task);
    // finish_stop closes the very things that callback belongs to, so it runs on the next loop turn instead.
    _in_flight.close([this] {
        _drained = true;
        uv_timer_start(&_grace_timer, &reactor::on_grace_timer, 0, 0);
    });
    if (!_finished && !_drained) {
        auto grace = static_cast<std::uint64_t>(_grace_ms.load(std::memory_order_acquire));
        uv_timer_start(&_grace_timer, &reactor::on_grace_timer, grace, 0);
    }
}

void reactor::on_grace_timer(uv_timer_t* timer) {
    auto* self = container_of(timer, &reactor::_grace_timer);
    self->finish_stop(!self->_drained);
}

void reactor::finish_stop(bool grace_expired) {
    if (_finished) {
        return;
    }
    _finished = true;
    _report.grace_expired = grace_expired;
    _report.in_flight_abandoned = grace_expired ? _in_flight.count() : 0;
    uv_timer_stop(&_grace_timer);

    // Close intake for good, then run what was accepted: post()'s contract is "an accepted task runs exactly
    // once". Tasks posted by these tasks are refused (the mailbox is closed), so this terminates.
    _mailbox.close();
    std::size_t ran = 0;
    while (std::size_t batch = _mailbox.run_batch(std::numeric_limits<std::size_t>::max())) {
        ran += batch;
    }
    _report.tasks_run_at_close = ran;

    // Components cancel their remaining operations and close their handles (freeing memory in close callbacks).
    std::map<std::uint64_t, task> hooks = std::move(_stop_hooks);
    _stop_hooks.clear();
    for (auto& [hook_id, hook] : hooks) {
        hook();
    }

    uv_close(as_handle(&_grace_timer), nullptr);
    uv_close(as_handle(&_stop_async), nullptr);
    // Anything still open belongs to nobody who cleans up: close it so uv_run can return. Handles closed this
    // way get no close callback, so their owners' memory (if heap) leaks; the count says how often that happens.
    _report.forced_handles = walk_and_close(&_loop);
}

reactor_pool::reactor_pool(reactor_pool_config config) : _config(std::move(config)) {
    unsigned n = _config.reactors != 0 ? _config.reactors : std::thread::hardware_concurrency();
    n = std::max(n, 1U);
    _reactors.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        _reactors.push_back(std::unique_ptr<reactor>(new reactor(i, _config)));
    }
}

reactor_pool::~reactor_pool() {
    if (_started && !_joined) {
        (void)stop(std::chrono::milliseconds(0));
    }
}

result<void> reactor_pool::start() {
    assert(!_started);
    assert(reactor::current() == nullptr);
    _started = true;
    std::vector<int> cpus; // the CPUs this process may run on, in order
    if (_config.pin_threads) {
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
            for (int c = 0; c < CPU_SETSIZE; ++c) {
                if (CPU_ISSET(static_cast<unsigned>(c), &allowed)) {
                    cpus.push_back(c);
                }
            }
        }
    }
    std::vector<std::future<int>> ready;
    ready.reserve(_reactors.size());
    for (auto& r : _reactors) {
        std::promise<int> promise;
        ready.push_back(promise.get_future());
        int cpu = cpus.empty() ? -1 : cpus[r->id() % cpus.size()];
        r->_thread = std::thread(&reactor::thread_main, r.get(), std::move(promise),
                                 _config.thread_name_prefix + std::to_string(r->id()), cpu);
    }
    int first_error = 0;
    for (auto& f : ready) {
        int rc = f.get();
        if (rc != 0 && first_error == 0) {
            first_error = rc; // LCOV_EXCL_LINE: DefensiveCoding
        }
    }
    if (first_error != 0) {
        // LCOV_EXCL_START: DefensiveCoding
        (void)stop(std::chrono::milliseconds(0));
        return uv_error(first_error);
        // LCOV_EXCL_STOP
    }
    return {};
}

void reactor_pool::request_stop(std::chrono::milliseconds grace) noexcept {
    for (auto& r : _reactors) {
        r->request_stop(grace);
    }
}

stop_report reactor_pool::join() {
    assert(reactor::current() == nullptr);
    if (_joined) {
        return _report;
    }
    _report.reactors.clear();
    for (auto& r : _reactors) {
        if (r->_thread.joinable()) {
            r->_thread.join();
        }
        _report.reactors.push_back(r->_report);
    }
    _joined = true;
    return _report;
}

stop_report reactor_pool::stop(std::chrono::milliseconds grace) {
    request_stop(grace);
    return join();
}

} // namespace mpic::core
