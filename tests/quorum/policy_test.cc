// quorum/policy: the BR §3.2.2.9 table, the strict table, the phase-in on its boundary dates, and the validation
// of a request's orchestration overrides (api.md) with every issue type.

#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "quorum/decision.hh"
#include "quorum/policy.hh"

namespace mpic::quorum {
namespace {

civil_date d(const char* text) {
    const auto parsed = parse_civil_date(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(civil_date{});
}

bool has_issue(const orchestration_validation& v, issue_type type) {
    return std::any_of(v.issues.begin(), v.issues.end(), [&](const validation_issue& i) { return i.type == type; });
}

TEST(QuorumPolicy, BrTableMatchesBr32291) {
    // BR.md 1217–1222; Boulder maxAllowedFailures.
    EXPECT_EQ(max_allowed_non_corroborations(-1), 0);
    EXPECT_EQ(max_allowed_non_corroborations(0), 0);
    EXPECT_EQ(max_allowed_non_corroborations(1), 0);
    for (int n = 2; n <= 5; ++n) {
        EXPECT_EQ(max_allowed_non_corroborations(n), 1) << n;
        EXPECT_EQ(required_corroborations(n), n - 1) << n;
    }
    for (int n = 6; n <= 40; ++n) {
        EXPECT_EQ(max_allowed_non_corroborations(n), 2) << n;
        EXPECT_EQ(required_corroborations(n), n - 2) << n;
    }
    EXPECT_EQ(required_corroborations(0), 0);
    EXPECT_EQ(required_corroborations(1), 1);
}

TEST(QuorumPolicy, StrictTableRequiresAllForTwoToFive) {
    for (int n = 2; n <= 5; ++n) {
        EXPECT_EQ(max_allowed_non_corroborations(n, quorum_table::strict), 0) << n;
        EXPECT_EQ(required_corroborations(n, quorum_table::strict), n) << n;
    }
    EXPECT_EQ(max_allowed_non_corroborations(6, quorum_table::strict), 2);
    EXPECT_EQ(max_allowed_non_corroborations(1, quorum_table::strict), 0);
    EXPECT_EQ(parse_quorum_table("strict"), quorum_table::strict);
    EXPECT_EQ(parse_quorum_table("br"), quorum_table::br);
    EXPECT_FALSE(parse_quorum_table("BR").has_value());
    EXPECT_FALSE(parse_quorum_table("").has_value());
}

TEST(QuorumPolicy, CivilDateParsing) {
    EXPECT_EQ(to_string(d("2026-12-15")), "2026-12-15");
    EXPECT_EQ(to_string(d("2024-02-29")), "2024-02-29");
    for (const char* bad : {"2025-02-29", "2026-13-01", "2026-00-10", "2026-1-15", "2026/12/15", "2026-12-15T00:00", "",
                            "20261215", "2026-12-1x", "-026-12-15"}) {
        EXPECT_FALSE(parse_civil_date(bad).has_value()) << bad;
    }
    using namespace std::chrono;
    const sys_days day = sys_days{year{2026} / December / 15};
    EXPECT_EQ(civil_date_of(day + hours{23} + minutes{59}), civil_date{year{2026} / December / 15});
    EXPECT_EQ(civil_date_of(day - seconds{1}), civil_date{year{2026} / December / 14});
}

TEST(QuorumPolicy, PhaseInScheduleRows) {
    EXPECT_EQ(phase_on(d("2024-09-14")).mode, enforcement::not_required);
    EXPECT_EQ(phase_on(d("2024-09-14")).min_remote_perspectives, 0);
    EXPECT_EQ(phase_on(d("2024-09-15")).mode, enforcement::recommended);
    EXPECT_EQ(phase_on(d("2025-03-14")).mode, enforcement::recommended);
    EXPECT_EQ(phase_on(d("2025-03-15")).mode, enforcement::monitor_only);
    EXPECT_EQ(phase_on(d("2025-03-15")).min_remote_perspectives, 2);
    EXPECT_EQ(phase_on(d("2025-09-14")).mode, enforcement::monitor_only);
    EXPECT_EQ(phase_on(d("2025-09-15")).mode, enforcement::enforced);
    EXPECT_FALSE(phase_on(d("2026-03-14")).rir_rule);
    EXPECT_EQ(phase_on(d("2026-03-14")).min_remote_perspectives, 2);
    EXPECT_TRUE(phase_on(d("2026-03-15")).rir_rule);
    EXPECT_EQ(phase_on(d("2026-03-15")).min_remote_perspectives, 3);
    const auto schedule = phase_in_schedule();
    for (std::size_t i = 1; i < schedule.size(); ++i) {
        EXPECT_LT(schedule[i - 1].effective, schedule[i].effective);
    }
}

TEST(QuorumPolicy, PhaseInBoundaryJune2026) {
    EXPECT_EQ(phase_on(d("2026-06-14")).min_remote_perspectives, 3);
    EXPECT_EQ(phase_on(d("2026-06-15")).min_remote_perspectives, 4);
    EXPECT_TRUE(phase_on(d("2026-06-15")).rir_rule);
}

TEST(QuorumPolicy, PhaseInBoundaryDecember2026) {
    EXPECT_EQ(phase_on(d("2026-12-14")).min_remote_perspectives, 4);
    EXPECT_EQ(phase_on(d("2026-12-15")).min_remote_perspectives, 5); // the day itself already requires 5
    EXPECT_EQ(phase_on(d("2026-12-16")).min_remote_perspectives, 5);
    EXPECT_EQ(phase_on(d("2031-01-01")).min_remote_perspectives, 5);
    EXPECT_EQ(phase_on(d("2026-12-15")).mode, enforcement::enforced);
}

TEST(QuorumPolicy, BrRuleFollowsPhase) {
    const policy_config br;
    const quorum_rule monitor = br_rule(3, d("2025-04-01"), br);
    EXPECT_TRUE(monitor.monitoring);
    EXPECT_FALSE(monitor.rir_rule);
    EXPECT_EQ(monitor.required, 2);
    const quorum_rule enforced = br_rule(6, d("2026-04-01"), br);
    EXPECT_FALSE(enforced.monitoring);
    EXPECT_TRUE(enforced.rir_rule);
    EXPECT_EQ(enforced.required, 4);
    EXPECT_TRUE(enforced.compliant);
    policy_config dev;
    dev.development_override = true;
    EXPECT_FALSE(br_rule(6, d("2026-04-01"), dev).compliant);
    policy_config strict;
    strict.table = quorum_table::strict;
    EXPECT_EQ(br_rule(5, d("2027-01-01"), strict).required, 5);
}

orchestration_limits limits(int configured = 8, int def = 5) {
    orchestration_limits l;
    l.configured_perspectives = configured;
    l.default_perspective_count = def;
    l.global_max_attempts = 3;
    l.cohort_count = 1;
    return l;
}

TEST(QuorumPolicy, OverrideDefaultsFollowTheTable) {
    const auto v = validate_orchestration({}, limits(8, 6), d("2027-01-01"), {});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.effective.perspective_count, 6);
    EXPECT_EQ(v.effective.quorum_count, 4);
    EXPECT_EQ(v.effective.max_attempts, 1);
    EXPECT_TRUE(v.effective.rule.rir_rule);
    EXPECT_FALSE(v.effective.rule.monitoring);
}

TEST(QuorumPolicy, QuorumCountRangeForFiveAndBelow) {
    // api.md: n-1 <= q <= n for n <= 5.
    for (int n = 2; n <= 5; ++n) {
        for (int q = -1; q <= n + 1; ++q) {
            orchestration_request r;
            r.perspective_count = n;
            r.quorum_count = q;
            const auto v = validate_orchestration(r, limits(8), d("2025-10-01"), {});
            const bool expect_ok = q == 0 || (q >= n - 1 && q <= n);
            EXPECT_EQ(v.ok(), expect_ok) << "n=" << n << " q=" << q;
            if (!expect_ok) {
                EXPECT_TRUE(has_issue(v, issue_type::invalid_quorum_count));
            }
        }
    }
}

TEST(QuorumPolicy, QuorumCountRangeForSixAndAbove) {
    for (int n = 6; n <= 8; ++n) {
        for (int q = 1; q <= n + 1; ++q) {
            orchestration_request r;
            r.perspective_count = n;
            r.quorum_count = q;
            const auto v = validate_orchestration(r, limits(8), d("2027-01-01"), {});
            EXPECT_EQ(v.ok(), q >= n - 2 && q <= n) << "n=" << n << " q=" << q;
        }
    }
}

TEST(QuorumPolicy, QuorumCountValidatedWithoutPerspectiveCount) {
    orchestration_request r;
    r.quorum_count = 3; // default n = 5 → [4, 5]
    const auto v = validate_orchestration(r, limits(8, 5), d("2027-01-01"), {});
    EXPECT_TRUE(has_issue(v, issue_type::invalid_quorum_count));
    EXPECT_NE(v.issues.at(0).message.find("[4, 5]"), std::string::npos) << v.issues.at(0).message;
    r.quorum_count = 6;
    EXPECT_TRUE(
        has_issue(validate_orchestration(r, limits(8, 5), d("2027-01-01"), {}), issue_type::invalid_quorum_count));
    r.quorum_count = 4;
    EXPECT_TRUE(validate_orchestration(r, limits(8, 5), d("2027-01-01"), {}).ok());
}

TEST(QuorumPolicy, QuorumZeroIsMonitoringMode) {
    orchestration_request r;
    r.quorum_count = 0;
    const auto v = validate_orchestration(r, limits(), d("2027-01-01"), {});
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.effective.rule.monitoring);
    EXPECT_EQ(v.effective.rule.required, 0);
    policy_config no_monitoring;
    no_monitoring.allow_monitoring_requests = false;
    EXPECT_TRUE(has_issue(validate_orchestration(r, limits(), d("2027-01-01"), no_monitoring),
                          issue_type::invalid_quorum_count));
}

TEST(QuorumPolicy, StrictTableNarrowsQuorumOverride) {
    policy_config strict;
    strict.table = quorum_table::strict;
    orchestration_request r;
    r.perspective_count = 5;
    r.quorum_count = 4;
    EXPECT_TRUE(
        has_issue(validate_orchestration(r, limits(), d("2027-01-01"), strict), issue_type::invalid_quorum_count));
    r.quorum_count = 5;
    EXPECT_TRUE(validate_orchestration(r, limits(), d("2027-01-01"), strict).ok());
}

TEST(QuorumPolicy, PerspectiveCountBounds) {
    orchestration_request r;
    const std::int64_t bad[] = {-3, 0, 1, 9, 1'000'000'000'000};
    for (std::int64_t n : bad) {
        r.perspective_count = n;
        const auto v = validate_orchestration(r, limits(8), d("2025-10-01"), {});
        EXPECT_TRUE(has_issue(v, issue_type::invalid_perspective_count)) << n;
    }
    r.perspective_count = 2;
    EXPECT_TRUE(validate_orchestration(r, limits(8), d("2025-10-01"), {}).ok());
    r.perspective_count = 8;
    EXPECT_TRUE(validate_orchestration(r, limits(8), d("2025-10-01"), {}).ok());
}

TEST(QuorumPolicy, PerspectiveCountBelowPhaseMinimumNamesRuleAndDate) {
    orchestration_request r;
    r.perspective_count = 4;
    const auto v = validate_orchestration(r, limits(8), d("2026-12-15"), {});
    ASSERT_TRUE(has_issue(v, issue_type::invalid_perspective_count));
    EXPECT_NE(v.issues[0].message.find("2026-12-15"), std::string::npos) << v.issues[0].message;
    EXPECT_NE(v.issues[0].message.find("3.2.2.9"), std::string::npos) << v.issues[0].message;
    EXPECT_TRUE(validate_orchestration(r, limits(8), d("2026-12-14"), {}).ok());
    policy_config dev;
    dev.development_override = true;
    const auto overridden = validate_orchestration(r, limits(8), d("2026-12-15"), dev);
    ASSERT_TRUE(overridden.ok());
    EXPECT_FALSE(overridden.effective.rule.compliant);
}

TEST(QuorumPolicy, MaxAttemptsValidatedAndCapped) {
    orchestration_request r;
    r.max_attempts = 0;
    EXPECT_TRUE(has_issue(validate_orchestration(r, limits(), d("2027-01-01"), {}), issue_type::invalid_max_attempts));
    r.max_attempts = -2;
    EXPECT_TRUE(has_issue(validate_orchestration(r, limits(), d("2027-01-01"), {}), issue_type::invalid_max_attempts));
    r.max_attempts = 99;
    const auto v = validate_orchestration(r, limits(), d("2027-01-01"), {});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.effective.max_attempts, 3);
}

