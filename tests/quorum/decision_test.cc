// quorum/decision: the standards §6 Q-rows, early firing (success, count impossibility, RIR impossibility),
// primary semantics, Open MPIC mode, deadlines, and agreement of the state machine with the pure evaluate().

#include <random>

#include <gtest/gtest.h>

#include "tests/quorum/fixtures.hh"

namespace mpic::quorum {
namespace {

using test::br_config;
using test::fail;
using test::incomplete;
using test::pass;

/// A decision with a callback counter.
struct harness {
    int fired = 0;
    quorum_outcome last;
    std::unique_ptr<quorum_decision> decision;

    explicit harness(decision_config config) {
        auto created = quorum_decision::create(std::move(config), [this](const quorum_outcome& o) {
            ++fired;
            last = o;
        });
        EXPECT_TRUE(created.has_value());
        decision = std::move(created.value());
    }
    quorum_decision* operator->() { return decision.get(); }
};

constexpr auto primary_mode = corroboration_mode::primary_decides;
constexpr auto open_mpic = corroboration_mode::all_remote;

// Q1: 3 remotes (ARIN, RIPE, APNIC) all corroborate → P, "3/3".
TEST(QuorumDecision, Q1_ThreeRemotesAllCorroborate) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    EXPECT_EQ(h->report_primary(pass()), report_effect::counted);
    EXPECT_EQ(h->report_remote(0, pass()), report_effect::counted);
    EXPECT_EQ(h->report_remote(1, pass()), report_effect::decided); // 2 of 3 in 2 RIRs: quorum reached early
    EXPECT_EQ(h->report_remote(2, pass()), report_effect::late);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::valid);
    EXPECT_EQ(h.last.quorum_result, "2/3"); // decided before the third answered
    // With every answer in before the decision the log says 3/3:
    std::vector<report_state> all{report_state::passed, report_state::passed, report_state::passed};
    const quorum_outcome full = evaluate(br_config({rir::arin, rir::ripe, rir::apnic}), primary_state::passed, all);
    EXPECT_EQ(full.decision, verdict::valid);
    EXPECT_EQ(full.quorum_result, "3/3");
    EXPECT_TRUE(full.mpic_completed);
}

// Q2: 3 remotes, 2 corroborate (ARIN, RIPE), 1 fails → P "2/3".
TEST(QuorumDecision, Q2_TwoOfThreeCorroborate) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_primary(pass());
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::counted);
    EXPECT_EQ(h->report_remote(0, pass()), report_effect::counted);
    EXPECT_EQ(h->report_remote(1, pass()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::valid);
    EXPECT_TRUE(h.last.is_valid);
    EXPECT_EQ(h.last.quorum_result, "2/3");
    EXPECT_EQ(h.last.passed_perspectives, (std::vector<std::string>{"r0", "r1"}));
    EXPECT_EQ(h.last.failed_perspectives, (std::vector<std::string>{"r2"}));
    EXPECT_EQ(h.last.passed_rirs, (std::vector<rir>{rir::arin, rir::ripe}));
}

// Q3: 3 remotes, only 1 corroborates → F (decided at the second failure).
TEST(QuorumDecision, Q3_OnlyOneOfThreeCorroborates) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_primary(pass());
    EXPECT_EQ(h->report_remote(0, pass()), report_effect::counted);
    EXPECT_EQ(h->report_remote(1, fail()), report_effect::counted);
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::quorum_unreachable);
    EXPECT_EQ(h.last.quorum_result, "1/3");
}

