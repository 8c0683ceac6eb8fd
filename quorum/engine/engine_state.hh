#pragma once
// State shared by every reactor of one engine: the immutable configuration and perspective set, plus a few
// relaxed atomic counters. Nothing here is written on the request path except the counters.

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "quorum/cohort.hh"
#include "quorum/engine/config.hh"
#include "quorum/perspective.hh"
#include "quorum/policy.hh"

namespace mpic::quorum {

/// What the engine knows once configuration is loaded and checked, shared read-only by every reactor.
struct engine_state {
    engine_config config;
    perspective_set set; ///< remotes in configuration order, optional primary
    set_report report;   ///< start-up verdict, too-close relation for cohorts
    /// Every perspective with services on each reactor: remotes 0..n-1, then the primary (if any) at n.
    std::vector<const configured_perspective*> perspectives;
    std::optional<std::size_t> primary_index;
    std::string cohort_secret;
    std::string compliance_note; ///< why responses are non-compliant; empty when compliant

    std::atomic<std::uint64_t> checks_in_flight{0};
    std::atomic<std::uint64_t> requests_started{0};
    std::atomic<std::uint64_t> requests_finished{0};
    std::atomic<std::uint64_t> requests_refused_overload{0};

    std::size_t remote_count() const noexcept { return set.remotes.size(); }
    /// The date whose BR phase applies: the configured override, else today (UTC).
    civil_date today() const noexcept;
};

} // namespace mpic::quorum
