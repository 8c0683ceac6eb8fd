#pragma once
// Server-side TLS over memory BIOs for the API listener and the perspective agents: a per-reactor SSL_CTX with our
// certificate, optionally requiring a client certificate that chains to a given CA (mutual TLS between coordinator
// and perspectives, BR.md 1207), and a session state machine the connection feeds with ciphertext.

#include <span>
#include <string>

#include "core/result.hh"
#include "net/tls/ossl_ptr.hh"

namespace mpic::net::server {

/// Files of a TLS listener.
struct tls_server_options {
    std::string certificate_file; ///< PEM chain, leaf first
    std::string private_key_file; ///< PEM key
    /// When set, clients must present a certificate chaining to these anchors (mutual TLS); the handshake fails
    /// otherwise. Empty = no client certificate requested.
    std::string client_ca_file;
};

/// One SSL_CTX for the server role. TLS 1.2 minimum, no compression, no renegotiation, ALPN http/1.1 only.
/// Not thread-safe: one per reactor (style.md §11).
class tls_server_context {
public:
    static result<tls_server_context> create(const tls_server_options& options);
    SSL_CTX* native() const noexcept { return _ctx.get(); }
    bool requires_client_certificate() const noexcept { return _mutual; }

private:
    tls_server_context(tls::ssl_ctx_ptr ctx, bool mutual) : _ctx(std::move(ctx)), _mutual(mutual) {}
    tls::ssl_ctx_ptr _ctx;
    bool _mutual = false;
};

/// A server TLS session. Usage as tls::session: receive() ciphertext, advance handshake(), read() plaintext,
/// write() plaintext, flush take_output() to the socket after every call.
class tls_server_session {
public:
    static result<tls_server_session> create(const tls_server_context& context);
    void receive(std::span<const char> ciphertext) noexcept;
    /// True once the handshake completed; false while it needs more input. Errors: ssl_category codes.
    result<bool> handshake() noexcept;
    bool handshake_done() const noexcept { return _done; }
    /// Decrypted bytes into buf (0 = need more input or peer closed). Precondition: handshake_done().
    result<std::size_t> read(std::span<char> buf) noexcept;
    result<void> write(std::span<const char> plaintext) noexcept;
    bool has_output() const noexcept;
    std::string take_output() noexcept;
    /// The verified client certificate's subject (RFC 2253 form), empty when none was presented.
    std::string peer_subject() const;

private:
    explicit tls_server_session(tls::ssl_ptr ssl) : _ssl(std::move(ssl)) {}
    void drain() noexcept;
    tls::ssl_ptr _ssl;
    BIO* _rbio = nullptr; ///< owned by _ssl
    BIO* _wbio = nullptr; ///< owned by _ssl
    std::string _out;
    bool _done = false;
};

} // namespace mpic::net::server
