#pragma once
// gate: counts the work in flight on one reactor so shutdown can wait for it (Seastar's seastar::gate). Work
// enters the gate before it starts and holds a gate::holder until it completes; close() stops new entries and
// reports when the count reaches zero.

#include <cassert>
#include <cstddef>
#include <utility>

#include "core/error.hh"
#include "core/function.hh"
#include "core/result.hh"

namespace mpic::core {

/// An in-flight counter with a closing state. Single-threaded: every member and every holder is used only on
/// the owning reactor's thread (no atomics, like everything else a reactor owns). Invariants: count() equals the
/// number of live holders; after close(), enter() fails with errc::shutting_down; the drained callback runs
/// exactly once, when the gate is closed and the count is zero.
class gate {
public:
    /// Proof of one unit of in-flight work. Move-only; releasing (destruction or release()) decrements the count.
    /// A holder must not outlive its gate.
    class holder {
    public:
        holder() noexcept = default;
        holder(holder&& other) noexcept : _gate(std::exchange(other._gate, nullptr)) {}
        holder& operator=(holder&& other) noexcept {
            if (this != &other) {
                release();
                _gate = std::exchange(other._gate, nullptr);
            }
            return *this;
        }
        holder(const holder&) = delete;
        holder& operator=(const holder&) = delete;
        ~holder() { release(); }

        /// Leaves the gate now; later calls do nothing.
        void release() noexcept {
            if (gate* g = std::exchange(_gate, nullptr)) {
                g->leave();
            }
        }
        /// True while this holder counts towards its gate.
        explicit operator bool() const noexcept { return _gate != nullptr; }

    private:
        friend class gate;
        explicit holder(gate* g) noexcept : _gate(g) {}
        gate* _gate = nullptr;
    };

    gate() = default;
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;
    /// Holders still alive at destruction would dangle; the reactor outlives every holder by contract.
    ~gate() = default;

    /// Enters the gate. Error: errc::shutting_down once close() was called.
    result<holder> enter() {
        if (_closed) {
            return errc::shutting_down;
        }
        ++_count;
        return holder(this);
    }

    /// Stops new entries; `on_drained` runs once the count is zero (immediately, inside close(), if it already
    /// is). Calling close() twice is a precondition violation.
    void close(task on_drained) {
        assert(!_closed);
        _closed = true;
        _on_drained = std::move(on_drained);
        if (_count == 0) {
            fire();
        }
    }

    /// Units of work currently inside.
    std::size_t count() const noexcept { return _count; }
    /// True once close() was called.
    bool closed() const noexcept { return _closed; }

private:
    void leave() noexcept {
        assert(_count > 0);
        if (--_count == 0 && _closed) {
            fire();
        }
    }
    void fire() {
        if (_on_drained) {
            task t = std::move(_on_drained);
            t();
        }
    }

    std::size_t _count = 0;
    bool _closed = false;
    task _on_drained;
};

} // namespace mpic::core
