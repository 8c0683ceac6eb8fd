#pragma once
// BIND 9 configuration for a scenario: one view per perspective that has its own DNS data (match-clients on the
// perspective's source address), a default view for everybody else, and zone files written from the scenario.
// Perspectives whose DNS is "unreachable" are put on BIND's blackhole list: their queries are dropped unanswered.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hh"
#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// The zone that proves readiness: the default view serves TXT `nonce` at `readiness_name`.
inline constexpr const char* readiness_zone = "mpic-lab.invalid";
inline constexpr const char* readiness_name = "ready.mpic-lab.invalid";
/// Name server name written into every zone's SOA and NS (out of zone, so no glue is needed).
inline constexpr const char* lab_ns_name = "ns.mpic-lab.invalid";

/// Zone-file text for `records` of zone `apex`: $TTL, SOA, NS (unless `records` has an apex NS RRset), records.
/// Every owner is written absolute. Precondition: the records passed check_zone_consistency.
std::string render_zone(const std::string& apex, const std::vector<record>& records);

/// named.conf text. `dir` is the absolute directory that holds it and the zone files (zone files are named
/// "<view>/<zone>.zone" relative to it).
std::string render_named_conf(const scenario& s, const std::string& dir, std::uint16_t port);

/// Writes every view's zone files under `dir` (which must exist): "<view>/<zone>.zone", plus the readiness zone
/// holding `nonce` in the default view. Views exist for perspective 0 ("default") and each perspective with its own
/// DNS data ("p<k>").
result<void> write_bind_zones(const scenario& s, const std::string& dir, const std::string& nonce);

/// Writes `dir`/named.conf for `port`; returns its path. Called again with a new port when the old one was taken.
result<std::string> write_named_conf(const scenario& s, const std::string& dir, std::uint16_t port);

/// The subdirectory of the BIND directory holding perspective k's view ("default" for k = 0).
std::string bind_view_dir(int k);

/// The file named.conf loads for zone `z`: "<zone>.zone", or "<zone>.zone.signed" for a DNSSEC zone (the signer
/// writes it next to the unsigned file).
std::string zone_file_name(const zone& z);

} // namespace mpic::lab