// Q6: 6 remotes, 4 pass (2 RIRs), 2 fail → P.
TEST(QuorumDecision, Q6_SixRemotesFourPassTwoFail) {
    harness h(br_config({rir::arin, rir::arin, rir::ripe, rir::ripe, rir::apnic, rir::apnic}));
    h->report_primary(pass());
    h->report_remote(4, fail());
    h->report_remote(5, fail());
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    h->report_remote(2, pass());
    EXPECT_EQ(h.fired, 0);
    EXPECT_EQ(h->report_remote(3, pass()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::valid);
    EXPECT_EQ(h.last.quorum_result, "4/6");
}

// Q7: 6 remotes, 3 pass, 3 fail → F.
TEST(QuorumDecision, Q7_SixRemotesThreePassThreeFail) {
    harness h(br_config({rir::arin, rir::arin, rir::ripe, rir::ripe, rir::apnic, rir::apnic}));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(2, pass());
    h->report_remote(4, pass());
    h->report_remote(1, fail());
    h->report_remote(3, fail());
    EXPECT_EQ(h->report_remote(5, fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.quorum_result, "3/6");
}

// Q9: the Q3 failure (2 of 3 fail) on 2025-04-01 is allowed in the monitor-only window, and logged.
TEST(QuorumDecision, Q9_MonitorOnlyWindowAllowsFailedQuorum) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}, primary_mode, "2025-04-01"));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(1, fail());
    EXPECT_EQ(h.fired, 0); // monitoring waits for every answer so the log is complete
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::monitoring);
    EXPECT_TRUE(h.last.is_valid);
    EXPECT_FALSE(h.last.quorum_met);
    EXPECT_EQ(h.last.reason, decided_by::all_reported);
    EXPECT_EQ(h.last.quorum_result, "1/3");
    // From 2025-09-15 the same answers fail.
    std::vector<report_state> same{report_state::passed, report_state::failed, report_state::failed};
    EXPECT_EQ(
        evaluate(br_config({rir::arin, rir::ripe, rir::apnic}, primary_mode, "2025-09-15"), primary_state::passed, same)
            .decision,
        verdict::invalid);
}

// Q10: a remote timeout / unreachable remote counts as a non-corroboration.
TEST(QuorumDecision, Q10_TimeoutCountsAsNonCorroboration) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic, rir::lacnic}));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(1, incomplete()); // 1 allowed for 2–5
    h->report_remote(2, pass());
    EXPECT_EQ(h->report_remote(3, incomplete()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.failed, 2);
    EXPECT_FALSE(h.last.mpic_completed); // 2 not completed > 4 - 3
    EXPECT_EQ(h.last.perspectives[1].state, report_state::not_completed);
}

TEST(QuorumDecision, Q10_DeadlineTurnsPendingIntoFailures) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic, rir::lacnic, rir::afrinic}));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    h->report_remote(2, pass());
    EXPECT_EQ(h.fired, 0);
    EXPECT_TRUE(h->expire());
    EXPECT_FALSE(h->expire());
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::deadline);
    EXPECT_EQ(h.last.pending, 2);
    EXPECT_EQ(h.last.quorum_result, "3/5");
    EXPECT_EQ(h.last.failed_perspectives, (std::vector<std::string>{"r3", "r4"}));
    EXPECT_EQ(h->report_remote(3, pass()), report_effect::late);
    ASSERT_NE(h->stored_result(3), nullptr); // kept for the record
    EXPECT_EQ(h.last.perspectives[3].result, nullptr);
}

// Q11: the primary's DCV fails, remotes pass → F; remotes cannot overturn the primary's determination.
TEST(QuorumDecision, Q11_PrimaryFailureDecidesRegardlessOfRemotes) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_remote(0, pass());
    h->report_remote(1, pass()); // quorum reached, but the primary has not determined anything yet
    EXPECT_EQ(h.fired, 0);
    EXPECT_EQ(h->report_primary(fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::primary_failed);
    EXPECT_TRUE(h.last.quorum_met); // logged: the remotes did agree among themselves
    EXPECT_EQ(h.last.primary, primary_state::failed);
    ASSERT_NE(h.last.primary_result, nullptr);
    EXPECT_FALSE(h.last.primary_result->passed);
}

