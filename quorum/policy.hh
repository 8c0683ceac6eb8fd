#pragma once
// The quorum policy of BR §3.2.2.9 as data: the table of allowed non-corroborations, the phase-in schedule as a
// function of the request's date, and the validation of a request's orchestration overrides (api.md). Pure
// functions, no I/O: everything here is decided from its arguments alone, so the tests can pin every row.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mpic::quorum {

/// A proleptic Gregorian calendar date in UTC. The phase-in of BR §3.2.2.9 is expressed in whole days, so the
/// policy in force is a function of the date only, never of the time of day.
using civil_date = std::chrono::year_month_day;

/// Parses "YYYY-MM-DD" (exactly that shape, a real calendar day). nullopt for anything else.
std::optional<civil_date> parse_civil_date(std::string_view text) noexcept;
/// The UTC calendar date of a point in time.
civil_date civil_date_of(std::chrono::system_clock::time_point when) noexcept;
/// "YYYY-MM-DD".
std::string to_string(civil_date date);

/// Which table of allowed non-corroborations is applied.
enum class quorum_table : std::uint8_t {
    br,     ///< BR §3.2.2.9 (BR.md 1217–1222): 2–5 remote → 1 allowed, 6+ → 2. The default.
    strict, ///< the seed article's table: 2–5 remote → 0 allowed (all must agree), 6+ → 2. Opt-in.
};
std::string_view to_string(quorum_table table) noexcept;
/// Parses "br" or "strict".
std::optional<quorum_table> parse_quorum_table(std::string_view text) noexcept;

/// Allowed non-corroborations for `remote_count` distinct remote perspectives attempted. n < 2 → 0.
/// Invariant: 0 <= result <= max(remote_count, 0).
int max_allowed_non_corroborations(int remote_count, quorum_table table = quorum_table::br) noexcept;
/// Corroborations needed: remote_count - max_allowed_non_corroborations (0 for remote_count <= 0).
int required_corroborations(int remote_count, quorum_table table = quorum_table::br) noexcept;

/// How the phase in force treats a failed quorum.
enum class enforcement : std::uint8_t {
    not_required, ///< before 2024-09-15: no MPIC sentence in force
    recommended,  ///< 2024-09-15 .. 2025-03-14: "SHOULD implement" (BR-2.0.7)
    monitor_only, ///< 2025-03-15 .. 2025-09-14: MUST implement, MAY proceed despite a failed quorum
    enforced,     ///< 2025-09-15 on: "MUST NOT proceed with issuance" when the quorum is not met
};
std::string_view to_string(enforcement mode) noexcept;

/// One row of the "Phased Implementation Timeline" (BR.md 1261–1271, standards §1.2).
struct phase {
    civil_date effective;        ///< first day the row is in force (inclusive, UTC)
    int min_remote_perspectives; ///< minimum distinct remote perspectives per attempt; 0 = none required
    enforcement mode;
    bool rir_rule; ///< corroborating remotes must span >= 2 distinct RIR service regions (from 2026-03-15)
};

/// The schedule, oldest row first. Invariant: strictly increasing `effective` dates.
std::span<const phase> phase_in_schedule() noexcept;
/// The row in force on `date`: the last row whose `effective` <= date (a synthetic "not_required" row before
/// the first). 2026-12-15 itself already requires 5.
phase phase_on(civil_date date) noexcept;

/// Operator configuration of the policy.
struct policy_config {
    quorum_table table = quorum_table::br;
    /// Development only: start even when the perspective set is below what the phase requires. Every response is
    /// then marked non-compliant (standards §7 decision 6).
    bool development_override = false;
    /// Accept quorum_count = 0 (Open MPIC "monitoring mode": always valid, results still reported).
    bool allow_monitoring_requests = true;
};

