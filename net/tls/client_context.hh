#pragma once
// One client SSL_CTX per reactor (style.md §4, §11): OpenSSL 3.0 contends on shared SSL_CTX locks across threads,
// so each loop builds its own and never hands it to another thread.

#include <string>

#include "core/result.hh"
#include "net/tls/ossl_ptr.hh"

namespace mpic::net::tls {

/// How a client context is built.
struct client_context_options {
    /// Load the system trust store (SSL_CTX_set_default_verify_paths). Sessions that verify use it.
    bool system_trust = true;
    /// An extra PEM file of trust anchors (tests, a private CA for perspective agents); empty = none.
    std::string ca_file;
    /// PEM certificate chain and private key presented to servers that ask (mutual TLS to perspective agents);
    /// both empty = no client certificate. Both must be set together.
    std::string certificate_file;
    std::string private_key_file;
};

/// Owns an SSL_CTX configured for our client role: TLS 1.2 minimum (Boulder rejects older; RFC 8737 §4 requires
/// TLS 1.2+ for tls-alpn-01), no compression, no renegotiation, session tickets ignored (every validation connection
/// is a fresh handshake). Verification is chosen per session (tls::verification), not here.
/// Invariant: native() is non-null. Not thread-safe: use from the owning reactor only.
class client_context {
public:
    /// Builds the context. Errors: ssl_category codes for an unreadable trust file, certificate or key.
    static result<client_context> create(const client_context_options& options = {});

    SSL_CTX* native() const noexcept { return _ctx.get(); }

private:
    explicit client_context(ssl_ctx_ptr ctx) noexcept : _ctx(std::move(ctx)) {}
    ssl_ctx_ptr _ctx;
};

} // namespace mpic::net::tls
