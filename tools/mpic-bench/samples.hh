#pragma once
// What mpic-bench records per request, and the statistics over it: latency percentiles, outcomes, and (with
// --profile) the per-phase breakdown read from the responses' per-perspective `timings` (docs/api.md).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mpic::bench {

/// How one request ended, as the client saw it.
enum class outcome : std::uint8_t {
    valid,           ///< 200 with is_valid true
    invalid,         ///< 200 with is_valid false (a decision, not an error)
    http_error,      ///< any other status (429, 503, 400, ...)
    transport_error, ///< no response: connect/read failure or the client's deadline
};

/// One measured request. Latency runs from the *intended* send time (open loop: the schedule; closed loop: the
/// moment the previous request of that worker completed), so a stalled server shows in the tail instead of
/// silently lowering the send rate (coordinated omission).
struct sample {
    double intended_s = 0; ///< intended send time, seconds after the measurement window opened
    std::uint32_t latency_us = 0;
    std::uint16_t status = 0;    ///< HTTP status, 0 without a response
    std::uint8_t kind_index = 0; ///< index into the mix's entries
    bench::outcome result = outcome::transport_error;
};

/// The phases of one perspective check, in `timings` order.
inline constexpr std::array<std::string_view, 7> phase_names{"queue",      "dns",  "connect", "tls",
                                                             "first_byte", "body", "total"};

/// One perspective's answer within a profiled response.
struct perspective_timing {
    std::string code;
    std::string check;  ///< "caa" or "dcv" (a dcv_with_caa response has both)
    std::string result; ///< "pass" or the first error_type
    std::array<std::uint32_t, phase_names.size()> us{};
};

/// What --profile keeps of one response.
struct profile_record {
    std::uint32_t latency_us = 0;       ///< client-observed, from the moment the request was sent (not due)
    std::uint32_t decided_after_us = 0; ///< the response's decided_after_ms (the slowest of its checks)
    /// Client latency minus the network time the decision had to wait for: for each check, the quorum_count-th
    /// smallest total_us among the perspectives that answered (the answer that made the decision possible), the
    /// largest over the request's checks. What is left is the engine and the API: parsing, scheduling, the
    /// quorum logic, the audit record, rendering, and one loopback HTTP exchange.
    std::int64_t engine_added_us = 0;
    /// mpicd's `Server-Timing: audit;dur=` — how long the answer waited for its audit record to be durable (write +
    /// fdatasync on the audit disk); 0 when the header is absent (no audit log).
    std::uint32_t audit_us = 0;
    std::vector<perspective_timing> perspectives;
};

/// Reads a 200 response body: is_valid and decided_after_ms without a JSON parse (the first occurrence of each key
/// is the top-level one: nlohmann renders object keys sorted, and every nested object that carries them sorts
/// after them). Returns false when the body has no is_valid.
bool scan_decision(std::string_view body, bool& is_valid) noexcept;

/// Parses a 200 response body for --profile. `latency_us` runs from the actual send (the generator's own lag is
/// not the engine's). Returns false if it is not a response of the documented shape.
bool parse_profile(std::string_view body, std::uint32_t latency_us, profile_record& out);

/// Percentile over a sorted vector (nearest rank); 0 for an empty one. `p` in [0, 100].
double percentile_sorted(const std::vector<double>& sorted, double p) noexcept;

/// Latency summary of a set of samples, in microseconds.
struct latency_summary {
    std::size_t count = 0;
    double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};
/// Summarises latency over samples that got a decision (valid or invalid) when `decisions_only`, else over all.
latency_summary summarise(const std::vector<sample>& samples, bool decisions_only);

/// Median and p99 per phase over every non-cancelled perspective check of the profiled responses, plus
/// decided_after and engine-added latency per request.
struct profile_summary {
    std::size_t requests = 0;
    std::size_t checks = 0;
    std::array<double, phase_names.size()> median_us{};
    std::array<double, phase_names.size()> p99_us{};
    double decided_p50_us = 0, decided_p99_us = 0;
    double engine_added_p50_us = 0, engine_added_p99_us = 0, engine_added_p999_us = 0;
    /// engine_added_us − audit_us per request: the engine and the API without the audit disk's sync.
    double engine_only_p50_us = 0, engine_only_p99_us = 0, engine_only_p999_us = 0;
    double audit_p50_us = 0, audit_p99_us = 0; ///< the audit wait itself (0 without the header)
};

/// Reads the `audit;dur=<ms>` entry of a Server-Timing header value (RFC-style list of metrics); 0 if absent or
/// malformed.
std::uint32_t server_timing_audit_us(std::string_view header_value) noexcept;
profile_summary summarise_profile(const std::vector<profile_record>& records);

} // namespace mpic::bench
