#pragma once
// mpic-bench's output: the end-of-run table, the --json document, the --profile breakdown and waterfall, and the
// --plot SVG (plot.cc).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tools/mpic-bench/load_driver.hh"
#include "tools/mpic-bench/processes.hh"
#include "tools/mpic-bench/request_mix.hh"

namespace mpic::bench {

/// CPU used by one process (or a group) over the measurement window.
struct cpu_window {
    std::uint64_t cpu_us = 0;
    bool known = false;
};

/// Everything the outputs are made of.
struct run_report {
    load_config config;
    std::string mix;      ///< request_mix::describe()
    std::string scenario; ///< the lab scenario when mpic-bench started the setup, else ""
    load_result load;
    cpu_window daemon;                     ///< mpicd, utime + stime over the window
    cpu_window client;                     ///< mpic-bench itself
    cpu_window lab;                        ///< the lab's servers together (named, nginx, responders)
    std::optional<proc_sample> daemon_end; ///< RSS at the end
    /// mpicd's CPU over the window by thread name (reactors, audit-writer, ...), ns from schedstat.
    std::map<std::string, std::uint64_t> daemon_threads_ns;
    pid_t daemon_pid = -1;
};

/// Requests whose intended send time fell in the window.
std::size_t window_requests(const run_report& r) noexcept;
/// Decisions (valid + invalid) per second of window.
double decisions_per_second(const run_report& r) noexcept;

/// The human table (stdout).
std::string render_table(const run_report& r, const request_mix& mix);
/// The --profile section: median/p99 per phase, decided_after and engine-added latency, waterfall of the 5 slowest.
std::string render_profile(const run_report& r);
/// The --json document (one object; the schema is documented in docs/benchmarks.md).
std::string render_json(const run_report& r, const request_mix& mix);
/// The --plot SVG: latency over time (every request, log scale) and the percentile curve.
std::string render_svg(const run_report& r);

} // namespace mpic::bench
