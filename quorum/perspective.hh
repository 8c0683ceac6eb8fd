#pragma once
// Network perspectives as configuration: where each one hands off its traffic, which RIR service region it is in,
// where its DNS resolver is, and the BR §3.2.2.9 rules on that geography (BR.md 1209, 1213): distinctness at
// 500 km, the resolver in the perspective's own RIR region, resolvers pairwise >= 500 km apart, and the phase-in
// minimum of remote perspectives spanning two RIRs. Pure functions; no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/policy.hh"

namespace mpic::quorum {

/// The five Regional Internet Registries (BR "IP Address Registration Authority", BR.md 375).
enum class rir : std::uint8_t { arin, ripe, apnic, lacnic, afrinic };
/// Number of rir values; rir values are dense in [0, rir_count).
inline constexpr int rir_count = 5;

/// Canonical spelling: "ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC" (Boulder's config values).
std::string_view to_string(rir region) noexcept;
/// Parses a RIR name, ASCII case-insensitively. Accepts the canonical spellings plus "RIPE NCC" / "RIPE_NCC"
/// (Open MPIC's spelling) and "AfriNIC". nullopt for anything else.
std::optional<rir> parse_rir(std::string_view text) noexcept;

/// A point on the WGS 84 ellipsoid, in degrees. valid(): lat in [-90, 90], lon in [-180, 180], both finite.
struct geo_point {
    double lat_deg = 0;
    double lon_deg = 0;
    bool valid() const noexcept;
};

/// Mean Earth radius used for distances (IUGG mean radius R1), km.
inline constexpr double earth_radius_km = 6371.0088;
/// BR.md 1209: perspectives (and, per 1213, resolvers) are distinct when at least this far apart.
inline constexpr double distinct_distance_km = 500.0;

/// Great-circle ("straight-line" in BR wording, SC-083) distance in km by the haversine formula on a sphere of
/// earth_radius_km. Symmetric, >= 0, 0 for identical points. Error vs. the ellipsoid is < 0.5 %, i.e. < 2.5 km at
/// the 500 km threshold: a pair within a few km of 500 should be configured with margin.
double great_circle_km(geo_point a, geo_point b) noexcept;

/// Where a perspective's DNS resolver is. BR.md 1213: MAY be elsewhere, but MUST be in the same RIR region.
struct resolver_site {
    geo_point location;
    rir region = rir::arin;
};

/// How the perspective is reached.
enum class perspective_kind : std::uint8_t {
    remote,     ///< a separate agent reached over mutual TLS (api.md "Perspective agents")
    in_process, ///< runs inside the coordinator process (typically the primary)
};

/// One configured perspective. Invariant after check_perspective_set accepted it: non-empty unique code,
/// valid locations.
struct perspective_info {
    std::string code; ///< unique identifier, logged per BR §5.4.1 item 2.7
    rir region = rir::arin;
    geo_point location; ///< where unencapsulated outbound traffic is first handed off (BR def., BR.md 395)
    /// The resolver; nullopt = co-located with the perspective (same location, same region).
    std::optional<resolver_site> resolver;
    perspective_kind kind = perspective_kind::remote;

    /// The resolver site, with nullopt resolved to the perspective's own location/region.
    resolver_site effective_resolver() const noexcept;
};

/// The configured perspectives: at most one primary (the determination, BR def. line 415) and the remotes that
/// corroborate it. Remote indices (0-based positions in `remotes`) are the identity used by cohorts and decisions.
struct perspective_set {
    std::optional<perspective_info> primary;
    std::vector<perspective_info> remotes;
};

/// Which pairs of remotes may not appear in the same attempt: the perspectives are < 500 km apart (not distinct,
/// BR.md 1209) or their resolvers are (BR.md 1213). Symmetric, irreflexive.
class too_close_relation {
public:
    too_close_relation() = default;
    /// Builds the relation over `remotes` from their locations and resolver sites.
    explicit too_close_relation(const std::vector<perspective_info>& remotes);
    /// Precondition: a, b < size().
    bool operator()(std::size_t a, std::size_t b) const noexcept { return a != b && _bits[a * _size + b]; }
    std::size_t size() const noexcept { return _size; }
    /// Marks a pair too close by configuration (Open MPIC's explicit too-close lists).
    void mark(std::size_t a, std::size_t b);

private:
    std::size_t _size = 0;
    std::vector<bool> _bits;
};

/// The rule a configuration finding refers to.
enum class config_rule : std::uint8_t {
    malformed,                ///< empty or duplicate code, invalid coordinates: never overridable
    remotes_too_close,        ///< two remotes < 500 km apart: allowed, but never in the same cohort (BR.md 1209)
    resolvers_too_close,      ///< two remote resolvers < 500 km apart: never in the same cohort (BR.md 1213)
    resolver_outside_rir,     ///< a resolver outside its perspective's RIR region (BR.md 1213, Q14)
    remote_not_distinct,      ///< a remote (or its resolver) < 500 km from the primary (or its resolver)
    too_few_remotes,          ///< fewer remotes than the phase minimum on the date (BR.md 1261–1271, Q8)
    too_few_rirs,             ///< remotes in fewer than 2 RIR regions while the RIR rule is in force
    default_count_below_phase ///< the default perspective count is below the phase minimum on the date
};
std::string_view to_string(config_rule rule) noexcept;

/// One finding of the start-up check. `blocking` findings refuse the configuration unless overridden.
struct config_finding {
    config_rule rule;
    bool blocking = false;
    std::string message; ///< names the rule (BR line) and, for policy findings, the date
};

/// The verdict of the start-up check.
struct set_report {
    std::vector<config_finding> findings;
    too_close_relation too_close; ///< over `remotes`, for cohort selection
    /// True when the set may be used: no blocking finding, or only overridable ones under the override.
    bool accepted = false;
    /// True when the set satisfies every BR rule checked here (false ⇒ every response is marked non-compliant).
    bool compliant = false;
    /// All blocking findings' messages joined by "; " (empty when none).
    std::string summary() const;
};

/// Checks a perspective set against the policy in force on `date` (standards §7 decision 6): geography, resolver
/// regions, distinctness from the primary, the phase minimum (counting only remotes that can share a cohort is
/// the cohort builder's job; here the raw count and RIR span), and `default_perspective_count` against the phase.
/// Malformed sets are refused always; policy shortfalls are refused unless config.development_override, in which
/// case the set is accepted and compliant == false.
set_report check_perspective_set(const perspective_set& set, civil_date date, int default_perspective_count,
                                 const policy_config& config);

} // namespace mpic::quorum
