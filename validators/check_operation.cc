#include "validators/check_operation.hh"

#include <chrono>

namespace mpic::validators {

check_operation::check_operation(perspective_runtime& runtime, std::shared_ptr<const check_request> request,
                                 check_callback callback)
    : _runtime(runtime), _request(std::move(request)), _callback(std::move(callback)) {}

check_operation::~check_operation() = default;

void check_operation::start(std::uint64_t timeout_ms) {
    _self = shared_from_this();
    _started_ns = uv_hrtime();
    // libuv timers count from the loop's cached "now", which may be stale by the time a busy iteration reaches
    // this check; refresh it so the deadline is measured from the real start.
    uv_update_time(_runtime.loop);
    _deadline = new uv_timer_t;
    uv_timer_init(_runtime.loop, _deadline);
    _deadline->data = this;
    uv_timer_start(_deadline, &check_operation::on_deadline, timeout_ms, 0);
    run();
}

void check_operation::on_deadline(uv_timer_t* timer) {
    auto* self = static_cast<check_operation*>(timer->data);
    self->fail_incomplete("timeout", "check deadline exceeded");
}

void check_operation::cancel() {
    fail_incomplete("cancelled", "check cancelled");
}

void check_operation::fail_incomplete(std::string_view kind, std::string message) {
    if (_finished) {
        return;
    }
    // finish() drops _self; keep the object alive until abort() has run.
    auto keep = shared_from_this();
    auto result = make_result();
    result.completed = false;
    result.errors.push_back(incomplete_problem(kind, std::move(message)));
    finish(std::move(result));
    abort();
}

problem check_operation::incomplete_problem(std::string_view kind, std::string message) const {
    const auto component =
        _request->type == check_type::caa ? problem_component::caa_checker : problem_component::dcv_checker;
    return problem::make(component, kind, std::move(message));
}

check_result check_operation::make_result() const {
    check_result result;
    result.type = _request->type;
    if (_request->type == check_type::dcv) {
        result.method = _request->dcv.method;
    }
    return result;
}

std::uint32_t check_operation::elapsed_us() const {
    return static_cast<std::uint32_t>((uv_hrtime() - _started_ns) / 1000);
}

void check_operation::finish(check_result&& result) {
    if (_finished) {
        return;
    }
    _finished = true;
    result.timings.total_us = elapsed_us();
    result.timestamp_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    // Keep ourselves alive through the callback even if it drops the last outside reference.
    auto keep = std::move(_self);
    if (_deadline != nullptr) {
        uv_timer_stop(_deadline);
        // The timer's memory is reclaimed only in its close callback (libuv handle lifetime rule).
        uv_close(reinterpret_cast<uv_handle_t*>(_deadline),
                 [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
        _deadline = nullptr;
    }
    auto callback = std::move(_callback);
    callback(std::move(result));
}

} // namespace mpic::validators
