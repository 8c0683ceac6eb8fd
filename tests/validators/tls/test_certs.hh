#pragma once
// In-process builder of TLS-ALPN-01 responder certificates, valid and broken in every way RFC 8737 §3 cares about.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/tls/ossl_ptr.hh"
#include "validators/tls/acme_identifier.hh"

namespace mpic::validators::tls::testing {

/// What the certificate looks like. The defaults give a valid certificate for "example.com".
struct cert_spec {
    std::string common_name = "acme responder";
    std::vector<std::string> dns_sans{"example.com"};
    std::vector<std::string> ip_sans; ///< textual IPv4/IPv6
    bool include_san = true;
    /// extnValue bytes of id-pe-acmeIdentifier; nullopt = DER OCTET STRING of `digest`.
    std::optional<std::vector<std::uint8_t>> acme_value;
    bool include_acme = true;
    bool acme_critical = true;
    int acme_copies = 1;      ///< >1 = duplicate extension
    int extra_extensions = 0; ///< filler extensions with distinct private OIDs
    bool self_signed = true;  ///< false: issuer name differs and another key signs
    bool wrong_key = false;   ///< self-named but signed by another key
};

/// A certificate and its private key (for serving it).
struct built_cert {
    net::tls::x509_ptr cert;
    net::tls::evp_pkey_ptr key;
    std::vector<std::uint8_t> der() const;
};

/// Builds the certificate; aborts the test binary on an OpenSSL failure (test helper only).
built_cert build_cert(const cert_spec& spec, const acme_digest& digest);

/// DER of OCTET STRING(bytes): 04 <len> bytes (short form only; bytes.size() < 128).
std::vector<std::uint8_t> der_octet_string(const std::vector<std::uint8_t>& bytes);

} // namespace mpic::validators::tls::testing
