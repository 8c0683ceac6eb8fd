#include "quorum/perspective.hh"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "core/ascii.hh"

namespace mpic::quorum {

namespace {

std::string km(double d) {
    return std::to_string(static_cast<long long>(std::lround(d))) + " km";
}

} // namespace

std::string_view to_string(rir region) noexcept {
    switch (region) {
    case rir::arin:
        return "ARIN";
    case rir::ripe:
        return "RIPE";
    case rir::apnic:
        return "APNIC";
    case rir::lacnic:
        return "LACNIC";
    case rir::afrinic:
        return "AFRINIC";
    }
    return "ARIN"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::optional<rir> parse_rir(std::string_view text) noexcept {
    // Boulder validates `oneof=ARIN RIPE APNIC LACNIC AFRINIC` (cmd/boulder-va/main.go); Open MPIC's enum value
    // for RIPE is "RIPE NCC". Accept both, case-insensitively, and nothing looser.
    if (core::ascii_iequals(text, "ARIN")) {
        return rir::arin;
    }
    if (core::ascii_iequals(text, "RIPE") || core::ascii_iequals(text, "RIPE NCC") ||
        core::ascii_iequals(text, "RIPE_NCC")) {
        return rir::ripe;
    }
    if (core::ascii_iequals(text, "APNIC")) {
        return rir::apnic;
    }
    if (core::ascii_iequals(text, "LACNIC")) {
        return rir::lacnic;
    }
    if (core::ascii_iequals(text, "AFRINIC")) {
        return rir::afrinic;
    }
    return std::nullopt;
}

bool geo_point::valid() const noexcept {
    return std::isfinite(lat_deg) && std::isfinite(lon_deg) && lat_deg >= -90 && lat_deg <= 90 && lon_deg >= -180 &&
           lon_deg <= 180;
}

double great_circle_km(geo_point a, geo_point b) noexcept {
    // Haversine: numerically stable for small distances, which is where the 500 km threshold bites. The clamp
    // keeps asin's argument in [0, 1] against rounding for antipodal points.
    constexpr double rad = std::numbers::pi / 180.0;
    const double phi1 = a.lat_deg * rad;
    const double phi2 = b.lat_deg * rad;
    const double dphi = (b.lat_deg - a.lat_deg) * rad;
    const double dlambda = (b.lon_deg - a.lon_deg) * rad;
    const double s1 = std::sin(dphi / 2);
    const double s2 = std::sin(dlambda / 2);
    const double h = s1 * s1 + std::cos(phi1) * std::cos(phi2) * s2 * s2;
    return 2 * earth_radius_km * std::asin(std::sqrt(std::clamp(h, 0.0, 1.0)));
}

resolver_site perspective_info::effective_resolver() const noexcept {
    return resolver ? *resolver : resolver_site{location, region};
}

too_close_relation::too_close_relation(const std::vector<perspective_info>& remotes)
    : _size(remotes.size()), _bits(remotes.size() * remotes.size(), false) {
    for (std::size_t i = 0; i < _size; ++i) {
        for (std::size_t j = i + 1; j < _size; ++j) {
            // BR.md 1209: distinct means >= 500 km, so exactly 500 km is distinct. BR.md 1213 applies the same
            // bound to "any pair of DNS resolvers used on a[n] MPIC attempt".
            const bool near = great_circle_km(remotes[i].location, remotes[j].location) < distinct_distance_km ||
                              great_circle_km(remotes[i].effective_resolver().location,
                                              remotes[j].effective_resolver().location) < distinct_distance_km;
            if (near) {
                mark(i, j);
            }
        }
    }
}

void too_close_relation::mark(std::size_t a, std::size_t b) {
    if (a == b || a >= _size || b >= _size) {
        return;
    }
    _bits[a * _size + b] = true;
    _bits[b * _size + a] = true;
}

std::string_view to_string(config_rule rule) noexcept {
    switch (rule) {
    case config_rule::malformed:
        return "malformed";
    case config_rule::remotes_too_close:
        return "remotes-too-close";
    case config_rule::resolvers_too_close:
        return "resolvers-too-close";
    case config_rule::resolver_outside_rir:
        return "resolver-outside-rir";
    case config_rule::remote_not_distinct:
        return "remote-not-distinct-from-primary";
    case config_rule::too_few_remotes:
        return "too-few-remote-perspectives";
    case config_rule::too_few_rirs:
        return "too-few-rirs";
    case config_rule::default_count_below_phase:
        return "default-perspective-count-below-phase";
    }
    return "malformed"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::string set_report::summary() const {
    std::string out;
    for (const config_finding& f : findings) {
        if (f.blocking) {
            if (!out.empty()) {
                out += "; ";
            }
            out += f.message;
        }
    }
    return out;
}

set_report check_perspective_set(const perspective_set& set, civil_date date, int default_perspective_count,
                                 const policy_config& config) {
    set_report report;
    bool malformed = false;
    bool policy_blocked = false;
    auto add = [&](config_rule rule, bool blocking, std::string message) {
        if (blocking) {
            (rule == config_rule::malformed ? malformed : policy_blocked) = true;
        }
        report.findings.push_back({rule, blocking, std::move(message)});
    };

    // Shape first: a set we cannot reason about is refused whatever the override says.
    std::set<std::string, std::less<>> codes;
    auto check_shape = [&](const perspective_info& p, std::string_view role) {
        if (p.code.empty()) {
            add(config_rule::malformed, true, std::string(role) + " perspective with an empty code");
        } else if (!codes.insert(p.code).second) {
            add(config_rule::malformed, true, "duplicate perspective code \"" + p.code + "\"");
        }
        if (!p.location.valid() || (p.resolver && !p.resolver->location.valid())) {
            add(config_rule::malformed, true, "perspective \"" + p.code + "\" has invalid coordinates");
        }
    };
    if (set.primary) {
        check_shape(*set.primary, "primary");
    }
    for (const perspective_info& p : set.remotes) {
        check_shape(p, "remote");
    }
    if (malformed) {
        return report;
    }

    // BR.md 1213: "the DNS resolver ... MUST fall within the same Regional Internet Registry service region as the
    // Network Perspective relying upon it" (Q14).
    auto check_resolver = [&](const perspective_info& p) {
        if (p.resolver && p.resolver->region != p.region) {
            add(config_rule::resolver_outside_rir, true,
                "perspective \"" + p.code + "\" (" + std::string(to_string(p.region)) + ") uses a resolver in the " +
                    std::string(to_string(p.resolver->region)) +
                    " region; BR 3.2.2.9 requires the resolver in the perspective's own RIR region");
        }
    };
    if (set.primary) {
        check_resolver(*set.primary);
    }
    for (const perspective_info& p : set.remotes) {
        check_resolver(p);
    }

    // BR.md 1209: remote = distinct from the primary and from the other perspectives in the quorum. A remote that
    // can never be distinct from the primary is a misconfiguration; remote-remote closeness only keeps the pair
    // out of the same cohort.
    report.too_close = too_close_relation(set.remotes);
    if (set.primary) {
        const resolver_site primary_resolver = set.primary->effective_resolver();
        for (const perspective_info& p : set.remotes) {
            const double d = great_circle_km(set.primary->location, p.location);
            const double dr = great_circle_km(primary_resolver.location, p.effective_resolver().location);
            if (d < distinct_distance_km || dr < distinct_distance_km) {
                add(config_rule::remote_not_distinct, true,
                    "remote \"" + p.code + "\" is " + km(d) + " (resolvers " + km(dr) + ") from the primary \"" +
                        set.primary->code + "\"; BR 3.2.2.9 requires remotes >= 500 km from the primary");
            }
        }
    }
    for (std::size_t i = 0; i < set.remotes.size(); ++i) {
        for (std::size_t j = i + 1; j < set.remotes.size(); ++j) {
            const perspective_info& a = set.remotes[i];
            const perspective_info& b = set.remotes[j];
            const double d = great_circle_km(a.location, b.location);
            const double dr = great_circle_km(a.effective_resolver().location, b.effective_resolver().location);
            if (d < distinct_distance_km) {
                add(config_rule::remotes_too_close, false,
                    "remotes \"" + a.code + "\" and \"" + b.code + "\" are " + km(d) +
                        " apart (< 500 km, not distinct): never used in the same attempt");
            } else if (dr < distinct_distance_km) {
                add(config_rule::resolvers_too_close, false,
                    "resolvers of \"" + a.code + "\" and \"" + b.code + "\" are " + km(dr) +
                        " apart (< 500 km): never used in the same attempt");
            }
        }
    }

    // The phase-in on the date (standards §1.2, §7.6).
    const phase in_force = phase_on(date);
    const std::string when = " on " + to_string(date) + " (BR 3.2.2.9 phase-in, " +
                             std::string(to_string(in_force.mode)) + " from " + to_string(in_force.effective) + ")";
    const int remote_count = static_cast<int>(set.remotes.size());
    if (remote_count < in_force.min_remote_perspectives) {
        add(config_rule::too_few_remotes, true,
            std::to_string(remote_count) + " remote perspectives configured; at least " +
                std::to_string(in_force.min_remote_perspectives) + " are required" + when);
    }
    if (in_force.min_remote_perspectives > 0 && default_perspective_count < in_force.min_remote_perspectives) {
        add(config_rule::default_count_below_phase, true,
            "default perspective count " + std::to_string(default_perspective_count) + " is below the " +
                std::to_string(in_force.min_remote_perspectives) + " remote perspectives required" + when);
    }
    if (in_force.rir_rule) {
        std::set<rir> regions;
        for (const perspective_info& p : set.remotes) {
            regions.insert(p.region);
        }
        if (regions.size() < 2) {
            add(config_rule::too_few_rirs, true,
                "remote perspectives span " + std::to_string(regions.size()) +
                    " RIR region(s); corroborating remotes must fall within at least 2 distinct RIRs" + when);
        }
    }

    report.compliant = !policy_blocked && !config.development_override;
    report.accepted = !policy_blocked || config.development_override;
    return report;
}

} // namespace mpic::quorum
