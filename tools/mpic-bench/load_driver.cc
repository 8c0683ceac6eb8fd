// The load loop. Times are uv_hrtime() nanoseconds (CLOCK_MONOTONIC). Open loop: a timerfd armed for the next
// scheduled send releases every request whose time has come; when `concurrency` requests are outstanding, later
// ones wait in a FIFO backlog and are sent as slots free up, still timed from their schedule (wrk2's "corrected"
// latency, without the correction arithmetic: we simply never forget when a request was due).
//
// Why a timerfd and not a uv_timer: libuv timers have millisecond resolution against a loop time cached at the
// start of the iteration, so a 1 ms tick sends each request 0–2 ms after it was due. Latency counts from the due
// time, so that lag was added to every sample: at low load it was most of the "engine-added" latency (measured
// 2026-11-30: ~0.9 ms at 200 requests/s). The timerfd fires at the due nanosecond (within the scheduler's wake-up
// latency), and the lag that remains is measured and reported (send_lag) rather than hidden.

#include "tools/mpic-bench/load_driver.hh"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <strings.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <uv.h>

#include "net/addr/ip_address.hh"
#include "net/http/client.hh"

namespace mpic::bench {
namespace {

using namespace std::chrono_literals;
namespace http = net::http;

class load_run {
public:
    load_run(const load_config& config, const request_mix& mix, const load_hooks& hooks)
        : _config(config), _mix(mix), _hooks(hooks), _rng(config.seed) {
        uv_loop_init(&_loop);
        http::client_config cc;
        cc.policy = net::addr::address_policy::unrestricted("load generator against a local mpicd");
        cc.pool_capacity = config.concurrency;
        cc.idle_timeout = 120s;
        _client = std::make_unique<http::client>(&_loop, nullptr, cc);
        _base.addresses = {net::addr::ip_address::parse(config.host).value()};
        _base.port = config.port;
        _base.method = "POST";
        _base.target = "/mpic";
        _base.host = config.host + ":" + std::to_string(config.port);
        _base.headers = {{"Content-Type", "application/json"}, {"User-Agent", "mpic-bench"}};
        if (!config.token.empty()) {
            _base.headers.push_back({"Authorization", "Bearer " + config.token});
        }
        _base.keep_alive = true;
        _base.body_cap = 8 * 1024 * 1024;
        const auto limit = std::chrono::milliseconds(static_cast<long>((config.drain_timeout_s + 60) * 1000));
        _base.deadlines = {limit, limit, limit, limit, limit, limit};
        // One prepared request per mix entry: the hot path copies it rather than rebuilding headers.
        for (const auto& e : mix.entries()) {
            auto r = _base;
            r.body = e.body;
            _prepared.push_back(std::move(r));
        }
    }

    load_result run() {
        _start_ns = uv_hrtime();
        _window_open_ns = _start_ns + to_ns(_config.warmup_s);
        _window_end_ns = _window_open_ns + to_ns(_config.duration_s);
        _next_ns = _start_ns;
        uv_timer_init(&_loop, &_edge);
        _edge.data = this;
        uv_timer_init(&_loop, &_progress);
        _progress.data = this;
        if (_config.mode == load_mode::closed) {
            for (unsigned i = 0; i < _config.concurrency; ++i) {
                issue(_start_ns);
            }
        } else {
            start_schedule();
        }
        uv_timer_start(
            &_edge, [](uv_timer_t* t) { static_cast<load_run*>(t->data)->on_window_open(); },
            to_ms(_window_open_ns - _start_ns), 0);
        // Ctrl-C or SIGTERM ends the run early but cleanly: outstanding requests are cancelled, the results so far
        // are reported, and the caller stops what it started (rather than leaving the lab's directories behind).
        for (uv_signal_t* sig : {&_sigint, &_sigterm}) {
            uv_signal_init(&_loop, sig);
            sig->data = this;
        }
        uv_signal_start(
            &_sigint, [](uv_signal_t* h, int) { static_cast<load_run*>(h->data)->interrupt(); }, SIGINT);
        uv_signal_start(
            &_sigterm, [](uv_signal_t* h, int) { static_cast<load_run*>(h->data)->interrupt(); }, SIGTERM);
        if (_config.progress) {
            uv_timer_start(
                &_progress, [](uv_timer_t* t) { static_cast<load_run*>(t->data)->on_progress(); }, 1000, 1000);
        }
        uv_run(&_loop, UV_RUN_DEFAULT);
        // Every handle was closed in finish(); the client freed itself in its close callbacks.
        uv_loop_close(&_loop);
        if (_config.progress) {
            std::fputs("\r\033[K", stderr);
        }
        _result.connections_opened = _connections_opened;
        return std::move(_result);
    }

private:
    static std::uint64_t to_ns(double s) { return static_cast<std::uint64_t>(s * 1e9); }
    static std::uint64_t to_ms(std::uint64_t ns) { return ns / 1'000'000; }
    bool in_window(std::uint64_t intended_ns) const {
        return intended_ns >= _window_open_ns && intended_ns < _window_end_ns;
    }

