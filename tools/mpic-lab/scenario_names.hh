#pragma once
// Domain-name and presentation-format helpers shared by the scenario reader and the zone writer. Internal to the
// lab: names here are always ASCII (the lab serves test names, not IDNs; A-labels may be written as such).

#include <string>

#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// "" when `name` is a usable absolute name (optional trailing dot; labels of 1..63 letters, digits, '-' or '_';
/// a leading "*" label; at most 253 octets), else a sentence saying what is wrong.
std::string check_domain_name(const std::string& name);

/// Lower-cases `name` and strips one trailing dot. Precondition: check_domain_name(name) is "".
std::string normalise_name(const std::string& name);

/// True when `name` equals `apex` or is below it. Both normalised.
bool is_at_or_below(const std::string& name, const std::string& apex);

/// Turns a scenario owner into an absolute normalised name. With a non-empty `origin`, "@" is the apex, a name
/// ending in "." is absolute (and must be inside the origin) and any other name is relative to it; with an empty
/// origin every name is absolute. On failure returns "" and sets `error`.
std::string resolve_owner(const std::string& name, const std::string& origin, std::string& error);

/// RFC 1035 §5.1 quoted <character-string>: '"' and '\' are escaped, other bytes outside printable ASCII become
/// \DDD. Length limits are the caller's business (TXT: 255 octets per string; a CAA value has none).
std::string quote_character_string(const std::string& raw);

/// "" when `type` may carry raw rdata (letters and digits, starting with a letter; not SOA, which the lab owns).
std::string check_raw_type(const std::string& type);

/// The zone of `s` holding `owner` (longest matching apex), or nullptr.
const zone* find_zone(const scenario& s, const std::string& owner);

/// "" when the zone's records can be loaded by an authoritative server: no CNAME beside other data or at the
/// apex (RFC 1034 §3.6.2, RFC 2181 §10.1), at most one DNAME per owner (RFC 6672 §2.4). Else the reason.
std::string check_zone_consistency(const zone& z);

} // namespace mpic::lab
