#pragma once
// TLS-ALPN-01 challenge certificates (RFC 8737 §3, RFC 8738 §6) and their deliberate deviations, for the lab's
// mpic-lab-alpn responder and for unit tests of the TLS-ALPN validator that need the very same certificates.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders {

/// Deleter for the OpenSSL objects held below.
struct openssl_free {
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using x509_ptr = std::unique_ptr<X509, openssl_free>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;

/// The id-pe-acmeIdentifier OID (RFC 8737 §6.1).
inline constexpr std::string_view acme_identifier_oid = "1.3.6.1.5.5.7.1.31";

/// The ALPN protocol ID of RFC 8737 §6.2.
inline constexpr std::string_view acme_tls_alpn = "acme-tls/1";

/// SHA-256(key_authorization): the value of the Authorization OCTET STRING (RFC 8737 §3).
std::array<unsigned char, 32> key_authorization_digest(std::string_view key_authorization);

/// RFC 8738 §6 SNI for an IP identifier: "4.3.2.1.in-addr.arpa" / nibble-reversed "...ip6.arpa", lower case, no
/// trailing dot. nullopt if `ip_literal` is not an IPv4/IPv6 literal.
std::optional<std::string> reverse_name(std::string_view ip_literal);

/// A challenge certificate and its private key. Invariant: cert's public key matches key; issuer is non-null only
/// for alpn_variant::not_self_signed (it is the separate CA certificate that signed cert).
struct alpn_certificate {
    evp_pkey_ptr key;
    x509_ptr cert;
    x509_ptr issuer;
};

/// Builds the certificate for `name` (A-label domain or IP literal) carrying SHA-256(key_authorization), deviating
/// from RFC 8737 §3 as `variant` says (see alpn_variant). Keys are fresh P-256 keys; signatures ECDSA-SHA256.
/// Valid certificates have subject = issuer = CN "mpic-lab acme-tls/1", a non-critical SAN with exactly one
/// dNSName (or iPAddress), a critical acmeIdentifier extension whose extnValue is DER OCTET STRING (SIZE (32)),
/// and a validity of now-1h .. now+7d. alpn_variant::no_alpn yields a valid certificate (the variant is about the
/// handshake). Returns nullopt and sets *error on an OpenSSL failure.
std::optional<alpn_certificate> build_alpn_certificate(std::string_view name, std::string_view key_authorization,
                                                       alpn_variant variant, std::uint32_t many_sans_count = 5000,
                                                       std::string* error = nullptr);

/// PEM / DER encodings (empty on failure).
std::string to_pem(X509* cert);
std::string to_pem(EVP_PKEY* key);
std::vector<unsigned char> to_der(X509* cert);

} // namespace mpic::lab::responders
