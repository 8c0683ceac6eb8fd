#pragma once
// The CAA issue-value grammar (RFC 8659 §4.2, with erratum 7139's names), shared by `issue`, `issuewild`,
// `issuemail` (RFC 9495 §3) and the BR 3.2.2.4.22 persistent DCV TXT record, plus the RFC 8657 §4
// `validationmethods` list. Pure functions over bytes: no I/O, no allocation beyond the returned values.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpic::validators {

/// One `tag=value` parameter of an issue-value, bytes as written (tag case preserved).
struct caa_parameter {
    std::string tag;
    std::string value;

    bool operator==(const caa_parameter&) const = default;
};

/// A parsed issue-value.
/// Invariants: when `well_formed` is false, `issuer_domain` and `parameters` are empty (RFC 8659 §4.2: a value that
/// does not match the grammar "MUST be treated the same as one specifying an empty issuer-domain-name").
/// `issuer_domain` never carries a trailing dot; it keeps the case written in the record.
struct issue_value {
    bool well_formed = false;
    std::string issuer_domain; ///< empty = "no issuer is authorized" by this property
    std::vector<caa_parameter> parameters;

    /// The parameters whose tag equals `tag`, ASCII case-insensitively, in record order.
    std::vector<std::string_view> parameter_values(std::string_view tag) const;
};

/// Parses `bytes` (a CAA property value or a TXT RDATA) against the RFC 8659 §4.2 ABNF:
///   issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
///   issuer-domain-name = label *("." label)
///   label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
///   parameters = (parameter *WSP ";" *WSP parameters) / parameter
///   parameter = parameter-tag *WSP "=" *WSP parameter-value
///   parameter-tag = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
///   parameter-value = *(%x21-3A / %x3C-7E)
/// WSP is SP or HTAB only. One deliberate leniency (standards §7.3): a single trailing dot after the issuer domain
/// name is accepted and dropped, because issuer matching ignores it. Never fails: malformed input yields
/// `well_formed == false` with an empty issuer.
issue_value parse_issue_value(std::string_view bytes);

/// True when `record_issuer` (from a record) names the same issuer as `configured` (one of the CA's Issuer Domain
/// Names, BR 3.2.2.8): ASCII case-insensitive (RFC 4343), ignoring one trailing dot on either side (standards §7.3;
/// Boulder compares exact strings). An empty `record_issuer` matches nothing.
bool caa_issuer_matches(std::string_view record_issuer, std::string_view configured) noexcept;

/// True when `text` matches `label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))` (RFC 8659 §4.2).
bool is_caa_label(std::string_view text) noexcept;

/// Parses an RFC 8657 §4 `validationmethods` value: `[*(label ",") label]`, `label = 1*(ALPHA / DIGIT / "-")`.
/// Returns the labels in order (possibly none for an empty value), or nullopt when the value is malformed.
std::optional<std::vector<std::string_view>> parse_validation_methods(std::string_view value);

} // namespace mpic::validators
