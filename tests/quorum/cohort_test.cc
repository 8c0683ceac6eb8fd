// quorum/cohort: the selection seed, determinism per target, disjointness, two-RIR seeding, too-close exclusion,
// and retries moving to the next cohort.

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "quorum/cohort.hh"
#include "tests/quorum/fixtures.hh"

namespace mpic::quorum {
namespace {

namespace city = test::city;
using test::make_remote;

/// Twelve remotes in four RIRs, all pairwise >= 500 km apart.
std::vector<perspective_info> twelve() {
    return {make_remote("us-east", rir::arin, city::new_york),
            make_remote("us-chi", rir::arin, city::chicago),
            make_remote("us-west", rir::arin, city::los_angeles),
            make_remote("eu-lon", rir::ripe, city::london),
            make_remote("eu-fra", rir::ripe, city::frankfurt),
            make_remote("eu-sto", rir::ripe, city::stockholm),
            make_remote("ap-tokyo", rir::apnic, city::tokyo),
            make_remote("ap-syd", rir::apnic, city::sydney),
            make_remote("ap-sin", rir::apnic, city::singapore),
            make_remote("sa-sao", rir::lacnic, city::sao_paulo),
            make_remote("af-jnb", rir::afrinic, city::johannesburg),
            make_remote("us-sd", rir::arin, {32.7157, -117.1611})}; // San Diego: ~180 km from LA
}

std::string hex(const std::array<std::uint8_t, 32>& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

void expect_valid_plan(const cohort_plan& plan, std::span<const perspective_info> remotes,
                       const too_close_relation& rel, std::size_t size, bool two_rirs) {
    std::set<std::size_t> seen;
    for (const cohort& c : plan.cohorts) {
        EXPECT_EQ(c.size(), size);
        std::set<rir> rirs;
        for (std::size_t i = 0; i < c.size(); ++i) {
            EXPECT_TRUE(seen.insert(c[i]).second) << "perspective " << c[i] << " in two cohorts";
            rirs.insert(remotes[c[i]].region);
            for (std::size_t j = i + 1; j < c.size(); ++j) {
                EXPECT_FALSE(rel(c[i], c[j])) << remotes[c[i]].code << " / " << remotes[c[j]].code;
            }
        }
        if (two_rirs) {
            EXPECT_GE(rirs.size(), 2u);
        }
    }
}

TEST(QuorumCohort, SeedIsSha256OfSecretAndLowercasedTarget) {
    // sha256("abc") — FIPS 180-2 test vector — with secret "a" and target "BC".
    EXPECT_EQ(hex(selection_seed("a", "BC")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(selection_seed("s", "Example.COM"), selection_seed("s", "example.com"));
    EXPECT_NE(selection_seed("s", "example.com"), selection_seed("t", "example.com"));
    EXPECT_NE(selection_seed("s", "example.com"), selection_seed("s", "example.org"));
    // Only ASCII is folded: bytes >= 0x80 are left alone (targets are A-labels or IPs by then).
    EXPECT_NE(selection_seed("s", "\xc3\x89"), selection_seed("s", "\xc3\xa9"));
}

TEST(QuorumCohort, DeterministicPerTarget) {
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    const cohort_requirements req{3, true};
    const auto a = make_cohorts(remotes, rel, req, selection_seed("secret", "example.com"));
    const auto b = make_cohorts(remotes, rel, req, selection_seed("secret", "EXAMPLE.com"));
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a.cohorts, b.cohorts);
    // The configuration order does not matter (sorted by code before shuffling).
    auto reversed = remotes;
    std::reverse(reversed.begin(), reversed.end());
    const auto c = make_cohorts(reversed, too_close_relation(reversed), req, selection_seed("secret", "example.com"));
    ASSERT_EQ(c.cohorts.size(), a.cohorts.size());
    for (std::size_t k = 0; k < a.cohorts.size(); ++k) {
        for (std::size_t i = 0; i < a.cohorts[k].size(); ++i) {
            EXPECT_EQ(remotes[a.cohorts[k][i]].code, reversed[c.cohorts[k][i]].code);
        }
    }
}

TEST(QuorumCohort, DifferentTargetsGetDifferentCohorts) {
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    std::set<std::vector<std::size_t>> first_cohorts;
    for (int i = 0; i < 40; ++i) {
        const auto plan =
            make_cohorts(remotes, rel, {3, true}, selection_seed("secret", "host" + std::to_string(i) + ".example"));
        ASSERT_FALSE(plan.empty());
        auto sorted = plan.cohorts[0];
        std::sort(sorted.begin(), sorted.end());
        first_cohorts.insert(sorted);
    }
    EXPECT_GT(first_cohorts.size(), 10u); // not a fixed choice
}

TEST(QuorumCohort, DisjointTwoRirsAndNoTooClosePairs) {
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    ASSERT_TRUE(rel(2, 11)); // LA / San Diego
    for (std::size_t size = 2; size <= 6; ++size) {
        for (int t = 0; t < 50; ++t) {
            const auto plan =
                make_cohorts(remotes, rel, {size, true}, selection_seed("k", "t" + std::to_string(t) + ".example"));
            ASSERT_FALSE(plan.empty()) << size;
            EXPECT_LE(plan.cohorts.size(), remotes.size() / size);
            expect_valid_plan(plan, remotes, rel, size, true);
        }
    }
}

TEST(QuorumCohort, TooClosePairsExcludedEvenWhenItCostsACohort) {
    // Four remotes: two pairs that are each too close. Size 2 with two RIRs: {NY|Philadelphia} x {FRA|Munich}.
    std::vector<perspective_info> remotes{
        make_remote("a-ny", rir::arin, city::new_york), make_remote("b-phl", rir::arin, city::philadelphia),
        make_remote("c-fra", rir::ripe, city::frankfurt), make_remote("d-muc", rir::ripe, city::near_frankfurt_300km)};
    const too_close_relation rel(remotes);
    for (int t = 0; t < 30; ++t) {
        const auto plan = make_cohorts(remotes, rel, {2, true}, selection_seed("k", std::to_string(t)));
        ASSERT_EQ(plan.cohorts.size(), 2u);
        expect_valid_plan(plan, remotes, rel, 2, true);
        // Size 3 cannot be formed: any three contain a too-close pair.
        EXPECT_TRUE(make_cohorts(remotes, rel, {3, true}, selection_seed("k", std::to_string(t))).empty());
    }
}

TEST(QuorumCohort, SingleRirCannotFormTwoRirCohorts) {
    std::vector<perspective_info> remotes{make_remote("a", rir::arin, city::new_york),
                                          make_remote("b", rir::arin, city::chicago),
                                          make_remote("c", rir::arin, city::los_angeles)};
    const too_close_relation rel(remotes);
    EXPECT_TRUE(make_cohorts(remotes, rel, {3, true}, selection_seed("k", "x")).empty());
    EXPECT_TRUE(make_cohorts(remotes, rel, {2, true}, selection_seed("k", "x")).empty());
    const auto relaxed = make_cohorts(remotes, rel, {2, false}, selection_seed("k", "x"));
    ASSERT_EQ(relaxed.cohorts.size(), 1u);
    expect_valid_plan(relaxed, remotes, rel, 2, false);
}

TEST(QuorumCohort, BadSizesGiveEmptyPlans) {
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    EXPECT_TRUE(make_cohorts(remotes, rel, {0, true}, selection_seed("k", "x")).empty());
    EXPECT_TRUE(make_cohorts(remotes, rel, {1, true}, selection_seed("k", "x")).empty());
    EXPECT_TRUE(make_cohorts(remotes, rel, {13, true}, selection_seed("k", "x")).empty());
    EXPECT_TRUE(make_cohorts(remotes, too_close_relation{}, {3, true}, selection_seed("k", "x")).empty());
    EXPECT_TRUE(make_cohorts({}, too_close_relation{}, {3, true}, selection_seed("k", "x")).empty());
    // Exactly all perspectives in one cohort (minus one of LA / San Diego).
    const auto whole = make_cohorts(remotes, rel, {11, true}, selection_seed("k", "x"));
    ASSERT_EQ(whole.cohorts.size(), 1u);
    expect_valid_plan(whole, remotes, rel, 11, true);
}

TEST(QuorumCohort, RetriesMoveToTheNextCohortAndWrap) {
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    const auto plan = make_cohorts(remotes, rel, {3, true}, selection_seed("secret", "retry.example"));
    ASSERT_GE(plan.cohorts.size(), 2u);
    const std::size_t m = plan.cohorts.size();
    for (int attempt = 1; attempt <= static_cast<int>(2 * m + 1); ++attempt) {
        EXPECT_EQ(plan.for_attempt(attempt), plan.cohorts[static_cast<std::size_t>(attempt - 1) % m]) << attempt;
    }
    EXPECT_NE(plan.for_attempt(1), plan.for_attempt(2));
    EXPECT_EQ(plan.for_attempt(1), plan.for_attempt(static_cast<int>(m) + 1));
}

TEST(QuorumCohort, RetriesNeverReuseEarlierCorroborations) {
    // Each attempt is a fresh decision: the results of attempt 1 are not visible to attempt 2 (BR.md 1211).
    const auto remotes = twelve();
    const too_close_relation rel(remotes);
    const auto plan = make_cohorts(remotes, rel, {3, true}, selection_seed("secret", "retry.example"));
    ASSERT_GE(plan.cohorts.size(), 2u);
    auto config_for = [&](int attempt) {
        decision_config c;
        for (std::size_t idx : plan.for_attempt(attempt)) {
            c.remotes.push_back({remotes[idx].code, remotes[idx].region});
        }
        c.rule = br_rule(3, test::d("2027-01-01"), {});
        c.mode = corroboration_mode::all_remote;
        c.attempt = attempt;
        return c;
    };
    auto first = quorum_decision::create(config_for(1));
    ASSERT_TRUE(first.has_value());
    (*first)->report_remote(0, test::pass());
    (*first)->report_remote(1, test::fail());
    (*first)->report_remote(2, test::fail());
    ASSERT_NE((*first)->outcome(), nullptr);
    EXPECT_FALSE((*first)->outcome()->is_valid);
    auto second = quorum_decision::create(config_for(2));
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE((*second)->decided());
    (*second)->report_remote(0, test::pass());
    EXPECT_FALSE((*second)->decided()); // attempt 1's pass does not count here
    EXPECT_EQ((*second)->config().attempt, 2);
}

} // namespace
} // namespace mpic::quorum