TEST(QuorumPolicy, CohortForSingleAttempt) {
    orchestration_request r;
    r.max_attempts = 3;
    r.cohort_for_single_attempt = 1;
    auto v = validate_orchestration(r, limits(), d("2027-01-01"), {});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.effective.max_attempts, 1);
    EXPECT_EQ(v.effective.cohort_for_single_attempt, 1);
    for (std::int64_t c : {0, -1, 2}) {
        r.cohort_for_single_attempt = c;
        EXPECT_TRUE(has_issue(validate_orchestration(r, limits(), d("2027-01-01"), {}),
                              issue_type::invalid_cohort_for_single_attempt))
            << c;
    }
}

TEST(QuorumPolicy, DeadlineBounds) {
    orchestration_request r;
    for (std::int64_t ms : {0, -5, 60'001}) {
        r.deadline_ms = ms;
        EXPECT_TRUE(has_issue(validate_orchestration(r, limits(), d("2027-01-01"), {}), issue_type::invalid_deadline))
            << ms;
    }
    r.deadline_ms = 2'500;
    EXPECT_TRUE(validate_orchestration(r, limits(), d("2027-01-01"), {}).ok());
}

TEST(QuorumPolicy, AllIssuesReportedTogether) {
    orchestration_request r;
    r.perspective_count = 99;
    r.quorum_count = -1;
    r.max_attempts = 0;
    r.cohort_for_single_attempt = 0;
    r.deadline_ms = 0;
    const auto v = validate_orchestration(r, limits(), d("2027-01-01"), {});
    EXPECT_EQ(v.issues.size(), 5u);
    for (issue_type t :
         {issue_type::invalid_perspective_count, issue_type::invalid_quorum_count, issue_type::invalid_max_attempts,
          issue_type::invalid_cohort_for_single_attempt, issue_type::invalid_deadline}) {
        EXPECT_TRUE(has_issue(v, t)) << to_string(t);
    }
}

TEST(QuorumPolicy, IssueTypeSpellings) {
    EXPECT_EQ(to_string(issue_type::invalid_perspective_count), "invalid-perspective-count");
    EXPECT_EQ(to_string(issue_type::invalid_quorum_count), "invalid-quorum-count");
    EXPECT_EQ(to_string(issue_type::invalid_max_attempts), "invalid-max-attempts");
    EXPECT_EQ(to_string(issue_type::invalid_cohort_for_single_attempt), "invalid-cohort-for-single-attempt");
    EXPECT_EQ(to_string(issue_type::invalid_deadline), "invalid-deadline");
}

} // namespace
} // namespace mpic::quorum

