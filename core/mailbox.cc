#include "core/mailbox.hh"

#include <bit>
#include <thread>

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
    // Remaining tasks are destroyed by the slots' destructors. The async handle, if it was ever initialised,
    // must already be closed (the owner's contract); uv_is_closing is all we can check without the loop.
    assert(!_attached.load(std::memory_order_relaxed) || uv_is_closing(as_handle(&_async)));
}

result<void> mailbox::attach(uv_loop_t* loop) {
    assert(!_attached.load(std::memory_order_relaxed));
    if (int rc = uv_async_init(loop, &_async, &mailbox::on_async); rc != 0) {
        return uv_error(rc); // LCOV_EXCL_LINE: DefensiveCoding (only fails when eventfd cannot be created)
    }
    _attached.store(true, std::memory_order_release);
    // Tasks may have been pushed before there was a handle to wake; make sure the first iteration looks.
    uv_async_send(&_async);
    return {};
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
    s->sequence.store(pos + 1, std::memory_order_release);
    if (_attached.load(std::memory_order_acquire)) {
        // uv_async_send is thread-safe and coalesces: when a wakeup is already pending it is one load.
        uv_async_send(&_async);
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

void mailbox::on_async(uv_async_t* handle) {
    mailbox* self = container_of(handle, &mailbox::_async);
    std::size_t ran = self->run_batch(self->_batch);
    // A full batch means there may be more; yield to I/O and come back on the next iteration instead of
    // starving sockets and timers (uv_async_send to ourselves is legal and coalesced).
    if (ran == self->_batch && !uv_is_closing(as_handle(&self->_async))) {
        uv_async_send(&self->_async);
    }
}

void mailbox::close() {
    std::uint64_t state = _producers.fetch_or(closed_bit, std::memory_order_acq_rel);
    if (state & closed_bit) {
        return;
    }
    // Producers inside push() finish within a few hundred nanoseconds; yield rather than burn the core.
    while (_producers.load(std::memory_order_acquire) != closed_bit) {
        std::this_thread::yield();
    }
    if (_attached.load(std::memory_order_relaxed) && !uv_is_closing(as_handle(&_async))) {
        uv_close(as_handle(&_async), nullptr);
    }
}

std::size_t mailbox::size_approx() const noexcept {
    std::uint64_t tail = _dequeue_pos.load(std::memory_order_relaxed);
    std::uint64_t head = _enqueue_pos.load(std::memory_order_relaxed);
    return head >= tail ? static_cast<std::size_t>(head - tail) : 0;
}

} // namespace mpic::core
