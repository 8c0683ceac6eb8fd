#pragma once
// The runtime side of a check: what it runs on (one perspective's services on one reactor) and the base class that
// gives every check a total deadline and exactly-once completion.

#include <cstdint>
#include <functional>
#include <memory>

#include <uv.h>

#include "validators/check.hh"

namespace mpic::net::dns {
class resolver;
}
namespace mpic::net::http {
class client;
}

namespace mpic::validators {

/// The services of one perspective on one reactor. Each perspective has its own (BR 3.2.2.9: results from one
/// perspective must not be reused by another, so no resolver, cache, socket or pool is shared between them).
/// Invariant: every pointer outlives every check started with this runtime; all are used on `loop`'s thread only.
struct perspective_runtime {
    uv_loop_t* loop = nullptr;
    net::dns::resolver* dns = nullptr; ///< this perspective's resolver (own c-ares channel, own source address)
    net::http::client* http = nullptr; ///< this perspective's HTTP/TLS client (own pool, own source address)
};

/// Receives a check's result, exactly once, on the loop's thread.
using check_callback = std::function<void(check_result&&)>;

/// Base of every running check. Owns the total deadline; guarantees the callback runs exactly once, with a timeout
/// or cancellation result if the check's own I/O has not finished first; keeps itself alive (shared_from_this) from
/// start() until its callback has run. The deadline timer is a separate heap block freed in its own close callback,
/// so it may outlive the check. Subclasses implement run() (start I/O) and abort() (stop I/O whose results must now
/// be ignored).
class check_operation : public std::enable_shared_from_this<check_operation> {
public:
    check_operation(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                    check_callback callback);
    virtual ~check_operation();
    check_operation(const check_operation&) = delete;
    check_operation& operator=(const check_operation&) = delete;

    /// Arms the total deadline (`timeout_ms` from now) and starts the check. Call once, on the loop thread.
    void start(std::uint64_t timeout_ms);
    /// Completes the check with a cancellation error unless it already completed. Idempotent; loop thread only.
    void cancel();
    /// True once the callback has been invoked.
    bool finished() const noexcept { return _finished; }

protected:
    /// Starts the check's I/O; called once by start(), after the deadline is armed. May call finish() before
    /// returning (a parameter error).
    virtual void run() = 0;
    /// Stops in-flight I/O after the check finished early (deadline, cancel). Called at most once.
    virtual void abort() {}
    /// The problem reported when the deadline passes or the check is cancelled (`kind` is "timeout" or
    /// "cancelled"). Default: mpic_error:<caa_checker|dcv_checker>:<kind>.
    virtual problem incomplete_problem(std::string_view kind, std::string message) const;

    /// Delivers the result: stamps timestamp_ns and total_us, stops the deadline, invokes the callback. Later calls
    /// are ignored, so racing completions (I/O vs deadline) are harmless.
    void finish(check_result&& result);
    /// A result pre-filled with this check's type and method.
    check_result make_result() const;
    /// Microseconds since start(), measured with uv_hrtime (not the cached loop clock).
    std::uint32_t elapsed_us() const;

    perspective_runtime& _runtime;
    std::shared_ptr<const check_request> _request;

private:
    static void on_deadline(uv_timer_t* timer);
    void fail_incomplete(std::string_view kind, std::string message);

    check_callback _callback;
    uv_timer_t* _deadline = nullptr;        ///< heap-allocated: freed in its close callback, which may outlive *this
    std::shared_ptr<check_operation> _self; ///< keeps the check alive while it runs
    std::uint64_t _started_ns = 0;
    bool _finished = false;
};

/// A caller's handle on a running check: allows cancel() without owning the check.
class check_handle {
public:
    check_handle() = default;
    explicit check_handle(std::weak_ptr<check_operation> op) : _op(std::move(op)) {}
    /// Cancels the check if it still runs (its callback then fires with a cancellation error). Loop thread only.
    void cancel() {
        if (auto op = _op.lock()) {
            op->cancel();
        }
    }

private:
    std::weak_ptr<check_operation> _op;
};

/// Starts the check `request` describes on `runtime`; the callback fires exactly once within `timeout_ms`
/// (plus scheduling delay). An unsupported combination (e.g. dns-01 on an IP) completes with a parameter error.
check_handle start_check(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                         std::uint64_t timeout_ms, check_callback callback);

} // namespace mpic::validators