namespace mpic::quorum {
namespace {

// Q8 at the request level: a request for 2 perspectives on 2026-04-01 is refused (3 required from 2026-03-15).
TEST(QuorumPolicy, Q8_RequestForTwoPerspectivesRefusedOn20260401) {
    orchestration_request r;
    r.perspective_count = 2;
    orchestration_limits l;
    l.configured_perspectives = 6;
    l.default_perspective_count = 3;
    const auto v = validate_orchestration(r, l, d("2026-04-01"), {});
    ASSERT_EQ(v.issues.size(), 1u);
    EXPECT_EQ(v.issues[0].type, issue_type::invalid_perspective_count);
    EXPECT_NE(v.issues[0].message.find("at least 3"), std::string::npos) << v.issues[0].message;
    EXPECT_TRUE(validate_orchestration(r, l, d("2026-03-14"), {}).ok());
}

// The pure rule on tallies: the RIR span still achievable counts only RIRs with a pending remote.
TEST(QuorumRule, DecideOnTallies) {
    const quorum_rule rule = br_rule(4, d("2027-01-01"), {}); // required 3, RIR rule
    tally t;
    t.primary = primary_state::passed;
    t.passed = 2;
    t.passed_rirs = 0b00001; // ARIN
    t.pending = 2;
    t.pending_rirs = 0b00001; // ARIN only: the span can never reach 2
    auto r = decide(rule, corroboration_mode::primary_decides, t);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->reason, decided_by::rir_unreachable);
    t.pending_rirs = 0b00010; // one RIPE pending: still open
    EXPECT_FALSE(decide(rule, corroboration_mode::primary_decides, t).has_value());
    t.deadline = true; // ... until the deadline
    r = decide(rule, corroboration_mode::primary_decides, t);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->decision, verdict::invalid);
    EXPECT_EQ(r->reason, decided_by::deadline);
}

} // namespace
} // namespace mpic::quorum
