#include "quorum/policy.hh"

#include <algorithm>
#include <array>
#include <cstdio>

namespace mpic::quorum {

namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

constexpr civil_date ymd(int y, unsigned m, unsigned d) {
    return civil_date{year{y}, month{m}, day{d}};
}

// BR §3.2.2.9 "Phased Implementation Timeline" (BR.md 1261–1271) and BR-2.0.7 for the 2024-09-15 SHOULD row.
// The RIR sentence ("fall within the service regions of at least two (2) distinct Regional Internet Registries")
// enters with the 3-perspective row on 2026-03-15. Rows are inclusive from their first day: on 2026-12-15 itself
// five remote perspectives are required.
constexpr std::array<phase, 6> k_schedule{{
    {ymd(2024, 9, 15), 2, enforcement::recommended, false},
    {ymd(2025, 3, 15), 2, enforcement::monitor_only, false},
    {ymd(2025, 9, 15), 2, enforcement::enforced, false},
    {ymd(2026, 3, 15), 3, enforcement::enforced, true},
    {ymd(2026, 6, 15), 4, enforcement::enforced, true},
    {ymd(2026, 12, 15), 5, enforcement::enforced, true},
}};

bool parse_digits(std::string_view text, int& out) noexcept {
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    out = value;
    return !text.empty();
}

} // namespace

std::optional<civil_date> parse_civil_date(std::string_view text) noexcept {
    // Exactly YYYY-MM-DD: the shape RFC 3339 calls full-date. Anything looser invites ambiguity about which phase
    // is in force.
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    int m = 0;
    int d = 0;
    if (!parse_digits(text.substr(0, 4), y) || !parse_digits(text.substr(5, 2), m) ||
        !parse_digits(text.substr(8, 2), d)) {
        return std::nullopt;
    }
    civil_date date{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    return date;
}

civil_date civil_date_of(std::chrono::system_clock::time_point when) noexcept {
    return civil_date{std::chrono::floor<std::chrono::days>(when)};
}

std::string to_string(civil_date date) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return buffer;
}