TEST(QuorumDecision, Q11_PrimaryFailureFailsEvenInMonitoringWindow) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}, primary_mode, "2025-04-01"));
    EXPECT_EQ(h->report_primary(fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
}

TEST(QuorumDecision, PrimaryPassAfterQuorumDecidesValid) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    EXPECT_FALSE(h->decided());
    EXPECT_EQ(h->outcome(), nullptr);
    EXPECT_EQ(h->report_primary(pass()), report_effect::decided);
    ASSERT_NE(h->outcome(), nullptr);
    EXPECT_EQ(h->outcome()->decision, verdict::valid);
    EXPECT_EQ(h->outcome()->primary, primary_state::passed);
}

TEST(QuorumDecision, PrimaryPendingAtDeadlineFails) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    h->report_remote(2, pass());
    EXPECT_TRUE(h->expire());
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::deadline);
    EXPECT_EQ(h.last.primary, primary_state::pending);
}

TEST(QuorumDecision, EarlyFailureBeforePrimaryAnswers) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    h->report_remote(0, fail());
    EXPECT_EQ(h->report_remote(1, incomplete()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::quorum_unreachable);
    EXPECT_EQ(h->report_primary(pass()), report_effect::late);
}

TEST(QuorumDecision, EarlyImpossibilityByRirDiversity) {
    // 3 remotes: ARIN, ARIN, RIPE. Once RIPE fails, the two ARIN ones could still give 2 passes but only 1 RIR.
    harness h(br_config({rir::arin, rir::arin, rir::ripe}));
    h->report_primary(pass());
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::decided);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.reason, decided_by::rir_unreachable);
    EXPECT_EQ(h.last.pending, 2);
}

TEST(QuorumDecision, RirRuleNotEnforcedBeforeMarch2026) {
    // Same answers on 2026-03-14: two ARIN passes are a quorum (no RIR sentence yet).
    harness h(br_config({rir::arin, rir::arin, rir::ripe}, primary_mode, "2026-03-14"));
    h->report_primary(pass());
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::counted);
    h->report_remote(0, pass());
    EXPECT_EQ(h->report_remote(1, pass()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::valid);
}

TEST(QuorumDecision, SingleRirPassesNeverSatisfyRirRule) {
    harness h(br_config({rir::arin, rir::arin, rir::arin, rir::ripe}));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    EXPECT_EQ(h->report_remote(2, pass()), report_effect::counted); // 3 >= 3 passes but one RIR
    EXPECT_EQ(h->report_remote(3, pass()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::valid);
    EXPECT_EQ(h.last.passed_rirs.size(), 2u);
}

TEST(QuorumDecision, StrictTableNeedsAllOfThree) {
    policy_config strict;
    strict.table = quorum_table::strict;
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}, primary_mode, "2027-01-01", strict));
    h->report_primary(pass());
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    EXPECT_EQ(h.fired, 0);
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::invalid);
}

