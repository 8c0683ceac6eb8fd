#pragma once
// The load generator: one libuv loop and our own HTTP/1.1 client (net/http, kept-alive connections) sending
// `POST /mpic` to a running mpicd. Closed loop (N workers, each sends its next request when the previous one is
// answered) or open loop (a fixed arrival schedule; latency from the intended send time, so a slow server cannot
// hide its tail by slowing the generator down: no coordinated omission).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tools/mpic-bench/request_mix.hh"
#include "tools/mpic-bench/samples.hh"

namespace mpic::bench {

enum class load_mode : std::uint8_t { closed, open };

/// One run's parameters. Invariants (checked by the caller): port != 0; concurrency >= 1; open loop: rate > 0;
/// duration_s > 0; warmup_s >= 0.
struct load_config {
    std::string host = "127.0.0.1"; ///< an IP literal (mpicd listens on loopback in every bench setup)
    std::uint16_t port = 0;
    std::string token; ///< bearer secret; empty = no Authorization header
    load_mode mode = load_mode::closed;
    unsigned concurrency = 16;   ///< closed: workers; open: the most requests (and connections) outstanding
    double rate = 0;             ///< open loop: requests per second
    double warmup_s = 1;         ///< sent but not measured
    double duration_s = 5;       ///< the measurement window
    double drain_timeout_s = 30; ///< after the window, outstanding requests get this long, then are cancelled
    bool profile = false;        ///< keep each response's per-perspective timings (costs client CPU)
    bool progress = false;       ///< a live line on stderr, once a second
    std::uint64_t seed = 1;      ///< request-mix choice
};

/// What a run measured. Only requests whose intended send time falls in the window are kept.
struct load_result {
    std::vector<sample> samples;
    std::vector<profile_record> profiles;
    std::map<int, std::uint64_t> statuses; ///< HTTP status (0 = no response) → count, window only
    double window_s = 0;                   ///< window open → last window request answered
    std::uint64_t warmup_requests = 0;
    std::uint64_t cancelled_at_drain = 0; ///< still outstanding at the drain deadline
    std::uint64_t connections_opened = 0;
    std::size_t max_backlog = 0; ///< open loop: most requests waiting for a free slot at once
    /// Open loop, window requests: how long after its due time each request was handed to the HTTP client (µs).
    /// This lag is part of every measured latency but is the generator's, not the daemon's.
    std::vector<std::uint32_t> send_lag_us;
    bool interrupted = false; ///< SIGINT/SIGTERM ended the run early (outstanding requests cancelled)
};

/// Called on the loop thread at the window's edges, so the caller can sample the daemon's CPU counters.
struct load_hooks {
    std::function<void()> window_opened;
    std::function<void()> window_closed; ///< every window request answered (or cancelled at the drain deadline)
};

/// Runs the load on the calling thread (its own libuv loop, closed before returning).
load_result run_load(const load_config& config, const request_mix& mix, const load_hooks& hooks);

} // namespace mpic::bench