    void issue(std::uint64_t intended_ns) {
        const std::size_t index = _mix.pick(_rng);
        ++_outstanding;
        ++_sent;
        // How late the generator itself sent this request (timer wake-up, a busy loop, a full backlog): part of the
        // measured latency that the daemon did not cause. Closed loop sends at once, so its lag is ~0.
        const std::uint64_t sent_ns = uv_hrtime();
        const auto lag_us = static_cast<std::uint32_t>(
            std::min<std::uint64_t>((sent_ns - std::min(sent_ns, intended_ns)) / 1000, UINT32_MAX));
        if (_config.mode == load_mode::open && in_window(intended_ns)) {
            _result.send_lag_us.push_back(lag_us);
        }
        _client->fetch(_prepared[index], [this, intended_ns, lag_us, index](http::exchange_result&& r) {
            on_done(intended_ns, lag_us, index, std::move(r));
        });
    }

    void on_done(std::uint64_t intended_ns, std::uint32_t lag_us, std::size_t index, http::exchange_result&& r) {
        const std::uint64_t now = uv_hrtime();
        --_outstanding;
        ++_completed;
        if (in_window(intended_ns)) {
            record(intended_ns, lag_us, index, now, r);
            _last_window_done_ns = now;
        } else if (intended_ns < _window_open_ns) {
            ++_result.warmup_requests;
        }
        if (_finishing) {
            ++_result.cancelled_at_drain;
            return;
        }
        if (_config.mode == load_mode::closed) {
            // The next request of this worker is due now: a slow answer delays it, and that delay is the latency.
            if (now < _window_end_ns) {
                issue(now);
            }
        } else if (!_backlog.empty()) {
            const auto due = _backlog.front();
            _backlog.pop_front();
            issue(due);
        }
        maybe_finish(now);
    }

    void record(std::uint64_t intended_ns, std::uint32_t lag_us, std::size_t index, std::uint64_t now,
                const http::exchange_result& r) {
        sample s;
        s.intended_s = static_cast<double>(intended_ns - _window_open_ns) / 1e9;
        s.latency_us = static_cast<std::uint32_t>(std::min<std::uint64_t>((now - intended_ns) / 1000, UINT32_MAX));
        s.kind_index = static_cast<std::uint8_t>(index);
        s.status = static_cast<std::uint16_t>(r.ok() ? r.response.status : 0);
        if (!r.ok()) {
            s.result = outcome::transport_error;
        } else if (r.response.status != 200) {
            s.result = outcome::http_error;
        } else {
            bool valid = false;
            s.result = !scan_decision(r.response.body, valid) ? outcome::http_error
                       : valid                                ? outcome::valid
                                                              : outcome::invalid;
            if (_config.profile) {
                profile_record p;
                // The engine-added figure starts when the request was sent, not when it was due.
                if (parse_profile(r.response.body, s.latency_us - std::min(s.latency_us, lag_us), p)) {
                    for (const auto& h : r.response.headers) {
                        if (h.name.size() == 13 && strcasecmp(h.name.c_str(), "Server-Timing") == 0) {
                            p.audit_us = server_timing_audit_us(h.value);
                        }
                    }
                    _result.profiles.push_back(std::move(p));
                }
            }
        }
        ++_result.statuses[s.status];
        _window_latencies_last_second.push_back(s.latency_us);
        _result.samples.push_back(s);
    }

    /// Open loop: a non-blocking timerfd on CLOCK_MONOTONIC (the clock of uv_hrtime), watched by the loop.
    void start_schedule() {
        _timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (_timer_fd < 0) {
            std::perror("mpic-bench: timerfd_create");
            std::exit(2);
        }
        uv_poll_init(&_loop, &_schedule, _timer_fd);
        _schedule.data = this;
        uv_poll_start(&_schedule, UV_READABLE, [](uv_poll_t* h, int, int) {
            auto* self = static_cast<load_run*>(h->data);
            std::uint64_t expirations = 0;
            [[maybe_unused]] auto n = ::read(self->_timer_fd, &expirations, sizeof expirations);
            self->on_tick();
        });
        _schedule_started = true;
        on_tick(); // the first request is due at the start
    }