TEST(QuorumDecision, OpenMpicModeHasNoPrimary) {
    decision_config c = br_config({rir::arin, rir::ripe, rir::apnic}, open_mpic);
    harness h(c);
    EXPECT_EQ(h->report_primary(pass()), report_effect::rejected);
    h->report_remote(0, pass());
    EXPECT_EQ(h->report_remote(1, pass()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::valid);
    EXPECT_EQ(h.last.primary, primary_state::absent);
    EXPECT_EQ(h.last.mode, open_mpic);
}

TEST(QuorumDecision, OpenMpicQuorumFromRequest) {
    // api.md: is_valid = passed >= quorum_count and, with > 2 perspectives, >= 2 RIRs among the passing ones.
    orchestration_request req;
    req.perspective_count = 4;
    req.quorum_count = 4;
    orchestration_limits lim;
    lim.configured_perspectives = 6;
    lim.default_perspective_count = 4;
    const auto v = validate_orchestration(req, lim, test::d("2026-07-01"), {}); // 4 remotes required from 2026-06-15
    ASSERT_TRUE(v.ok());
    decision_config c;
    c.rule = v.effective.rule;
    c.mode = open_mpic;
    c.remotes = test::slots({rir::arin, rir::ripe, rir::apnic, rir::arin});
    harness h(c);
    h->report_remote(0, pass());
    h->report_remote(1, pass());
    h->report_remote(2, pass());
    EXPECT_EQ(h->report_remote(3, fail()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_TRUE(h.last.mpic_completed); // everyone completed
}

TEST(QuorumDecision, OpenMpicTwoPerspectivesNoRirRuleBeforeMarch2026) {
    orchestration_request req;
    req.perspective_count = 2;
    orchestration_limits lim;
    lim.configured_perspectives = 4;
    lim.default_perspective_count = 2;
    const auto v = validate_orchestration(req, lim, test::d("2025-10-01"), {});
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v.effective.rule.rir_rule);
    decision_config c;
    c.rule = v.effective.rule;
    c.mode = open_mpic;
    c.remotes = test::slots({rir::arin, rir::arin});
    harness h(c);
    EXPECT_EQ(h->report_remote(1, pass()), report_effect::decided); // 1 of 2 (BR: 1 allowed)
    EXPECT_EQ(h.last.decision, verdict::valid);
}

TEST(QuorumDecision, OpenMpicMonitoringModeQuorumZero) {
    orchestration_request req;
    req.quorum_count = 0;
    orchestration_limits lim;
    lim.configured_perspectives = 3;
    lim.default_perspective_count = 3;
    const auto v = validate_orchestration(req, lim, test::d("2027-01-01"), {});
    ASSERT_TRUE(v.ok());
    decision_config c;
    c.rule = v.effective.rule;
    c.mode = open_mpic;
    c.remotes = test::slots({rir::arin, rir::ripe, rir::apnic});
    harness h(c);
    h->report_remote(0, fail());
    h->report_remote(1, fail());
    EXPECT_EQ(h->report_remote(2, fail()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::monitoring);
    EXPECT_TRUE(h.last.is_valid);
    EXPECT_EQ(h.last.quorum_result, "0/3");
}

TEST(QuorumDecision, DuplicateAndBadReportsIgnored) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic, rir::lacnic}));
    EXPECT_EQ(h->report_remote(0, fail()), report_effect::counted);
    EXPECT_EQ(h->report_remote(0, pass()), report_effect::duplicate); // cannot flip a result
    EXPECT_EQ(h->report_remote(4, pass()), report_effect::rejected);
    EXPECT_EQ(h->report_remote(SIZE_MAX, pass()), report_effect::rejected);
    EXPECT_EQ(h->report_primary(pass()), report_effect::counted);
    EXPECT_EQ(h->report_primary(fail()), report_effect::duplicate);
    EXPECT_FALSE(h->stored_result(0)->passed);
    EXPECT_EQ(h->stored_result(1), nullptr);
    EXPECT_EQ(h->stored_result(99), nullptr);
    EXPECT_EQ(h->index_of("r2"), 2u);
    EXPECT_FALSE(h->index_of("nope").has_value());
}

TEST(QuorumDecision, PassedWithoutCompletedIsNotACorroboration) {
    harness h(br_config({rir::arin, rir::ripe, rir::apnic}));
    validators::check_result odd;
    odd.passed = true; // violates check.hh's invariant; must not count as an affirmative observation
    h->report_primary(pass());
    h->report_remote(0, odd);
    EXPECT_EQ(h->report_remote(1, fail()), report_effect::decided);
    EXPECT_EQ(h.last.decision, verdict::invalid);
    EXPECT_EQ(h.last.perspectives[0].state, report_state::not_completed);
}

