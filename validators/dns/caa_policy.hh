#pragma once
// Evaluation of a Relevant CAA RRset (RFC 8659 §3–§4, RFC 8657, RFC 9495, BR 3.2.2.8) for one request. Pure: it
// sees properties as bytes and the request's inputs, never the network. The climb that finds the RRset is
// caa_climb.hh; the check that runs both is caa_check.cc.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "validators/check.hh"

namespace mpic::validators {

/// One CAA property as read off the wire (RFC 8659 §4.1): flags octet, tag and value bytes, unaltered.
struct caa_property {
    std::uint8_t flags = 0;
    std::string tag;
    std::string value;

    /// RFC 8659 §4.1.1: only bit 0 (MSB, value 128) is Issuer Critical; every other bit is reserved and ignored.
    bool critical() const noexcept { return (flags & 0x80U) != 0; }
    bool operator==(const caa_property&) const = default;
};

/// The CAA tags this CA recognises: issue, issuewild, iodef (RFC 8659 §4.2–4.4), issuemail (RFC 9495), issuevmc
/// (BIMI VMC; recognised so a critical one does not block TLS issuance, as in Boulder), contactemail and
/// contactphone (BR Appendix A). Case-insensitive (RFC 8659 §4.1).
bool is_recognised_caa_tag(std::string_view tag) noexcept;

/// What the evaluation needs from the request.
/// Invariant: `issuer_domains` is non-empty for a meaningful evaluation (an empty list authorizes nothing).
struct caa_policy_input {
    certificate_type cert_type = certificate_type::tls_server;
    bool wildcard = false;                             ///< the requested name is "*.<name>" (RFC 8659 §4.3)
    std::span<const std::string> issuer_domains;       ///< the CA's Issuer Domain Names (BR 3.2.2.8, CP/CPS)
    std::optional<std::string_view> account_uri;       ///< RFC 8657 §3 input; absent ⇒ accounturi unsatisfiable
    std::optional<std::string_view> validation_method; ///< RFC 8657 §4 input; absent ⇒ validationmethods unsatisfiable
};

/// Outcome of evaluating one Relevant RRset.
/// Invariant: `reason` is non-empty; when `permitted` and a property authorized issuance, `authorizing_index` is its
/// index in the RRset; it is nullopt when no property restricts issuance (RFC 8659 §3 last paragraph).
struct caa_evaluation {
    bool permitted = false;
    std::string reason;
    std::optional<std::size_t> authorizing_index;
};

/// Evaluates a non-empty Relevant RRset (an empty one permits; the caller handles it before). Rules, in order:
/// 1. an unrecognised tag with the critical flag (bit 128 only) forbids (RFC 8659 §4.1.1, BR 3.2.2.8);
/// 2. the restricting properties are: for S/MIME, `issuemail` (RFC 9495 §4: issue/issuewild do not restrict it);
///    for TLS, `issuewild` if the name is a wildcard and at least one exists, else `issue` (RFC 8659 §4.3);
/// 3. no restricting property ⇒ permitted;
/// 4. otherwise permitted iff one of them (authorizations are additive, RFC 8659 §4.2) names one of our issuer
///    domains and its RFC 8657 parameters are satisfied: at most one `accounturi`, equal (byte for byte) to
///    `account_uri`; at most one `validationmethods`, well-formed, listing `validation_method`.
caa_evaluation evaluate_caa_rrset(std::span<const caa_property> rrset, const caa_policy_input& input);

/// The values of every `contactemail` / `contactphone` (per `tag`, case-insensitive) property in `rrset`, WSP-trimmed,
/// in record order (BR Appendix A.1.1 / A.1.2; used by BR 3.2.2.4.13 / 3.2.2.4.16).
std::vector<std::string> caa_contacts(std::span<const caa_property> rrset, std::string_view tag);

/// RFC 8659 §4.1.1 presentation form of one property: `<flags> <tag> "<value>"`, the value with `"` and `\` escaped
/// and bytes outside printable ASCII as `\DDD` (RFC 1035 §5.1), so non-UTF-8 values are shown, never trusted.
std::string caa_presentation(const caa_property& property);

/// BR 3.2.2.8: a CAA determination may be relied on "within the TTL of the CAA record, or 8 hours, whichever is
/// greater". `min_ttl_seconds` is the smallest TTL of the Relevant RRset (or of the empty answers that led to it).
std::chrono::seconds caa_result_lifetime(std::uint32_t min_ttl_seconds) noexcept;

/// True when a determination made `age` ago with that TTL may still back an issuance (conformance case C36).
bool caa_result_usable(std::chrono::seconds age, std::uint32_t min_ttl_seconds) noexcept;

} // namespace mpic::validators
