#include "core/timer.hh"

#include <cassert>
#include <utility>

#include "core/uv_util.hh"

namespace mpic::core {

deadline deadline::after(uv_loop_t* loop, std::chrono::milliseconds timeout) noexcept {
    std::uint64_t now = uv_now(loop);
    auto ms = static_cast<std::uint64_t>(timeout.count() < 0 ? 0 : timeout.count());
    // Saturate one below never(): a finite timeout must stay a finite deadline.
    std::uint64_t limit = never().when_ms() - 1;
    return at(ms > limit - now ? limit : now + ms);
}

std::chrono::milliseconds deadline::remaining(uv_loop_t* loop) const noexcept {
    if (is_never()) {
        return std::chrono::milliseconds::max();
    }
    std::uint64_t now = uv_now(loop);
    return std::chrono::milliseconds(_at > now ? static_cast<std::int64_t>(_at - now) : 0);
}

/// The heap block holding the uv handle. Outlives the timer object when the timer is destroyed: it is freed by
/// close_then_delete's callback, after libuv is done with the handle.
struct timer::state {
    uv_timer_t handle{};
    task cb;

    static void on_fire(uv_timer_t* handle) {
        state* self = container_of(handle, &state::handle);
        // Move the callback out first: it may restart the timer (assigning a new cb) or destroy the timer object
        // (closing this handle); neither may destroy the callable while it runs, and we touch nothing after it.
        task cb = std::move(self->cb);
        if (cb) {
            cb();
        }
    }
};

timer::timer(uv_loop_t* loop) : _state(new state) {
    int rc = uv_timer_init(loop, &_state->handle);
    assert(rc == 0); // uv_timer_init only records the loop; it has no failure path on Unix
    (void)rc;
}

timer::~timer() {
    if (_state != nullptr) {
        uv_timer_stop(&_state->handle);
        _state->cb = nullptr; // release captures now, not at the close callback
        close_then_delete<&state::handle>(_state);
    }
}

timer::timer(timer&& other) noexcept : _state(std::exchange(other._state, nullptr)) {}

timer& timer::operator=(timer&& other) noexcept {
    if (this != &other) {
        timer doomed(std::move(*this)); // closes our old handle, if any
        _state = std::exchange(other._state, nullptr);
    }
    return *this;
}

void timer::start(std::chrono::milliseconds timeout, task cb) {
    assert(_state != nullptr);
    _state->cb = std::move(cb);
    auto ms = static_cast<std::uint64_t>(timeout.count() < 0 ? 0 : timeout.count());
    uv_timer_start(&_state->handle, &state::on_fire, ms, 0);
}

void timer::start_at(deadline d, task cb) {
    assert(_state != nullptr);
    if (d.is_never()) {
        stop();
        return;
    }
    start(d.remaining(uv_handle_get_loop(as_handle(&_state->handle))), std::move(cb));
}

void timer::stop() noexcept {
    if (_state != nullptr) {
        uv_timer_stop(&_state->handle);
        _state->cb = nullptr;
    }
}

bool timer::armed() const noexcept {
    return _state != nullptr && uv_is_active(as_handle(&_state->handle)) != 0;
}

uv_loop_t* timer::loop() const noexcept {
    assert(_state != nullptr);
    return uv_handle_get_loop(as_handle(&_state->handle));
}

one_shot::one_shot(uv_loop_t* loop, deadline d, callback on_done)
    : _timer(loop), _due(d), _on_done(std::move(on_done)) {
    assert(_on_done);
    // start_at with a passed deadline arms a 0 ms timer: the timeout is reported from the loop, never from inside
    // this constructor, so the caller can finish wiring the operation before any completion runs.
    _timer.start_at(d, [this] { complete(make_error_code(errc::timed_out)); });
}

one_shot::~one_shot() {
    // Exactly-once survives teardown: an owner destroyed mid-operation still learns that it was cancelled.
    complete(make_error_code(errc::cancelled));
}

bool one_shot::complete(std::error_code ec) {
    if (!_on_done) {
        return false;
    }
    _timer.stop();
    callback done = std::move(_on_done); // _on_done is now empty: re-entrant calls from done() return false
    done(ec);                            // may destroy *this; nothing below touches it
    return true;
}

} // namespace mpic::core
