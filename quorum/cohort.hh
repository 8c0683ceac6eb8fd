#pragma once
// Open MPIC's perspective selection (api.md "Perspective selection"): the remotes are shuffled deterministically
// per target, seeded by sha256(secret + lowercased target), and split into disjoint cohorts of the requested
// size, each seeded with two RIRs and never holding a too-close pair. Attempt k uses cohort k. Because the seed
// depends only on the secret and the target, a retry cannot shop for friendly perspectives.
//
// Not bit-compatible with Open MPIC: its shuffle is Python's random.Random(seed).shuffle (Mersenne Twister). Ours
// is Fisher-Yates driven by xoshiro256** keyed with the same SHA-256 digest; the properties (determinism per
// target, disjointness, two RIRs, distance) are the same, the concrete cohorts differ.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "quorum/perspective.hh"

namespace mpic::quorum {

/// sha256(secret || ascii_lowercase(target)), the 32-byte selection seed (OpenSSL EVP SHA-256). The target is
/// lower-cased byte-wise (ASCII only), as Open MPIC's `domain_or_ip_target.lower()` does for A-labels and IPs.
std::array<std::uint8_t, 32> selection_seed(std::string_view secret, std::string_view target);

/// One cohort: indices into perspective_set::remotes, in selection order. Invariant: no two members are too
/// close; with two_rirs, members span >= 2 RIRs.
using cohort = std::vector<std::size_t>;

/// What a cohort must satisfy.
struct cohort_requirements {
    std::size_t size = 0; ///< perspectives per cohort; must be >= 2
    bool two_rirs = true; ///< seed each cohort with two distinct RIRs (Open MPIC: whenever size > 2)
};

/// The cohorts for one (secret, target). Invariants: every cohort has exactly `size` members, cohorts are pairwise
/// disjoint, deterministic in (remotes, too_close, requirements, seed).
struct cohort_plan {
    std::vector<cohort> cohorts;

    bool empty() const noexcept { return cohorts.empty(); }
    /// The cohort of attempt `attempt` (1-based). Attempts wrap around: attempt k uses cohort (k-1) mod m, the same
    /// cycle as Open MPIC's itertools.cycle. Wrapping reuses perspectives, never results: every attempt is a new
    /// decision with fresh results (BR.md 1211 "MUST NOT rely on corroborations from previous attempts").
    /// Precondition: !empty(), attempt >= 1.
    const cohort& for_attempt(int attempt) const noexcept;
};

/// Builds the cohorts. Algorithm (deterministic):
///  1. order the remotes by code, then Fisher-Yates-shuffle with xoshiro256** keyed by `seed`;
///  2. group by RIR in shuffled order; the RIR order is the order of first appearance;
///  3. seeding: repeatedly open a cohort with the first available perspective of the next RIR in rotation and
///     the first available perspective of a different RIR (any RIR, preferring a different one, when !two_rirs)
///     not too close to it; stop when no more seeds fit or floor(N/size) cohorts are open;
///  4. filling, one cohort at a time: cycle through the RIRs and take each RIR's first available perspective not
///     too close to any member; a cohort that cannot be filled is dissolved and its members returned.
/// Returns an empty plan when size < 2, size > remotes, or no cohort satisfies the requirements.
cohort_plan make_cohorts(std::span<const perspective_info> remotes, const too_close_relation& too_close,
                         const cohort_requirements& requirements, const std::array<std::uint8_t, 32>& seed);

} // namespace mpic::quorum
