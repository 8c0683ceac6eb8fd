// quorum/perspective: RIR parsing, haversine distance, and the start-up check of a perspective set against the
// BR §3.2.2.9 geography rules (BR.md 1209, 1213) and the phase-in on a date (Q8, Q13, Q14).

#include <algorithm>
#include <limits>
#include <numbers>

#include <gtest/gtest.h>

#include "tests/quorum/fixtures.hh"

namespace mpic::quorum {
namespace {

namespace city = test::city;
using test::d;
using test::make_remote;

bool has_finding(const set_report& r, config_rule rule) {
    return std::any_of(r.findings.begin(), r.findings.end(), [&](const config_finding& f) { return f.rule == rule; });
}

TEST(QuorumPerspective, ParseRir) {
    EXPECT_EQ(parse_rir("ARIN"), rir::arin);
    EXPECT_EQ(parse_rir("arin"), rir::arin);
    EXPECT_EQ(parse_rir("RIPE"), rir::ripe);
    EXPECT_EQ(parse_rir("RIPE NCC"), rir::ripe);
    EXPECT_EQ(parse_rir("ripe_ncc"), rir::ripe);
    EXPECT_EQ(parse_rir("APNIC"), rir::apnic);
    EXPECT_EQ(parse_rir("LACNIC"), rir::lacnic);
    EXPECT_EQ(parse_rir("AfriNIC"), rir::afrinic);
    for (const char* bad : {"", "RIPE  NCC", "IANA", "ARIN ", "AR", "APNIC\n"}) {
        EXPECT_FALSE(parse_rir(bad).has_value()) << bad;
    }
    for (int r = 0; r < rir_count; ++r) {
        EXPECT_EQ(parse_rir(to_string(static_cast<rir>(r))), static_cast<rir>(r));
    }
}

TEST(QuorumPerspective, HaversineKnownDistances) {
    EXPECT_DOUBLE_EQ(great_circle_km(city::frankfurt, city::frankfurt), 0.0);
    // Reference values (spherical, R = 6371.0 km) within 0.5 %.
    EXPECT_NEAR(great_circle_km(city::frankfurt, city::london), 638, 638 * 0.005);
    EXPECT_NEAR(great_circle_km(city::new_york, city::london), 5570, 5570 * 0.005);
    EXPECT_NEAR(great_circle_km(city::sydney, city::tokyo), 7820, 7820 * 0.005);
    EXPECT_NEAR(great_circle_km(city::new_york, city::philadelphia), 130, 3);
    // Symmetric; antipodes give half the circumference without NaN.
    EXPECT_DOUBLE_EQ(great_circle_km(city::tokyo, city::sydney), great_circle_km(city::sydney, city::tokyo));
    EXPECT_NEAR(great_circle_km({0, 0}, {0, 180}), std::numbers::pi * earth_radius_km, 1e-6);
    EXPECT_NEAR(great_circle_km({90, 0}, {-90, 0}), std::numbers::pi * earth_radius_km, 1e-6);
}

TEST(QuorumPerspective, GeoPointValidity) {
    EXPECT_TRUE((geo_point{90, 180}).valid());
    EXPECT_FALSE((geo_point{90.5, 0}).valid());
    EXPECT_FALSE((geo_point{0, -180.1}).valid());
    EXPECT_FALSE((geo_point{std::numeric_limits<double>::quiet_NaN(), 0}).valid());
}

TEST(QuorumPerspective, FiveHundredKmIsDistinct) {
    // A point 500 km (+ε) due north of the equator/prime meridian and one slightly less.
    const double deg_per_km = 180.0 / (std::numbers::pi * earth_radius_km);
    std::vector<perspective_info> remotes{make_remote("a", rir::ripe, {0, 0}),
                                          make_remote("b", rir::ripe, {500.001 * deg_per_km, 0}),
                                          make_remote("c", rir::ripe, {499.99 * deg_per_km, 0.0})};
    const too_close_relation rel(remotes);
    EXPECT_FALSE(rel(0, 1));
    EXPECT_TRUE(rel(0, 2));
    EXPECT_TRUE(rel(2, 0));
    EXPECT_FALSE(rel(0, 0));
}

// Q13: two remotes 300 km apart are not distinct: marked too close (never in one cohort), not counted as two.
TEST(QuorumPerspective, Q13_TwoRemotes300kmApartAreNotDistinct) {
    perspective_set set = test::standard_set();
    set.remotes.push_back(make_remote("near-fra", rir::ripe, city::near_frankfurt_300km));
    const set_report report = check_perspective_set(set, d("2027-01-01"), 5, {});
    EXPECT_TRUE(report.accepted) << report.summary();
    ASSERT_TRUE(has_finding(report, config_rule::remotes_too_close));
    const std::size_t fra = 1; // standard_set order: us-east, eu-fra, ap-tokyo, ...
    ASSERT_EQ(set.remotes[fra].code, "eu-fra");
    EXPECT_TRUE(report.too_close(fra, set.remotes.size() - 1));
    EXPECT_NEAR(great_circle_km(city::frankfurt, city::near_frankfurt_300km), 300, 10);
}

// Q14: a remote in ARIN using a resolver in the RIPE region: configuration invalid.
TEST(QuorumPerspective, Q14_ResolverOutsideRirRegionRefused) {
    perspective_set set = test::standard_set();
    set.remotes[0].resolver = resolver_site{city::london, rir::ripe};
    const set_report report = check_perspective_set(set, d("2027-01-01"), 5, {});
    EXPECT_FALSE(report.accepted);
    EXPECT_FALSE(report.compliant);
    EXPECT_TRUE(has_finding(report, config_rule::resolver_outside_rir));
    EXPECT_NE(report.summary().find("us-east"), std::string::npos) << report.summary();
    EXPECT_NE(report.summary().find("RIPE"), std::string::npos) << report.summary();
}

TEST(QuorumPerspective, ResolversCloserThan500kmNeverShareACohort) {
    perspective_set set = test::standard_set();
    // us-east (New York) resolves in Philadelphia, still ARIN; a second ARIN remote in Los Angeles resolves in NY.
    set.remotes[0].resolver = resolver_site{city::philadelphia, rir::arin};
    set.remotes.push_back(make_remote("us-west", rir::arin, city::los_angeles));
    set.remotes.back().resolver = resolver_site{city::new_york, rir::arin};
    const set_report report = check_perspective_set(set, d("2027-01-01"), 5, {});
    EXPECT_TRUE(report.accepted) << report.summary();
    EXPECT_TRUE(has_finding(report, config_rule::resolvers_too_close));
    EXPECT_TRUE(report.too_close(0, set.remotes.size() - 1));
}

TEST(QuorumPerspective, RemoteTooCloseToPrimaryRefused) {
    perspective_set set = test::standard_set();
    set.primary = make_remote("primary", rir::ripe, city::near_frankfurt_300km, perspective_kind::in_process);
    const set_report report = check_perspective_set(set, d("2027-01-01"), 5, {});
    EXPECT_FALSE(report.accepted);
    EXPECT_TRUE(has_finding(report, config_rule::remote_not_distinct));
    EXPECT_NE(report.summary().find("eu-fra"), std::string::npos) << report.summary();
}

// Q8: only 2 remotes on 2026-04-01: refused at start-up (3 required from 2026-03-15).
TEST(QuorumPerspective, Q8_TwoRemotesRefusedOn20260401) {
    perspective_set set;
    set.primary = make_remote("primary", rir::arin, city::chicago, perspective_kind::in_process);
    set.remotes = {make_remote("eu-fra", rir::ripe, city::frankfurt), make_remote("ap-tokyo", rir::apnic, city::tokyo)};
    const set_report report = check_perspective_set(set, d("2026-04-01"), 2, {});
    EXPECT_FALSE(report.accepted);
    ASSERT_TRUE(has_finding(report, config_rule::too_few_remotes));
    EXPECT_NE(report.summary().find("2026-04-01"), std::string::npos) << report.summary();
    EXPECT_NE(report.summary().find("at least 3"), std::string::npos) << report.summary();
    // The same set was fine before the 2026-03-15 row.
    EXPECT_TRUE(check_perspective_set(set, d("2026-03-14"), 2, {}).accepted);
}

TEST(QuorumPerspective, PhaseMinimumOnDecemberBoundary) {
    perspective_set set = test::standard_set();
    set.remotes.resize(4);
    EXPECT_TRUE(check_perspective_set(set, d("2026-12-14"), 4, {}).accepted);
    const set_report report = check_perspective_set(set, d("2026-12-15"), 4, {});
    EXPECT_FALSE(report.accepted);
    EXPECT_TRUE(has_finding(report, config_rule::too_few_remotes));
    EXPECT_TRUE(has_finding(report, config_rule::default_count_below_phase));
}

TEST(QuorumPerspective, SingleRirRefusedOnceRirRuleApplies) {
    perspective_set set;
    set.remotes = {make_remote("a", rir::arin, city::new_york), make_remote("b", rir::arin, city::chicago),
                   make_remote("c", rir::arin, city::los_angeles)};
    EXPECT_TRUE(check_perspective_set(set, d("2026-03-14"), 3, {}).accepted);
    const set_report report = check_perspective_set(set, d("2026-03-15"), 3, {});
    EXPECT_FALSE(report.accepted);
    EXPECT_TRUE(has_finding(report, config_rule::too_few_rirs));
}

TEST(QuorumPerspective, DevelopmentOverrideAcceptsButMarksNonCompliant) {
    perspective_set set;
    set.remotes = {make_remote("a", rir::arin, city::new_york), make_remote("b", rir::arin, city::new_york)};
    policy_config dev;
    dev.development_override = true;
    const set_report report = check_perspective_set(set, d("2027-01-01"), 2, dev);
    EXPECT_TRUE(report.accepted);
    EXPECT_FALSE(report.compliant);
    // Even a conforming set is non-compliant under the override: every response must say so.
    EXPECT_FALSE(check_perspective_set(test::standard_set(), d("2027-01-01"), 5, dev).compliant);
    EXPECT_TRUE(check_perspective_set(test::standard_set(), d("2027-01-01"), 5, {}).compliant);
}

TEST(QuorumPerspective, MalformedSetsRefusedEvenUnderOverride) {
    policy_config dev;
    dev.development_override = true;
    perspective_set dup = test::standard_set();
    dup.remotes[1].code = dup.remotes[0].code;
    EXPECT_FALSE(check_perspective_set(dup, d("2027-01-01"), 5, dev).accepted);
    perspective_set empty_code = test::standard_set();
    empty_code.remotes[2].code.clear();
    EXPECT_FALSE(check_perspective_set(empty_code, d("2027-01-01"), 5, dev).accepted);
    perspective_set bad_geo = test::standard_set();
    bad_geo.remotes[3].location = {123, 0};
    EXPECT_FALSE(check_perspective_set(bad_geo, d("2027-01-01"), 5, dev).accepted);
    perspective_set bad_resolver = test::standard_set();
    bad_resolver.remotes[3].resolver = resolver_site{{0, 200}, bad_resolver.remotes[3].region};
    EXPECT_FALSE(check_perspective_set(bad_resolver, d("2027-01-01"), 5, dev).accepted);
}

TEST(QuorumPerspective, StandardSetIsCompliantToday) {
    const set_report report = check_perspective_set(test::standard_set(), d("2027-01-01"), 5, {});
    EXPECT_TRUE(report.accepted) << report.summary();
    EXPECT_TRUE(report.compliant);
    EXPECT_TRUE(report.summary().empty());
}

} // namespace
} // namespace mpic::quorum
