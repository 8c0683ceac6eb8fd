#include "core/mailbox.hh"

#include <bit>
#include <cerrno>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "core/error.hh"
#include "core/uv_util.hh"

namespace mpic::core {

mailbox::mailbox(std::size_t capacity, std::size_t batch)
    : _mask(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1), _batch(batch == 0 ? 1 : batch) {
    _slots = std::make_unique<slot[]>(_mask + 1);
    // Vyukov: slot i starts with sequence i, meaning "free for the producer that claims position i".
    for (std::uint64_t i = 0; i <= _mask; ++i) {
        _slots[i].sequence.store(i, std::memory_order_relaxed);
    }
}

mailbox::~mailbox() {
    // Remaining tasks are destroyed by the slots' destructors. The poll handle, if it was ever initialised, must
    // already be closed (the owner's contract); uv_is_closing is all we can check without the loop.
    assert(!_attached.load(std::memory_order_relaxed) || uv_is_closing(as_handle(&_poll)));
    if (_event_fd >= 0) {
        ::close(_event_fd); // after the poll handle closed: libuv must not watch a closed descriptor
    }
}

result<void> mailbox::attach(uv_loop_t* loop) {
    assert(!_attached.load(std::memory_order_relaxed));
    _event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (_event_fd < 0) {
        return uv_error(-errno); // LCOV_EXCL_LINE: DefensiveCoding (descriptor exhaustion)
    }
    if (int rc = uv_poll_init(loop, &_poll, _event_fd); rc != 0) {
        return uv_error(rc); // LCOV_EXCL_LINE: DefensiveCoding (epoll_ctl failure)
    }
    if (int rc = uv_poll_start(&_poll, UV_READABLE, &mailbox::on_readable); rc != 0) {
        // LCOV_EXCL_START: DefensiveCoding. The handle was initialised, so it must be closed; the owner keeps the
        // mailbox alive until its loop has closed.
        uv_close(as_handle(&_poll), nullptr);
        return uv_error(rc);
        // LCOV_EXCL_STOP
    }
    _attached.store(true, std::memory_order_release);
    // Tasks may have been pushed before there was anything to wake; make the first iteration look.
    wake();
    return {};
}

void mailbox::wake() noexcept {
    std::uint64_t one = 1;
    // An eventfd write only fails with EAGAIN when the counter would overflow (2^64 - 2 pending wakeups), and then
    // the descriptor is readable anyway: nothing to handle.
    ssize_t n = ::write(_event_fd, &one, sizeof one);
    (void)n;
}

result<void> mailbox::push(task&& t) {
    assert(t);
    // Registering as a producer and checking the closed bit is one RMW; close() sets the bit and waits for the
    // count to drain, so a producer either sees the bit or is waited for (seq_cst RMWs on one variable).
    if (_producers.fetch_add(producer_unit, std::memory_order_acq_rel) & closed_bit) {
        _producers.fetch_sub(producer_unit, std::memory_order_release);
        return errc::shutting_down;
    }
    std::uint64_t pos = _enqueue_pos.load(std::memory_order_relaxed);
    slot* s = nullptr;
    for (;;) {
        s = &_slots[pos & _mask];
        std::uint64_t seq = s->sequence.load(std::memory_order_acquire);
        auto diff = static_cast<std::int64_t>(seq - pos);
        if (diff == 0) {
            if (_enqueue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                break;
            }
        } else if (diff < 0) {
            // The slot still holds the task from one lap ago: the consumer is a full ring behind.
            _producers.fetch_sub(producer_unit, std::memory_order_release);
            return errc::queue_full;
        } else {
            pos = _enqueue_pos.load(std::memory_order_relaxed);
        }
    }
    s->value = std::move(t);
    // Dekker with the consumer's idle transition (on_readable): we publish, then read _wake_needed; it sets
    // _wake_needed, then re-reads the ring. All four accesses are seq_cst, so at least one side sees the other:
    // either we see the flag and wake it, or it sees our task. (A seq_cst store is one xchg on x86, cheaper than a
    // release store plus mfence; the seq_cst loads are plain movs.)
    s->sequence.store(pos + 1, std::memory_order_seq_cst);
    if (_wake_needed.load(std::memory_order_seq_cst) && _wake_needed.exchange(false, std::memory_order_acq_rel) &&
        _attached.load(std::memory_order_acquire)) {
        wake();
    }
    _producers.fetch_sub(producer_unit, std::memory_order_release);
    return {};
}

bool mailbox::try_pop(task& out) {
    std::uint64_t pos = _dequeue_pos.load(std::memory_order_relaxed);
    slot& s = _slots[pos & _mask];
    if (s.sequence.load(std::memory_order_acquire) != pos + 1) {
        return false;
    }
    out = std::move(s.value);
    // Hand the slot to the producer one lap ahead.
    s.sequence.store(pos + _mask + 1, std::memory_order_release);
    _dequeue_pos.store(pos + 1, std::memory_order_relaxed);
    return true;
}

std::size_t mailbox::run_batch(std::size_t max) {
    std::size_t ran = 0;
    task t;
    while (ran < max && try_pop(t)) {
        ++ran;
        t();
        t.reset(); // destroy captures now, not when the next task overwrites t
    }
    return ran;
}

bool mailbox::has_ready() const noexcept {
    std::uint64_t pos = _dequeue_pos.load(std::memory_order_relaxed);
    return _slots[pos & _mask].sequence.load(std::memory_order_seq_cst) == pos + 1;
}

void mailbox::on_readable(uv_poll_t* handle, int status, int /*events*/) {
    mailbox* self = container_of(handle, &mailbox::_poll);
    if (status < 0) {
        return; // LCOV_EXCL_LINE: DefensiveCoding (epoll reported an error on an eventfd)
    }
    std::uint64_t count = 0;
    ssize_t n = ::read(self->_event_fd, &count, sizeof count); // reset the counter; EAGAIN if already reset
    (void)n;
    for (;;) {
        std::size_t ran = self->run_batch(self->_batch);
        if (self->_closed_by_consumer) {
            return; // a task stopped the reactor; the handle is closing
        }
        if (ran == self->_batch) {
            // A full batch means there may be more: yield to I/O and timers, and come back on the next
            // iteration (the eventfd stays readable) instead of starving them.
            self->wake();
            return;
        }
        // Going idle: announce it, then look once more (see push for the other half of the protocol).
        self->_wake_needed.store(true, std::memory_order_seq_cst);
        if (!self->has_ready()) {
            return;
        }
        // A task slipped in. Take the flag back if no producer has; if one has, its eventfd write is on the way
        // and costs one spurious wakeup, which finds the ring empty.
        self->_wake_needed.exchange(false, std::memory_order_acq_rel);
    }
}

void mailbox::close() {
    std::uint64_t state = _producers.fetch_or(closed_bit, std::memory_order_acq_rel);
    if (state & closed_bit) {
        return;
    }
    _closed_by_consumer = true;
    // Producers inside push() finish within a few hundred nanoseconds; yield rather than burn the core.
    while (_producers.load(std::memory_order_acquire) != closed_bit) {
        std::this_thread::yield();
    }
    if (_attached.load(std::memory_order_relaxed) && !uv_is_closing(as_handle(&_poll))) {
        uv_close(as_handle(&_poll), nullptr); // stops polling; the eventfd is closed by ~mailbox
    }
}

std::size_t mailbox::size_approx() const noexcept {
    std::uint64_t tail = _dequeue_pos.load(std::memory_order_relaxed);
    std::uint64_t head = _enqueue_pos.load(std::memory_order_relaxed);
    return head >= tail ? static_cast<std::size_t>(head - tail) : 0;
}

} // namespace mpic::core