std::string_view to_string(quorum_table table) noexcept {
    switch (table) {
    case quorum_table::br:
        return "br";
    case quorum_table::strict:
        return "strict";
    }
    return "br"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::optional<quorum_table> parse_quorum_table(std::string_view text) noexcept {
    if (text == "br") {
        return quorum_table::br;
    }
    if (text == "strict") {
        return quorum_table::strict;
    }
    return std::nullopt;
}

int max_allowed_non_corroborations(int remote_count, quorum_table table) noexcept {
    // BR §3.2.2.9 table (BR.md 1217–1222): "2-5 → 1, 6+ → 2"; below 2 the table has no row, and Boulder's
    // maxAllowedFailures returns 0 there (va/va.go 346–362). The strict table only changes the 2–5 row.
    if (remote_count < 2) {
        return 0;
    }
    if (remote_count < 6) {
        return table == quorum_table::strict ? 0 : 1;
    }
    return 2;
}

int required_corroborations(int remote_count, quorum_table table) noexcept {
    if (remote_count <= 0) {
        return 0;
    }
    return remote_count - max_allowed_non_corroborations(remote_count, table);
}

std::string_view to_string(enforcement mode) noexcept {
    switch (mode) {
    case enforcement::not_required:
        return "not-required";
    case enforcement::recommended:
        return "recommended";
    case enforcement::monitor_only:
        return "monitor-only";
    case enforcement::enforced:
        return "enforced";
    }
    return "enforced"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::span<const phase> phase_in_schedule() noexcept {
    return k_schedule;
}

phase phase_on(civil_date date) noexcept {
    phase in_force{ymd(1970, 1, 1), 0, enforcement::not_required, false};
    for (const phase& row : k_schedule) {
        if (row.effective <= date) {
            in_force = row;
        }
    }
    return in_force;
}

quorum_rule br_rule(int remote_count, civil_date date, const policy_config& config) {
    const phase in_force = phase_on(date);
    quorum_rule rule;
    rule.perspective_count = std::max(remote_count, 0);
    rule.required = required_corroborations(rule.perspective_count, config.table);
    rule.rir_rule = in_force.rir_rule;
    // Before 2025-09-15 a failed quorum does not stop issuance ("MAY proceed", BR.md 1263).
    rule.monitoring = in_force.mode != enforcement::enforced;
    // standards §7.6: under the development override every response says it is non-compliant.
    rule.compliant = !config.development_override;
    return rule;
}

std::string_view to_string(issue_type type) noexcept {
    switch (type) {
    case issue_type::invalid_perspective_count:
        return "invalid-perspective-count";
    case issue_type::invalid_quorum_count:
        return "invalid-quorum-count";
    case issue_type::invalid_max_attempts:
        return "invalid-max-attempts";
    case issue_type::invalid_cohort_for_single_attempt:
        return "invalid-cohort-for-single-attempt";
    case issue_type::invalid_deadline:
        return "invalid-deadline";
    }
    return "request-validation-failed"; // LCOV_EXCL_LINE: DefensiveCoding
}

orchestration_validation validate_orchestration(const orchestration_request& request,
                                                const orchestration_limits& limits, civil_date date,
                                                const policy_config& config) {
    orchestration_validation out;
    auto issue = [&out](issue_type type, std::string message) { out.issues.push_back({type, std::move(message)}); };
    const phase in_force = phase_on(date);

    // perspective_count: Open MPIC accepts 2 <= n <= configured. The BR phase minimum in force on the request's
    // date is a floor as well: a request cannot ask for fewer remotes than the BR requires (standards §7.6),
    // except under the development override, where every response is marked non-compliant instead.
    const int floor_by_phase = config.development_override ? 2 : std::max(2, in_force.min_remote_perspectives);
    std::int64_t n = limits.default_perspective_count;
    bool n_valid = true;
    if (request.perspective_count) {
        n = *request.perspective_count;
        if (n < floor_by_phase || n > limits.configured_perspectives) {
            n_valid = false;
            std::string why = "perspective_count " + std::to_string(n) + " is outside [" +
                              std::to_string(floor_by_phase) + ", " + std::to_string(limits.configured_perspectives) +
                              "]";
            if (n < floor_by_phase && n >= 2) {
                why += ": BR 3.2.2.9 requires at least " + std::to_string(in_force.min_remote_perspectives) +
                       " remote perspectives on " + to_string(date);
            } else if (n > limits.configured_perspectives) {
                why += ": only " + std::to_string(limits.configured_perspectives) + " perspectives are configured";
            }
            issue(issue_type::invalid_perspective_count, std::move(why));
        }
    }

    // quorum_count: api.md "validated always (also when perspective_count is absent)": n-1 <= q <= n for n <= 5,
    // n-2 <= q <= n for n >= 6 — i.e. the table in force may not be loosened. 0 = monitoring mode.
    std::int64_t q = n_valid ? required_corroborations(static_cast<int>(n), config.table) : 0;
    if (request.quorum_count) {
        q = *request.quorum_count;
        if (q == 0) {
            if (!config.allow_monitoring_requests) {
                issue(issue_type::invalid_quorum_count, "quorum_count 0 (monitoring mode) is disabled on this server");
            }
        } else if (n_valid) {
            const std::int64_t lowest = required_corroborations(static_cast<int>(n), config.table);
            if (q < lowest || q > n) {
                issue(issue_type::invalid_quorum_count,
                      "quorum_count " + std::to_string(q) + " is outside [" + std::to_string(lowest) + ", " +
                          std::to_string(n) + "] for " + std::to_string(n) + " perspectives (BR 3.2.2.9 " +
                          std::string(to_string(config.table)) + " table)");
            }
        } else if (q < 0) {
            issue(issue_type::invalid_quorum_count, "quorum_count " + std::to_string(q) + " is negative");
        }
    }

    int attempts = 1;
    if (request.max_attempts) {
        if (*request.max_attempts < 1) {
            issue(issue_type::invalid_max_attempts,
                  "max_attempts " + std::to_string(*request.max_attempts) + " must be at least 1");
        } else {
            attempts = static_cast<int>(std::min<std::int64_t>(*request.max_attempts, limits.global_max_attempts));
        }
    }

    std::optional<int> cohort;
    if (request.cohort_for_single_attempt) {
        const std::int64_t c = *request.cohort_for_single_attempt;
        if (c < 1 || (limits.cohort_count && c > *limits.cohort_count)) {
            std::string why = "cohort_for_single_attempt " + std::to_string(c) + " must be at least 1";
            if (limits.cohort_count) {
                why += " and at most " + std::to_string(*limits.cohort_count) + " (cohorts available)";
            }
            issue(issue_type::invalid_cohort_for_single_attempt, std::move(why));
        } else {
            cohort = static_cast<int>(c);
            attempts = 1; // Open MPIC: a pinned cohort means exactly one attempt
        }
    }

    if (request.deadline_ms && (*request.deadline_ms <= 0 || *request.deadline_ms > limits.max_deadline_ms)) {
        issue(issue_type::invalid_deadline, "deadline_ms " + std::to_string(*request.deadline_ms) + " is outside [1, " +
                                                std::to_string(limits.max_deadline_ms) + "]");
    }

    if (!out.ok()) {
        return out;
    }
    effective_orchestration& eff = out.effective;
    eff.perspective_count = static_cast<int>(n);
    eff.quorum_count = static_cast<int>(q);
    eff.max_attempts = attempts;
    eff.cohort_for_single_attempt = cohort;
    eff.deadline_ms = request.deadline_ms;
    eff.rule = br_rule(eff.perspective_count, date, config);
    eff.rule.required = eff.quorum_count;
    // api.md is_valid: "when more than 2 perspectives were used, the passing ones span at least 2 RIRs" — applied
    // regardless of date on the API path; from 2026-03-15 the BR requires it anyway.
    eff.rule.rir_rule = eff.rule.rir_rule || eff.perspective_count > 2;
    eff.rule.monitoring = eff.rule.monitoring || eff.quorum_count == 0;
    return out;
}

} // namespace mpic::quorum
