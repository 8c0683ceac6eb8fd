#pragma once
// The pure rules of the DNS-based DCV methods: which name to query and whether a record's content demonstrates
// control. No I/O; the check classes (dns01_check.cc, dns_change_check.cc, ...) feed them what the resolver saw.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/name/identifier.hh"
#include "validators/check.hh"

namespace mpic::validators {

/// A query name, or why the request's parameters do not allow one (mpic_error:dcv_checker:parameter).
/// Invariant: exactly one of `name` and `error` is non-empty.
struct query_name_or_error {
    std::string name;
    std::string error;
};

/// RFC 8555 §8.4: `_acme-challenge.<name>`; a wildcard's "*." is already gone from identifier::name (RFC 8555
/// §7.1.3). An IP identifier is refused (RFC 8738 §7: dns-01 "MUST NOT be used to validate IP identifiers").
query_name_or_error dns01_query_name(const net::identifier& target);

/// The dns-account-01 label `_<lower(base32(SHA-256(account_uri)[0:10]))>` (standards §2.6, Boulder va/dns.go):
/// base32 (RFC 4648 §6 alphabet) of the first 10 digest octets = 16 characters, lowercase, no padding.
std::string dns_account01_label(std::string_view account_uri);

/// `<label>._acme-challenge.<name>` for dns-account-01 (BR 3.2.2.4.21); refuses IP targets and an empty account URI.
query_name_or_error dns_account01_query_name(const net::identifier& target, std::string_view account_uri);

/// `_validation-persist.<name>` (BR 3.2.2.4.22); refuses IP targets (3.2.2.5.8's reverse-zone form is not offered).
query_name_or_error persistent_query_name(const net::identifier& target);

/// `<prefix>.<name>`, or `<name>` when `prefix` is absent or empty. The prefix must be one or more DNS labels
/// (1..63 octets each, printable ASCII other than space, '.' only as separator); with `require_underscore` its
/// first label must start with '_' (BR 3.2.2.4.7: "prefixed with a Domain Label that begins with an underscore").
/// The result must fit in 253 octets.
query_name_or_error prefixed_query_name(const std::optional<std::string>& prefix, std::string_view name,
                                        bool require_underscore);

/// RFC 8555 §8.4 / BR 3.2.2.4.21: the index of the first value equal to `expected`, byte for byte and
/// case-sensitively (base64url is case-sensitive); nullopt when none is.
std::optional<std::size_t> find_exact(std::span<const std::string> values, std::string_view expected);

/// BR 3.2.2.4.7 dns-change: does one record's value carry the challenge? `exact` compares the whole value, else the
/// value must contain the challenge. Case matters only for TXT with `exact_case` (api.md); CNAME targets and CAA
/// values compare ASCII case-insensitively (names are case-insensitive, RFC 4343). An empty challenge never matches.
bool dns_change_matches(std::string_view record_value, std::string_view challenge, dns_record_type type, bool exact,
                        bool exact_case);

/// Inputs of the BR 3.2.2.4.22 persistent record check.
struct persistent_expectation {
    std::span<const std::string> issuer_domain_names; ///< disclosed in the CP/CPS; one must match
    std::string_view account_uri;                     ///< the Applicant's account; `accounturi` must equal it
    std::int64_t now_unix = 0;                        ///< wall-clock seconds, for persistUntil
    /// The request is for "*.<ADN>": the record must carry `policy=wildcard` (draft-ietf-acme-dns-persist; the
    /// scope rule Let's Encrypt and ACME clients implement for BR 3.2.2.4.22). Without it a record covers the FQDN
    /// only.
    bool wildcard = false;
};

/// Verdict on one `_validation-persist` TXT value. Invariant: `reason` is non-empty.
struct persistent_verdict {
    bool usable = false;
    std::string reason;
};

/// BR 3.2.2.4.22: the RDATA is an RFC 8659 issue-value whose issuer-domain-name is one of ours, which carries
/// exactly one `accounturi` equal to the Applicant's, and whose optional `persistUntil` (Unix seconds, decimal) has
/// not passed; for a wildcard request `policy` must equal "wildcard" (ASCII case-insensitive); other parameters are
/// ignored. A malformed value, a duplicate or non-numeric persistUntil is unusable.
persistent_verdict evaluate_persistent_record(std::string_view txt, const persistent_expectation& expected);

/// BR 3.2.2.4.14 / 3.2.2.4.13: a DNS TXT/CAA contact value names the email address `wanted`. Both are WSP-trimmed;
/// the local part compares exactly (RFC 5321 §2.4), the domain part ASCII case-insensitively.
bool contact_email_matches(std::string_view record_value, std::string_view wanted);

/// BR 3.2.2.4.17 / 3.2.2.4.16: a contact phone value names `wanted`: both reduced to '+' and digits (RFC 3966
/// §5.1.1 visual separators "-", ".", "(", ")" and WSP dropped) and compared; a value without a digit never matches.
bool contact_phone_matches(std::string_view record_value, std::string_view wanted);

/// An IP address as 16 octets (IPv4 as its first 4) plus its family, for comparing addresses as values.
struct ip_value {
    bool v6 = false;
    std::array<std::uint8_t, 16> octets{};
    bool operator==(const ip_value&) const = default;
};
/// Parses an IPv4 or IPv6 literal (IPv6 optionally in brackets); nullopt when it is neither.
std::optional<ip_value> parse_ip(std::string_view text);

/// BR 3.2.2.5.3: a PTR target names `wanted`: ASCII case-insensitive, one trailing dot ignored on either side.
bool same_dns_name(std::string_view a, std::string_view b) noexcept;

} // namespace mpic::validators
