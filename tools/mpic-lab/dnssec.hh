#pragma once
// DNSSEC for lab zones marked `dnssec = true`: keys made with dnssec-keygen, every view's copy of the zone signed
// with dnssec-signzone, and one unbound validating resolver per perspective (plus one for everybody else) whose
// trust anchors are the zones' real keys. A perspective whose view of a signed zone differs from the base scenario
// (a poisoned answer) gets that copy signed with a separate "attacker" key, so its resolver finds it bogus --
// which is what DNSSEC promises against an off-path forger.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hh"
#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// The keys of one signed zone. Paths absolute.
struct zone_keys {
    std::string zone;
    std::string real_dir;     ///< holds the zone's key (KSK flag, also signs as ZSK: dnssec-signzone -z)
    std::string attacker_dir; ///< holds the attacker's key for the same zone name
    std::string trust_anchor; ///< the real key's DNSKEY record, e.g. "a.test. IN DNSKEY 257 3 13 ..."
};

/// True when some zone of `s` has dnssec = true.
bool has_dnssec(const scenario& s);

/// True when perspective k's copy of `z` is the base data (signed with the real key); false for a changed copy.
bool signed_with_zone_key(const scenario& s, const zone& z, int k);

/// Makes a real and an attacker key for every DNSSEC zone under `dir`/keys (ECDSA P-256, RFC 8624 §3.1
/// "MUST"), then signs every view's copy of those zones under `bind_dir` (written by write_bind_zones) into
/// "<zone>.zone.signed". All tool runs happen in parallel, bounded by `timeout`. On failure `failure` holds the
/// tool's log.
result<std::vector<zone_keys>> sign_dnssec_zones(const scenario& s, const std::string& dir, const std::string& bind_dir,
                                                 std::chrono::milliseconds timeout, std::string& failure);

/// unbound.conf for the validating resolver of perspective k (k = 0: everybody else): listens on
/// 127.0.0.1:`port`, sends its queries from perspective k's source address so BIND answers from k's view, reaches
/// every scenario zone through a stub to BIND at 127.0.0.1:`bind_port`, trusts `keys`' anchors (and nothing else:
/// no root anchor), and answers TXT `nonce` at the readiness name itself (readiness without depending on BIND).
std::string render_unbound_conf(const scenario& s, int k, const std::string& dir, std::uint16_t port,
                                std::uint16_t bind_port, const std::vector<zone_keys>& keys, const std::string& nonce);

} // namespace mpic::lab