TEST(QuorumDecision, CreateRejectsInconsistentConfigs) {
    decision_config c = br_config({rir::arin, rir::ripe, rir::apnic});
    c.rule.perspective_count = 4;
    EXPECT_EQ(quorum_decision::create(c).error(), make_error_code(errc::invalid_argument));
    c = br_config({rir::arin, rir::ripe, rir::apnic});
    c.rule.required = 4;
    EXPECT_EQ(quorum_decision::create(c).error(), make_error_code(errc::invalid_argument));
    c.rule.required = -1;
    EXPECT_EQ(quorum_decision::create(c).error(), make_error_code(errc::invalid_argument));
    std::vector<rir> many(64, rir::arin);
    many.push_back(rir::ripe);
    EXPECT_EQ(quorum_decision::create(br_config(many)).error(), make_error_code(errc::limit_exceeded));
    std::vector<rir> too_many;
    for (int i = 0; i < 121; ++i) {
        too_many.push_back(static_cast<rir>(i % rir_count));
    }
    EXPECT_EQ(quorum_decision::create(br_config(too_many)).error(), make_error_code(errc::limit_exceeded));
    std::vector<rir> max;
    for (int i = 0; i < quorum_decision::max_remotes; ++i) {
        max.push_back(static_cast<rir>(i % rir_count));
    }
    EXPECT_TRUE(quorum_decision::create(br_config(max)).has_value());
}

TEST(QuorumDecision, LargeSetCountsCorrectly) {
    std::vector<rir> regions;
    for (int i = 0; i < quorum_decision::max_remotes; ++i) {
        regions.push_back(static_cast<rir>(i % rir_count));
    }
    harness h(br_config(regions, open_mpic));
    for (std::size_t i = 0; i < 117; ++i) {
        EXPECT_EQ(h->report_remote(i, pass()), report_effect::counted) << i;
    }
    EXPECT_EQ(h.fired, 0);
    EXPECT_EQ(h->report_remote(117, pass()), report_effect::decided);
    EXPECT_EQ(h->report_remote(118, fail()), report_effect::late);
    ASSERT_EQ(h.fired, 1);
    EXPECT_EQ(h.last.passed, 118); // required = 120 - 2
    EXPECT_EQ(h.last.quorum_result, "118/120");
}

// The state machine and the pure rule agree on every assignment, whatever the arrival order.
TEST(QuorumDecision, StateMachineAgreesWithEvaluate) {
    std::mt19937 rng(12345);
    const report_state kinds[] = {report_state::passed, report_state::failed, report_state::not_completed};
    for (int n = 0; n <= 7; ++n) {
        for (int trial = 0; trial < 300; ++trial) {
            std::vector<rir> regions;
            std::vector<report_state> states;
            for (int i = 0; i < n; ++i) {
                regions.push_back(static_cast<rir>(rng() % 3));
                states.push_back(kinds[rng() % 3]);
            }
            const auto mode = (trial % 2) ? primary_mode : open_mpic;
            const char* date = (trial % 3 == 0) ? "2025-04-01" : "2027-01-01";
            const primary_state primary = mode == open_mpic  ? primary_state::absent
                                          : (rng() % 4 == 0) ? primary_state::failed
                                                             : primary_state::passed;
            decision_config c = br_config(regions, mode, date);
            const quorum_outcome expected = evaluate(c, primary, states);
            harness h(c);
            std::vector<std::size_t> order(static_cast<std::size_t>(n) + 1);
            for (std::size_t i = 0; i < order.size(); ++i) {
                order[i] = i;
            }
            std::shuffle(order.begin(), order.end(), rng);
            auto result_of = [](report_state s) {
                return s == report_state::passed ? pass() : s == report_state::failed ? fail() : incomplete();
            };
            for (std::size_t i : order) {
                if (i == static_cast<std::size_t>(n)) {
                    if (mode == primary_mode) {
                        h->report_primary(primary == primary_state::passed ? pass() : fail());
                    }
                } else {
                    h->report_remote(i, result_of(states[i]));
                }
            }
            h->expire(); // no-op if decided; n == 0 in monitoring needs it
            ASSERT_EQ(h.fired, 1);
            EXPECT_EQ(h.last.decision, expected.decision) << "n=" << n << " trial=" << trial;
            if (expected.decision == verdict::monitoring) {
                EXPECT_EQ(h.last.quorum_met, expected.quorum_met);
                EXPECT_EQ(h.last.quorum_result, expected.quorum_result);
            }
        }
    }
}

} // namespace
} // namespace mpic::quorum
