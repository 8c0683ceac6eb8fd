#pragma once
// Identifiers as the BR and RFC 8555/8738 know them: a DNS name (possibly a wildcard) or an IP address.

#include <string>
#include <string_view>

#include "core/result.hh"

namespace mpic::net {

/// A validated, normalised identifier.
/// Invariants for kind == dns: `name` is lowercase A-label form (RFC 5890), LDH labels, no trailing dot, no "*."
/// prefix (that is recorded in `wildcard`), at most 253 octets, every label 1..63 octets.
/// Invariants for kind == ip: `name` is the canonical text form (RFC 1123 §2.1 for IPv4, RFC 5952 §4 for IPv6,
/// no brackets).
struct identifier {
    enum class kind_t { dns, ip };
    kind_t kind = kind_t::dns;
    std::string name;
    bool wildcard = false; ///< the request named "*.<name>"
    bool is_ipv6 = false;  ///< for kind == ip

    bool is_ip() const noexcept { return kind == kind_t::ip; }
    /// The identifier as it was requested: "*.<name>" for a wildcard, else `name`.
    std::string requested() const { return wildcard ? "*." + name : name; }
};

/// Why an identifier was refused; each maps to a precise API error message.
enum class identifier_error {
    empty = 1,
    too_long,           ///< more than 253 octets
    label_too_long,     ///< a label of more than 63 octets
    empty_label,        ///< "a..b", leading dot
    invalid_character,  ///< not LDH after IDNA, NUL, non-UTF-8
    invalid_idna,       ///< libidn2 refused the U-label or the xn-- label is not valid punycode
    bad_wildcard,       ///< "*" other than as the whole leftmost label
    wildcard_on_suffix, ///< "*.<public suffix>" (BR §3.2.2.6)
    public_suffix,      ///< the name is itself a public suffix / TLD
    invalid_ip,         ///< looks like an IP but does not parse
};
const std::error_category& identifier_category() noexcept;
inline std::error_code make_error_code(identifier_error e) noexcept {
    return {static_cast<int>(e), identifier_category()};
}

/// Parses a request's `domain_or_ip_target`: IPv4, IPv6 (optionally bracketed), or a DNS name (U-labels converted
/// to A-labels with libidn2, lowercased per RFC 4343, one trailing dot accepted and removed, "*." prefix recorded).
/// Refused: empty input, NUL bytes or invalid UTF-8 (invalid_character), text that looks like an IP but does not
/// parse (invalid_ip: digits-and-dots only, or containing ':' or brackets), empty labels, labels over 63 octets,
/// names over 253 octets (both measured in A-label form), non-LDH labels, labels with "--" in positions 3-4 that
/// are not valid "xn--" A-labels (checked by a decode/encode round trip), "*" anywhere but as the whole leftmost
/// label, a name that is itself an ICANN public suffix (public_suffix), and a wildcard directly on an ICANN or
/// private public suffix (wildcard_on_suffix, BR §3.2.2.6).
result<identifier> parse_identifier(std::string_view text);

/// The RFC 8738 §6 reverse name for an IP identifier ("4.3.2.1.in-addr.arpa" / nibble form under ip6.arpa), without
/// a trailing dot. Precondition: id.is_ip().
std::string reverse_name(const identifier& id);

/// Which sections of the Public Suffix List count (the list has an ICANN part and a PRIVATE part, e.g. github.io).
enum class suffix_section { icann, any };

/// True if `name` (lowercase A-label form, no trailing dot) is a public suffix. Names whose last label is not in the
/// list count as suffixes (the PSL's implicit "*" rule), so every single-label name is one.
bool is_public_suffix(std::string_view name, suffix_section section = suffix_section::any);

/// The registrable domain ("eTLD+1") of `name` (lowercase A-label form), e.g. "example.co.uk" for
/// "www.example.co.uk"; empty when `name` is itself a public suffix or not below one.
std::string registrable_domain(std::string_view name);

} // namespace mpic::net

template <>
struct std::is_error_code_enum<mpic::net::identifier_error> : std::true_type {};