/// The quorum rule of one attempt, fully resolved. Invariant: 0 <= required <= perspective_count.
struct quorum_rule {
    int perspective_count = 0; ///< remote perspectives attempted (standards §7 decision 1)
    int required = 0;          ///< passes needed for quorum (the table, or the request's quorum_count)
    bool rir_rule = false;     ///< the passing remotes must span >= 2 RIRs
    bool monitoring = false;   ///< a failed quorum does not block (monitor-only phase, or quorum_count 0)
    bool compliant = true;     ///< false whenever the development override is on (standards §7.6)
};

/// The BR rule for `remote_count` perspectives under the phase in force on `date`. The RIR rule follows the
/// phase (from 2026-03-15); monitoring follows the phase (before 2025-09-15).
quorum_rule br_rule(int remote_count, civil_date date, const policy_config& config);

/// api.md issue types of a 400 "request-validation-failed".
enum class issue_type : std::uint8_t {
    invalid_perspective_count,         ///< "invalid-perspective-count"
    invalid_quorum_count,              ///< "invalid-quorum-count"
    invalid_max_attempts,              ///< "invalid-max-attempts" (ours: Open MPIC silently treats <= 0 as 1)
    invalid_cohort_for_single_attempt, ///< "invalid-cohort-for-single-attempt" (Open MPIC: a 500 instead)
    invalid_deadline,                  ///< "invalid-deadline" (our `deadline_ms` extension)
};
/// The API spelling of an issue type.
std::string_view to_string(issue_type type) noexcept;

/// One validation issue: a stable type and a human message naming the offending value and the rule.
struct validation_issue {
    issue_type type;
    std::string message;
};

/// `orchestration_parameters` as received (each absent field = nullopt). Values are as the client sent them,
/// including negative or absurd ones: validation is the job of validate_orchestration.
struct orchestration_request {
    std::optional<std::int64_t> perspective_count;
    std::optional<std::int64_t> quorum_count;
    std::optional<std::int64_t> max_attempts;
    std::optional<std::int64_t> cohort_for_single_attempt; ///< 1-based, as in Open MPIC
    std::optional<std::int64_t> deadline_ms;               ///< our extension
};

/// The deployment's limits that a request is validated against.
struct orchestration_limits {
    int configured_perspectives = 0;   ///< remote perspectives configured (usable in cohorts)
    int default_perspective_count = 0; ///< used when the request gives none
    int global_max_attempts = 1;       ///< cap on max_attempts (a larger request is capped, not refused)
    std::int64_t max_deadline_ms = 60'000;
    /// Number of cohorts of the effective size, when known (then cohort_for_single_attempt is range-checked).
    std::optional<int> cohort_count;
};

/// The orchestration actually used (api.md `actual_orchestration_parameters` plus the resolved rule).
struct effective_orchestration {
    int perspective_count = 0;
    int quorum_count = 0; ///< 0 = monitoring mode requested
    int max_attempts = 1;
    std::optional<int> cohort_for_single_attempt; ///< 1-based; forces max_attempts = 1
    std::optional<std::int64_t> deadline_ms;
    quorum_rule rule;
};

/// Result of validating a request: either issues (non-empty → HTTP 400) or the effective orchestration.
struct orchestration_validation {
    std::vector<validation_issue> issues;
    effective_orchestration effective; ///< meaningful only when issues is empty
    bool ok() const noexcept { return issues.empty(); }
};

/// Validates overrides exactly as api.md says: perspective_count in [max(2, phase minimum), configured]
/// (the phase minimum is waived under the development override); quorum_count 0 (monitoring, if allowed) or
/// n - max_allowed(n) <= q <= n with n the effective perspective count, checked also when perspective_count is
/// absent; max_attempts >= 1 (capped at the global cap); cohort_for_single_attempt >= 1 and <= cohort_count.
/// All issues are reported, not just the first.
orchestration_validation validate_orchestration(const orchestration_request& request,
                                                const orchestration_limits& limits, civil_date date,
                                                const policy_config& config);

} // namespace mpic::quorum
