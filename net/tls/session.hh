#pragma once
// A client TLS session over memory BIOs (style.md §11): the socket layer feeds ciphertext in with receive() and
// sends whatever take_output() returns; the session never touches a socket, so it runs on the loop without blocking
// and is testable without one. Every SSL_* call is preceded by ERR_clear_error() and followed by a drain of the
// write BIO into the output buffer, so no ciphertext is ever left behind in OpenSSL.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/result.hh"
#include "net/tls/client_context.hh"
#include "net/tls/ossl_ptr.hh"

namespace mpic::net::tls {

/// Certificate verification for one session: on (chain to the context's trust store plus host-name check) or
/// explicitly off with a reason. Off is for the cases the standards name: tls-alpn-01 (RFC 8737 §3, the certificate
/// is self-signed by design) and HTTPS redirects of http-01 (Boulder InsecureSkipVerify, standards §5.6).
struct verification {
    bool enabled = true;
    /// Name the certificate must match when enabled (DNS name or IP literal); empty = the session's SNI.
    std::string host;
    /// Why verification is off; required (non-empty) when !enabled, kept for logs and audit.
    std::string reason;

    /// Verification on, checking `host` (empty = SNI).
    static verification peer(std::string host = {}) { return {true, std::move(host), {}}; }
    /// Verification off. Precondition: `why` is non-empty.
    static verification off(std::string why) { return {false, {}, std::move(why)}; }
};

/// Per-session parameters.
struct session_options {
    /// SNI host name (RFC 6066 §3). Empty = no SNI; an IP literal is never sent as SNI (RFC 6066 §3 forbids it) and
    /// is treated as empty.
    std::string sni;
    /// ALPN protocols offered, in preference order (RFC 7301), e.g. {"acme-tls/1"}. Empty = no ALPN extension.
    /// Each entry must be 1..255 bytes.
    std::vector<std::string> alpn;
    verification verify;
};

/// True when `ec` is the handshake failure OpenSSL reports for a certificate that did not verify
/// (SSL_R_CERTIFICATE_VERIFY_FAILED); the detail is then in session::verify_result().
bool is_verification_failure(std::error_code ec) noexcept;

/// A client-side TLS state machine. Movable, not copyable. Not thread-safe.
/// Usage: create(); handshake() and flush take_output(); on each socket read receive() then handshake() until it
/// returns true; then write()/read(). Invariant: after every public call, all ciphertext OpenSSL produced is in the
/// output buffer (has_output()).
class session {
public:
    /// Creates the SSL object with memory BIOs, SNI, ALPN and verification. Errors: errc::invalid_argument for an
    /// empty `verify.reason` with verification off or a bad ALPN entry; ssl_category codes from OpenSSL.
    static result<session> create(const client_context& context, const session_options& options);

    /// Appends ciphertext received from the peer.
    void receive(std::span<const char> ciphertext) noexcept;

    /// Advances the handshake: true when complete, false when it needs more input (flush take_output() and wait
    /// for receive()). Errors: ssl_category codes (is_verification_failure() tells a bad certificate apart),
    /// uv_category UV_EOF if the peer closed mid-handshake.
    result<bool> handshake() noexcept;
    bool handshake_done() const noexcept { return _handshake_done; }

    /// Encrypts `plaintext` entirely into the output buffer. Precondition: handshake_done().
    result<void> write(std::span<const char> plaintext) noexcept;

    /// Decrypts into `buf`: the number of bytes written, 0 when no complete record is buffered (wait for input) or
    /// the peer sent close_notify (then peer_closed() is true). Precondition: handshake_done().
    result<std::size_t> read(std::span<char> buf) noexcept;
    /// The peer sent close_notify.
    bool peer_closed() const noexcept { return _peer_closed; }

    /// Queues our close_notify (SSL_shutdown, one direction); the caller flushes take_output() before closing.
    void close_notify() noexcept;

    bool has_output() const noexcept { return !_out.empty(); }
    /// Moves out the ciphertext waiting to be sent; the buffer is empty afterwards.
    std::string take_output() noexcept;

    /// Negotiated ALPN protocol; empty when the server selected none (RFC 7301 §3.2). Valid after the handshake.
    std::string_view alpn() const noexcept;
    /// The server's end-entity certificate (a new reference), nullptr if none. Valid after the handshake.
    x509_ptr peer_certificate() const noexcept;
    /// The certificates the server sent, end-entity first (new references). Valid after the handshake.
    std::vector<x509_ptr> peer_chain() const;
    /// X509_V_OK or the X509_V_ERR_* of the verification (meaningful when verification was on).
    long verify_result() const noexcept;
    /// Negotiated protocol version text, e.g. "TLSv1.3".
    std::string_view version() const noexcept;

    SSL* native() const noexcept { return _ssl.get(); }

private:
    explicit session(ssl_ptr ssl, BIO* rbio, BIO* wbio) noexcept;
    void drain() noexcept;

    ssl_ptr _ssl;
    BIO* _rbio = nullptr; ///< owned by _ssl (SSL_set_bio); ciphertext from the peer
    BIO* _wbio = nullptr; ///< owned by _ssl; ciphertext for the peer, drained after every SSL_* call
    std::string _out;     ///< drained ciphertext not yet taken by the transport
    bool _handshake_done = false;
    bool _peer_closed = false;
};

} // namespace mpic::net::tls
