#include "net/tls/client_context.hh"

#include <openssl/err.h>

#include "core/error.hh"

namespace mpic::net::tls {

result<client_context> client_context::create(const client_context_options& options) {
    ERR_clear_error();
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        return take_ssl_error(); // LCOV_EXCL_LINE: DefensiveCoding (allocation failure)
    }
    // RFC 8737 §4 and Boulder (va/http.go, va/tlsalpn.go): nothing older than TLS 1.2.
    if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
        return take_ssl_error(); // LCOV_EXCL_LINE: DefensiveCoding
    }
    // Every validation connection is a fresh handshake: a resumed session would let one check ride on the
    // certificate another check saw, and no ticket should outlive the check (BR §3.2.2.9 "MUST NOT be reused").
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
    // Partial writes never happen with memory BIOs, but the moving-buffer mode keeps SSL_write retries legal if a
    // custom BIO ever replaces them (style.md §11).
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);

    if (options.system_trust && SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
        return take_ssl_error();
    }
    if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1) {
        return take_ssl_error();
    }
    if (options.certificate_file.empty() != options.private_key_file.empty()) {
        return errc::invalid_argument;
    }
    if (!options.certificate_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.certificate_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx.get(), options.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx.get()) != 1) {
            return take_ssl_error();
        }
    }
    return client_context(std::move(ctx));
}

} // namespace mpic::net::tls
