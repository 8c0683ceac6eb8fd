// The decision table for n = 2..8 remotes and k failing, proved against the closed form of BR §3.2.2.9 and printed
// (ctest --output-on-failure -V shows it) for the attack simulations.

#include <iostream>

#include <gtest/gtest.h>

#include "tests/quorum/decision_table.hh"
#include "tests/quorum/fixtures.hh"

namespace mpic::quorum {
namespace {

TEST(QuorumDecisionTable, BrTableAfterPhaseIn) {
    const auto rows =
        test::decision_table(quorum_table::br, test::d("2027-01-01"), corroboration_mode::primary_decides);
    ASSERT_EQ(rows.size(), 42u); // sum over n = 2..8 of (n + 1)
    for (const test::decision_row& r : rows) {
        const int allowed = r.n <= 5 ? 1 : 2;
        // k <= allowed and at least two passing remotes (RIR rule: >= 2 RIRs among them).
        const bool valid = r.k <= allowed && r.n - r.k >= 2;
        EXPECT_EQ(r.decision, valid ? verdict::valid : verdict::invalid) << "n=" << r.n << " k=" << r.k;
        EXPECT_EQ(r.required, r.n - allowed);
        EXPECT_EQ(r.quorum_result, std::to_string(r.n - r.k) + "/" + std::to_string(r.n));
    }
    std::cout << "BR table, 2027-01-01, primary decides:\n" << test::format_decision_table(rows);
}

TEST(QuorumDecisionTable, StrictTable) {
    const auto rows =
        test::decision_table(quorum_table::strict, test::d("2027-01-01"), corroboration_mode::primary_decides);
    for (const test::decision_row& r : rows) {
        const int allowed = r.n <= 5 ? 0 : 2;
        EXPECT_EQ(r.decision, r.k <= allowed ? verdict::valid : verdict::invalid) << "n=" << r.n << " k=" << r.k;
    }
    std::cout << "strict table, 2027-01-01:\n" << test::format_decision_table(rows);
}

TEST(QuorumDecisionTable, TwoRemotesWithoutRirRuleBeforeMarch2026) {
    // n = 2, k = 1 on 2025-10-01: one passing remote is a quorum (no RIR sentence yet); from 2026-03-15 it is not.
    const auto before =
        test::decision_table(quorum_table::br, test::d("2025-10-01"), corroboration_mode::all_remote, 2, 2);
    ASSERT_EQ(before.size(), 3u);
    EXPECT_EQ(before[1].decision, verdict::valid);
    const auto after =
        test::decision_table(quorum_table::br, test::d("2026-03-15"), corroboration_mode::all_remote, 2, 2);
    EXPECT_EQ(after[1].decision, verdict::invalid);
}

TEST(QuorumDecisionTable, MonitorOnlyWindowNeverBlocks) {
    const auto rows =
        test::decision_table(quorum_table::br, test::d("2025-04-01"), corroboration_mode::primary_decides);
    for (const test::decision_row& r : rows) {
        EXPECT_EQ(r.decision, verdict::monitoring);
        EXPECT_EQ(r.quorum_met, r.k <= (r.n <= 5 ? 1 : 2)) << "n=" << r.n << " k=" << r.k;
    }
}

} // namespace
} // namespace mpic::quorum
