#pragma once
// The contract between a perspective check and whoever counts it (quorum/). A check looks at one identifier from
// one perspective and reports what it saw; it does not know how its result is counted (design.md "Layers").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/problem.hh"
#include "net/name/identifier.hh"

namespace mpic::validators {

/// What a check verifies: CAA permission (BR 3.2.2.8) or domain/IP control (DCV, BR 3.2.2.4 / 3.2.2.5).
enum class check_type : std::uint8_t { caa, dcv };

/// The DCV methods of api.md, each tied to its BR section.
enum class validation_method : std::uint8_t {
    website_change,         ///< BR 3.2.2.4.18
    acme_http_01,           ///< BR 3.2.2.4.19, RFC 8555 §8.3
    acme_dns_01,            ///< BR 3.2.2.4.7, RFC 8555 §8.4
    acme_tls_alpn_01,       ///< BR 3.2.2.4.20, RFC 8737
    dns_change,             ///< BR 3.2.2.4.7
    dns_persistent,         ///< BR 3.2.2.4.22
    dns_account_01,         ///< BR 3.2.2.4.21
    contact_email_txt,      ///< BR 3.2.2.4.14
    contact_phone_txt,      ///< BR 3.2.2.4.17
    contact_email_caa,      ///< BR 3.2.2.4.13
    contact_phone_caa,      ///< BR 3.2.2.4.16
    ip_address,             ///< BR 3.2.2.4.8
    reverse_address_lookup, ///< BR 3.2.2.5.3
};

/// The API spelling ("acme-http-01", ...).
std::string_view to_string(validation_method method) noexcept;
/// Parses the API spelling; nullopt for an unknown method.
std::optional<validation_method> parse_validation_method(std::string_view text) noexcept;

/// The record type a dns-change or ip-address check queries (api.md `dns_record_type`).
enum class dns_record_type : std::uint8_t { txt, cname, caa, a, aaaa, ptr };
/// The API spelling ("TXT", "CNAME", ...).
std::string_view to_string(dns_record_type type) noexcept;

/// The certificate a CAA check is for: `issue`/`issuewild` (TLS server) or `issuemail` (S/MIME, RFC 9495).
enum class certificate_type : std::uint8_t { tls_server, s_mime };

/// DCV parameters, the union of every method's fields (api.md); only the fields of `method` are meaningful.
/// Invariant after the API layer validated them: the fields `method` needs are present and well-formed.
struct dcv_parameters {
    validation_method method = validation_method::acme_dns_01;
    std::string challenge_value;     ///< website-change, dns-change, contact-*, ip-address, reverse
    std::string http_token_path;     ///< website-change
    std::string url_scheme = "http"; ///< website-change: "http" or "https"
    std::vector<std::pair<std::string, std::string>> http_headers; ///< website-change, acme-http-01
    std::optional<std::string> match_regex;                        ///< website-change
    bool require_exact_case = true;                                ///< website-change, dns-change (TXT)
    std::string token;                                             ///< acme-http-01
    std::string key_authorization;                                 ///< acme-http-01
    std::string key_authorization_hash; ///< acme-dns-01, acme-tls-alpn-01 (base64url; tls-alpn also hex)
    dns_record_type record_type = dns_record_type::txt; ///< dns-change, ip-address
    std::optional<std::string> dns_name_prefix;         ///< dns-change, contact-*-caa, reverse-address-lookup
    bool require_exact_match = false;                   ///< dns-change
    std::vector<std::string> issuer_domain_names;       ///< dns-persistent
    std::string expected_account_uri;                   ///< dns-persistent, dns-account-01
};

/// CAA parameters (api.md + our RFC 8657 inputs).
struct caa_parameters {
    certificate_type cert_type = certificate_type::tls_server;
    std::vector<std::string> caa_domains;         ///< normalised issuer domains; empty = configured default
    bool allow_lookup_failure = false;            ///< standards §7.2
    std::optional<std::string> account_uri;       ///< RFC 8657 §3 input
    std::optional<std::string> validation_method; ///< RFC 8657 §4 input ("http-01", "dns-01", "ca-…")
};

/// One check to run from one perspective. Shared read-only by every perspective of a request.
struct check_request {
    check_type type = check_type::dcv;
    net::identifier target;
    dcv_parameters dcv;
    caa_parameters caa;
    std::string trace_id;
    /// True for the primary perspective: DNSSEC failures seen here are never treated as permission (BR 3.2.2.8.1).
    bool primary = false;
};

/// One hop of an HTTP exchange (api.md `response_history`).
struct http_hop {
    int status = 0;
    std::string url;
};

/// Phase timings in microseconds; 0 = phase not reached. `total_us` runs from start to result.
struct check_timings {
    std::uint32_t queue_us = 0;
    std::uint32_t dns_us = 0;
    std::uint32_t connect_us = 0;
    std::uint32_t tls_us = 0;
    std::uint32_t first_byte_us = 0;
    std::uint32_t body_us = 0;
    std::uint32_t total_us = 0;
};

/// What a check saw, by kind (api.md "Details by kind"); fields of other kinds stay empty.
struct check_details {
    // CAA
    bool caa_record_present = false;
    // DNS (CAA shares found_at and records_seen)
    std::string found_at;
    std::vector<std::string> records_seen; ///< presentation form; TXT/CAA values as escaped bytes
    std::string response_code;             ///< "NOERROR", "NXDOMAIN", "SERVFAIL", ... of the deciding query
    bool ad_flag = false;
    std::vector<std::string> cname_chain;
    // HTTP
    std::vector<http_hop> response_history;
    std::string response_url;
    int response_status_code = 0;
    std::string response_page; ///< first bytes of the final body, raw (the API base64-encodes it)
    std::string resolved_ip;
    // TLS-ALPN
    std::string common_name;
    /// Facts a reader needs that no other field carries (e.g. "no CAA lookup for an IP address (BR 3.2.2.8)",
    /// "CAA lookup failure tolerated: allow_lookup_failure"). Rendered as `notes` in the API and the audit record.
    std::vector<std::string> notes;
};

/// The outcome of one check from one perspective.
/// Invariants: passed implies completed and errors.empty(); a cancelled or timed-out check has completed == false.
struct check_result {
    bool completed = false; ///< the check reached a determination (pass or a definite fail)
    bool passed = false;
    std::vector<problem> errors;
    std::int64_t timestamp_ns = 0; ///< wall clock when the result was produced
    check_type type = check_type::dcv;
    std::optional<validation_method> method; ///< for dcv
    check_details details;
    check_timings timings;
};

} // namespace mpic::validators
