#pragma once
// What each perspective sees: the base scenario with that perspective's overrides applied in file order.
// Perspective 0 means "no perspective": the default view that any other source address (127.0.0.1 included) gets.

#include <cstdint>
#include <string>
#include <vector>

#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// The records of zone `z` as perspective `k` sees them. Override semantics: a record replaces the whole RRset of
/// its (owner, type); a CNAME replaces everything at its owner and any other type replaces a CNAME there
/// (RFC 1034 §3.6.2 allows nothing beside a CNAME); `remove` entries drop RRsets ("*" = all types at the owner).
std::vector<record> view_records(const scenario& s, const zone& z, int k);

/// True when some override for perspective `k` changes DNS data (records or remove), so it needs its own view.
bool has_own_dns_view(const scenario& s, int k);

/// The HTTP rules perspective `k` sees; an override rule replaces the base rule with the same host and path.
std::vector<http_rule> view_http_rules(const scenario& s, int k);

/// True when some override for perspective `k` changes HTTP rules.
bool has_own_http_view(const scenario& s, int k);

/// The TLS-ALPN certificates perspective `k` is shown; an override replaces the certificate with the same name.
std::vector<alpn_cert> view_alpn(const scenario& s, int k);

/// True when some override for perspective `k` changes TLS-ALPN certificates.
bool has_own_alpn_view(const scenario& s, int k);

/// The last DNS behaviour an override gives perspective `k` (normal when none does), and its stall delay.
dns_behaviour view_dns_behaviour(const scenario& s, int k, std::uint32_t* stall_ms = nullptr);

/// The last HTTP behaviour an override gives perspective `k` (normal when none does).
http_behaviour view_http_behaviour(const scenario& s, int k);

/// "" when every perspective's view of every zone is loadable (see check_zone_consistency), else the reason,
/// naming the perspective.
std::string check_views(const scenario& s);

} // namespace mpic::lab
