#pragma once
// Shared fixtures of the quorum tests: city coordinates, perspective sets, check results, decision configs.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "quorum/decision.hh"
#include "quorum/perspective.hh"
#include "quorum/policy.hh"

namespace mpic::quorum::test {

/// City centres (degrees). Distances between them are textbook values, used as references.
namespace city {
inline constexpr geo_point new_york{40.7128, -74.0060};
inline constexpr geo_point philadelphia{39.9526, -75.1652}; // ~130 km from New York
inline constexpr geo_point chicago{41.8781, -87.6298};
inline constexpr geo_point los_angeles{34.0522, -118.2437};
inline constexpr geo_point london{51.5074, -0.1278};
inline constexpr geo_point frankfurt{50.1109, 8.6821};
inline constexpr geo_point near_frankfurt_300km{48.1351, 11.5820}; // Munich, ~300 km from Frankfurt
inline constexpr geo_point stockholm{59.3293, 18.0686};
inline constexpr geo_point tokyo{35.6762, 139.6503};
inline constexpr geo_point sydney{-33.8688, 151.2093};
inline constexpr geo_point singapore{1.3521, 103.8198};
inline constexpr geo_point sao_paulo{-23.5505, -46.6333};
inline constexpr geo_point johannesburg{-26.2041, 28.0473};
} // namespace city

inline civil_date d(const char* text) {
    const auto parsed = parse_civil_date(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(civil_date{});
}

inline perspective_info make_remote(std::string code, rir region, geo_point where,
                                    perspective_kind kind = perspective_kind::remote) {
    perspective_info p;
    p.code = std::move(code);
    p.region = region;
    p.location = where;
    p.kind = kind;
    return p;
}

/// A conforming set: primary in Chicago, six remotes in five RIRs, all pairwise >= 500 km.
/// Order: us-east, eu-fra, ap-tokyo, sa-sao, af-jnb, ap-syd.
inline perspective_set standard_set() {
    perspective_set set;
    set.primary = make_remote("primary", rir::arin, city::chicago, perspective_kind::in_process);
    set.remotes = {
        make_remote("us-east", rir::arin, city::new_york),       make_remote("eu-fra", rir::ripe, city::frankfurt),
        make_remote("ap-tokyo", rir::apnic, city::tokyo),        make_remote("sa-sao", rir::lacnic, city::sao_paulo),
        make_remote("af-jnb", rir::afrinic, city::johannesburg), make_remote("ap-syd", rir::apnic, city::sydney)};
    return set;
}

inline validators::check_result pass() {
    validators::check_result r;
    r.completed = true;
    r.passed = true;
    return r;
}

inline validators::check_result fail() {
    validators::check_result r;
    r.completed = true;
    r.passed = false;
    r.errors.push_back(problem::make(problem_component::dcv_checker, "unauthorized", "token not found"));
    return r;
}

/// A check that never reached a determination (timeout, unreachable remote: Q10).
inline validators::check_result incomplete() {
    validators::check_result r;
    r.completed = false;
    r.passed = false;
    r.errors.push_back(problem::make(problem_component::coordinator, "remote_check", "remote timed out"));
    return r;
}

/// Remotes named r0, r1, ... with the given RIRs.
inline std::vector<remote_slot> slots(const std::vector<rir>& regions) {
    std::vector<remote_slot> out;
    for (std::size_t i = 0; i < regions.size(); ++i) {
        out.push_back({"r" + std::to_string(i), regions[i]});
    }
    return out;
}

/// A decision config under the BR rule in force on `date` (default: after the full phase-in).
inline decision_config br_config(const std::vector<rir>& regions,
                                 corroboration_mode mode = corroboration_mode::primary_decides,
                                 const char* date = "2027-01-01", policy_config policy = {}) {
    decision_config c;
    c.rule = br_rule(static_cast<int>(regions.size()), d(date), policy);
    c.mode = mode;
    c.remotes = slots(regions);
    return c;
}

} // namespace mpic::quorum::test
