#pragma once
// The RFC 8737 §3 / RFC 8738 §6 checks on the certificate a TLS-ALPN-01 responder presents. Pure logic on an
// X509 the transport already received; no I/O. Every failure has a typed kind so the API reports
// "mpic_error:dcv_checker:tls_alpn:certificate:<kind>".

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/problem.hh"
#include "net/name/identifier.hh"

typedef struct x509_st X509; // NOLINT: OpenSSL's own forward declaration (openssl/types.h)

namespace mpic::validators::tls {

/// SHA-256 of a key authorization (RFC 8737 §3 "Authorization ::= OCTET STRING (SIZE (32))").
using acme_digest = std::array<std::uint8_t, 32>;

/// The ALPN protocol id of RFC 8737 §6.2.
inline constexpr std::string_view acme_tls_alpn_protocol = "acme-tls/1";

/// Why a responder certificate was refused. The suffix of the problem key is to_string(kind).
enum class certificate_problem : std::uint8_t {
    malformed,              ///< DER does not parse as one X.509 certificate (fuzz / DER entry point only)
    too_many_extensions,    ///< more extensions than max_extensions: refused before any per-extension work
    duplicate_extension,    ///< an extension OID occurs twice (RFC 5280 §4.2 "MUST NOT include more than one")
    not_self_signed,        ///< Subject != Issuer, or the signature does not verify with the certificate's own key
    san_missing,            ///< no subjectAltName extension
    san_count,              ///< subjectAltName has more or fewer than one entry (RFC 8737 §3 "and no other entries")
    san_mismatch,           ///< the single entry is of the wrong type or names something else
    extension_missing,      ///< no id-pe-acmeIdentifier extension
    extension_not_critical, ///< id-pe-acmeIdentifier present but not marked critical (RFC 8737 §3)
    digest_malformed,       ///< extnValue is not the DER of an OCTET STRING of exactly 32 bytes
    digest_mismatch,        ///< the 32 bytes differ from SHA-256(key authorization)
};

/// The kind as it appears in problem keys ("not_self_signed", ...).
std::string_view to_string(certificate_problem kind) noexcept;

/// A hostile certificate may carry thousands of extensions; more than this is refused (real ones carry < 20).
inline constexpr std::size_t max_extensions = 64;
/// Largest DER accepted by check_acme_certificate_der (the transport bounds a live certificate chain itself).
inline constexpr std::size_t max_certificate_der_bytes = 64 * 1024;

/// The outcome of the certificate checks. Invariant: passed() == !problem.
struct certificate_verdict {
    std::optional<certificate_problem> problem;
    std::string message;     ///< human detail of the failure; empty on success
    std::string common_name; ///< the subject CN as UTF-8-ish bytes (first 255), for the common_name detail
    bool passed() const noexcept { return !problem.has_value(); }
};

/// Decodes the request's key_authorization_hash: base64url of the 32-byte digest (43 characters, "=" padding
/// tolerated), or 64 hex digits (api.md "accept both"). nullopt for anything else (a parameter error).
std::optional<acme_digest> decode_key_authorization_hash(std::string_view text) noexcept;

/// Runs every RFC 8737 §3 check on `cert` for `id` and `expected`:
///  1. at most max_extensions extensions, no extension OID twice;
///  2. self-signed: Subject == Issuer and X509_verify with its own public key;
///  3. subjectAltName holds exactly one entry: a dNSName equal to id.name compared ASCII case-insensitively
///     (RFC 8737 §3, RFC 4343; standards §7.3 — Boulder compares bytes, T4), or for an IP identifier an iPAddress
///     of the same family and bytes (RFC 8738 §6);
///  4. id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31) present, critical, extnValue == DER OCTET STRING (SIZE 32) equal to
///     `expected` (constant-time compare).
/// The first failing check decides. Precondition: cert != nullptr; id is not a wildcard.
certificate_verdict check_acme_certificate(X509* cert, const net::identifier& id, const acme_digest& expected);

/// Parses `der` (exactly one certificate, no trailing bytes, at most max_certificate_der_bytes) and runs
/// check_acme_certificate. Entry point for the fuzzer and for callers holding raw bytes.
certificate_verdict check_acme_certificate_der(std::span<const std::uint8_t> der, const net::identifier& id,
                                               const acme_digest& expected);

/// The problem for a failed verdict: "mpic_error:dcv_checker:tls_alpn:certificate:<kind>". Precondition:
/// !verdict.passed().
problem to_problem(const certificate_verdict& verdict);

/// SHA-256 of `key_authorization`: what a responder's acmeIdentifier must carry (tests, tools).
acme_digest digest_of(std::string_view key_authorization);

} // namespace mpic::validators::tls