    /// Arms the timerfd for an absolute CLOCK_MONOTONIC time; 0 disarms it.
    void arm_schedule(std::uint64_t at_ns) {
        itimerspec spec{};
        if (at_ns != 0) {
            spec.it_value.tv_sec = static_cast<time_t>(at_ns / 1'000'000'000);
            spec.it_value.tv_nsec = static_cast<long>(at_ns % 1'000'000'000);
        }
        ::timerfd_settime(_timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    void on_tick() {
        const std::uint64_t now = uv_hrtime();
        const auto interval = static_cast<std::uint64_t>(1e9 / _config.rate);
        while (_next_ns <= now && _next_ns < _window_end_ns) {
            if (_outstanding < _config.concurrency) {
                issue(_next_ns);
            } else {
                _backlog.push_back(_next_ns);
                _result.max_backlog = std::max(_result.max_backlog, _backlog.size());
            }
            _next_ns += interval;
        }
        if (_next_ns >= _window_end_ns) {
            arm_schedule(0);
            uv_poll_stop(&_schedule);
            maybe_finish(now);
        } else {
            arm_schedule(_next_ns);
        }
    }

    void on_window_open() {
        if (_hooks.window_opened) {
            _hooks.window_opened();
        }
        // From here the edge timer is the drain deadline.
        uv_timer_start(
            &_edge, [](uv_timer_t* t) { static_cast<load_run*>(t->data)->on_drain_deadline(); },
            to_ms(_window_end_ns - _window_open_ns) + static_cast<std::uint64_t>(_config.drain_timeout_s * 1000), 0);
    }

    void on_drain_deadline() { finish(); }

    void interrupt() {
        _result.interrupted = true;
        finish();
    }

    void maybe_finish(std::uint64_t now) {
        const bool issuing_done =
            _config.mode == load_mode::closed ? now >= _window_end_ns : _next_ns >= _window_end_ns && _backlog.empty();
        if (issuing_done && _outstanding == 0 && !_finishing) {
            // Deferred to the next loop iteration: we may be inside one of the client's completions here, and
            // finish() closes and destroys that client.
            uv_timer_start(
                &_edge, [](uv_timer_t* t) { static_cast<load_run*>(t->data)->finish(); }, 0, 0);
        }
    }

    void finish() {
        if (_finishing) {
            return;
        }
        _finishing = true;
        if (_hooks.window_closed) {
            _hooks.window_closed();
        }
        const auto end = _last_window_done_ns != 0 ? _last_window_done_ns : uv_hrtime();
        _result.window_s = static_cast<double>(end - _window_open_ns) / 1e9;
        _backlog.clear();
        _connections_opened = _client->connections_opened();
        // Cancels whatever is still outstanding (drain deadline); their completions run inside close().
        _client->close();
        _client.reset();
        for (uv_timer_t* t : {&_edge, &_progress}) {
            uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
        }
        if (_schedule_started) {
            // The descriptor is closed once libuv has let go of it.
            uv_close(reinterpret_cast<uv_handle_t*>(&_schedule), [](uv_handle_t* h) {
                auto* self = static_cast<load_run*>(h->data);
                ::close(self->_timer_fd);
                self->_timer_fd = -1;
            });
        }
        for (uv_signal_t* sig : {&_sigint, &_sigterm}) {
            uv_close(reinterpret_cast<uv_handle_t*>(sig), nullptr);
        }
    }

    void on_progress() {
        const double elapsed = static_cast<double>(uv_hrtime() - _start_ns) / 1e9;
        auto& last = _window_latencies_last_second;
        double p99 = 0;
        if (!last.empty()) {
            std::sort(last.begin(), last.end());
            p99 = last[std::min(last.size() - 1, last.size() * 99 / 100)];
        }
        const std::uint64_t per_s = _completed - _completed_at_last_progress;
        _completed_at_last_progress = _completed;
        std::size_t errors = 0;
        for (const auto& [status, n] : _result.statuses) {
            errors += status == 200 ? 0 : n;
        }
        std::fprintf(stderr, "\r\033[K[%5.1fs %s] %llu/s  in flight %zu  backlog %zu  p99(1s) %.2f ms  errors %zu",
                     elapsed, elapsed < _config.warmup_s ? "warm-up" : "measure",
                     static_cast<unsigned long long>(per_s), _outstanding, _backlog.size(), p99 / 1000.0, errors);
        last.clear();
    }

    const load_config& _config;
    const request_mix& _mix;
    const load_hooks& _hooks;
    std::mt19937_64 _rng;
    uv_loop_t _loop{};
    uv_poll_t _schedule{}; ///< open loop: the timerfd of the next due send
    int _timer_fd = -1;
    bool _schedule_started = false;
    uv_timer_t _edge{};
    uv_timer_t _progress{};
    uv_signal_t _sigint{};
    uv_signal_t _sigterm{};
    std::unique_ptr<http::client> _client;
    http::request _base;
    std::vector<http::request> _prepared;
    std::deque<std::uint64_t> _backlog;
    std::uint64_t _start_ns = 0, _window_open_ns = 0, _window_end_ns = 0, _next_ns = 0, _last_window_done_ns = 0;
    std::size_t _outstanding = 0;
    std::uint64_t _sent = 0, _completed = 0, _completed_at_last_progress = 0, _connections_opened = 0;
    std::vector<std::uint32_t> _window_latencies_last_second;
    bool _finishing = false;
    load_result _result;
};

} // namespace

load_result run_load(const load_config& config, const request_mix& mix, const load_hooks& hooks) {
    load_run run(config, mix, hooks);
    return run.run();
}

} // namespace mpic::bench
