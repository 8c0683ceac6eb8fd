#pragma once
// Test PKI: P-256 keys, self-signed certificates, a throw-away CA and leaves it signs, and server SSL_CTXs with
// SNI capture and ALPN selection. Shared by the TLS and HTTP client tests.

#include <string>
#include <vector>

#include "net/tls/client_context.hh"
#include "net/tls/ossl_ptr.hh"

namespace mpic::test {

struct key_and_cert {
    net::tls::evp_pkey_ptr key;
    net::tls::x509_ptr cert;
    std::string cert_pem;
};

/// A self-signed certificate for `cn` with the given DNS SANs.
key_and_cert make_self_signed(const std::string& cn, const std::vector<std::string>& dns_sans);
/// A CA certificate (basicConstraints CA:TRUE).
key_and_cert make_ca(const std::string& cn);
/// A leaf signed by `ca` with DNS and IP SANs.
key_and_cert make_leaf(const key_and_cert& ca, const std::string& cn, const std::vector<std::string>& dns_sans,
                       const std::vector<std::string>& ip_sans = {});
/// Writes `contents` to a fresh temporary file and returns its path (removed by the OS tmp cleaner; tiny).
std::string write_temp_file(const std::string& contents);

/// Client options trusting only `ca_file` (empty = nothing at all), not the system store.
inline net::tls::client_context_options trust_only(std::string ca_file) {
    net::tls::client_context_options o;
    o.system_trust = false;
    o.ca_file = std::move(ca_file);
    return o;
}

/// What a test TLS server saw during its handshakes (filled by the server callbacks).
struct server_observations {
    std::string sni;                       ///< last SNI received
    std::vector<std::string> offered_alpn; ///< last ALPN list offered by the client
};

/// A server SSL_CTX using `id`, selecting the first protocol of `alpn` that the client offers (none selected if
/// `alpn` is empty or nothing matches), recording SNI/ALPN into `*obs` (which must outlive the context).
net::tls::ssl_ctx_ptr make_server_ctx(const key_and_cert& id, std::vector<std::string> alpn, server_observations* obs);

} // namespace mpic::test
