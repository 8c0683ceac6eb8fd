#include "net/tls/session.hh"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "core/error.hh"
#include "net/addr/ip_address.hh"

namespace mpic::net::tls {
namespace {

// An IP literal is not a host name for SNI (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
bool is_ip_literal(std::string_view name) noexcept {
    return addr::ip_address::parse(name).has_value();
}

} // namespace

bool is_verification_failure(std::error_code ec) noexcept {
    if (ec.category() != ssl_category()) {
        return false;
    }
    const auto code = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
    return ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

session::session(ssl_ptr ssl, BIO* rbio, BIO* wbio) noexcept : _ssl(std::move(ssl)), _rbio(rbio), _wbio(wbio) {}

result<session> session::create(const client_context& context, const session_options& options) {
    if (!options.verify.enabled && options.verify.reason.empty()) {
        // Turning verification off is a decision someone must be able to read in the code and the logs.
        return errc::invalid_argument;
    }
    std::string alpn_wire;
    for (const auto& proto : options.alpn) {
        if (proto.empty() || proto.size() > 255) {
            return errc::invalid_argument; // RFC 7301 §3.1: ProtocolName is 1..255 bytes
        }
        alpn_wire.push_back(static_cast<char>(proto.size()));
        alpn_wire += proto;
    }

    ERR_clear_error();
    ssl_ptr ssl(SSL_new(context.native()));
    if (!ssl) {
        return take_ssl_error(); // LCOV_EXCL_LINE: DefensiveCoding
    }
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
        BIO_free(rbio);          // LCOV_EXCL_LINE: DefensiveCoding
        BIO_free(wbio);          // LCOV_EXCL_LINE
        return take_ssl_error(); // LCOV_EXCL_LINE
    }
    // An empty read BIO must report "retry" (WANT_READ), not EOF: BIO_s_mem's default -1 does that.
    BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr); // BIO_set_mem_eof_return, without its C cast
    SSL_set_bio(ssl.get(), rbio, wbio); // ownership moves to ssl
    SSL_set_connect_state(ssl.get());

    const bool send_sni = !options.sni.empty() && !is_ip_literal(options.sni);
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
    if (send_sni && SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                             const_cast<char*>(options.sni.c_str())) != 1) {
        return take_ssl_error();
    }
    if (!alpn_wire.empty() &&
        SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                            static_cast<unsigned>(alpn_wire.size())) != 0) { // returns 0 on success (sic)
        return take_ssl_error();
    }
    if (options.verify.enabled) {
        SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, nullptr);
        const std::string& host = options.verify.host.empty() ? options.sni : options.verify.host;
        if (host.empty()) {
            // Chain verification without a name check would accept any certificate from the trusted CAs.
            return errc::invalid_argument;
        }
        // SSL_set1_host handles DNS names; IP literals must be matched against iPAddress SANs instead.
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
        const int ok = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                           : SSL_set1_host(ssl.get(), host.c_str());
        if (ok != 1) {
            return take_ssl_error();
        }
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    } else {
        SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
    }
    return session(std::move(ssl), rbio, wbio);
}

void session::drain() noexcept {
    // Move everything OpenSSL wrote into our buffer so the transport can send it; style.md §11 "after every SSL_*
    // call, drain wbio".
    char buf[16 * 1024];
    for (;;) {
        const int n = BIO_read(_wbio, buf, static_cast<int>(sizeof buf));
        if (n <= 0) {
            break;
        }
        _out.append(buf, static_cast<std::size_t>(n));
    }
}

void session::receive(std::span<const char> ciphertext) noexcept {
    // Memory BIOs grow as needed; BIO_write only fails on allocation failure, which the next SSL call reports.
    std::size_t off = 0;
    while (off < ciphertext.size()) {
        const std::size_t chunk = std::min<std::size_t>(ciphertext.size() - off, 1u << 30);
        const int n = BIO_write(_rbio, ciphertext.data() + off, static_cast<int>(chunk));
        if (n <= 0) {
            break; // LCOV_EXCL_LINE: DefensiveCoding
        }
        off += static_cast<std::size_t>(n);
    }
}

result<bool> session::handshake() noexcept {
    if (_handshake_done) {
        return true;
    }
    ERR_clear_error();
    const int rc = SSL_do_handshake(_ssl.get());
    const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl.get(), rc);
    drain(); // also on failure: the alert we send tells the server why
    if (rc == 1) {
        _handshake_done = true;
        return true;
    }
    switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return false;
    case SSL_ERROR_ZERO_RETURN:
        return uv_error(UV_EOF);
    case SSL_ERROR_SYSCALL:
        // With memory BIOs there is no syscall; an empty error queue here means the peer's data ended early.
        if (ERR_peek_error() == 0) {
            return uv_error(UV_EOF);
        }
        return take_ssl_error();
    default:
        return take_ssl_error();
    }
}

result<void> session::write(std::span<const char> plaintext) noexcept {
    std::size_t off = 0;
    while (off < plaintext.size()) {
        ERR_clear_error();
        std::size_t written = 0;
        const int rc = SSL_write_ex(_ssl.get(), plaintext.data() + off, plaintext.size() - off, &written);
        const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl.get(), rc);
        drain();
        if (rc != 1) {
            if (err == SSL_ERROR_ZERO_RETURN) {
                return uv_error(UV_EPIPE);
            }
            return take_ssl_error();
        }
        off += written;
    }
    return {};
}

result<std::size_t> session::read(std::span<char> buf) noexcept {
    if (_peer_closed || buf.empty()) {
        return std::size_t{0};
    }
    ERR_clear_error();
    std::size_t got = 0;
    const int rc = SSL_read_ex(_ssl.get(), buf.data(), buf.size(), &got);
    const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(_ssl.get(), rc);
    drain(); // TLS 1.3 post-handshake messages (KeyUpdate) can make SSL_read write
    if (rc == 1) {
        return got;
    }
    switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return std::size_t{0};
    case SSL_ERROR_ZERO_RETURN:
        _peer_closed = true;
        return std::size_t{0};
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            return std::size_t{0}; // LCOV_EXCL_LINE: no syscall with memory BIOs
        }
        return take_ssl_error();
    default:
        return take_ssl_error();
    }
}

void session::close_notify() noexcept {
    ERR_clear_error();
    (void)SSL_shutdown(_ssl.get()); // one direction: we do not wait for the peer's close_notify
    drain();
    ERR_clear_error();
}

std::string session::take_output() noexcept {
    std::string out;
    out.swap(_out);
    return out;
}

std::string_view session::alpn() const noexcept {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(_ssl.get(), &data, &len);
    if (data == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(data), len};
}

x509_ptr session::peer_certificate() const noexcept {
    return x509_ptr(SSL_get1_peer_certificate(_ssl.get()));
}

std::vector<x509_ptr> session::peer_chain() const {
    std::vector<x509_ptr> chain;
    // On the client side SSL_get_peer_cert_chain includes the end-entity certificate first.
    STACK_OF(X509)* stack = SSL_get_peer_cert_chain(_ssl.get());
    if (stack == nullptr) {
        return chain;
    }
    const int n = sk_X509_num(stack);
    chain.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        chain.push_back(share(sk_X509_value(stack, i)));
    }
    return chain;
}

long session::verify_result() const noexcept {
    return SSL_get_verify_result(_ssl.get());
}

std::string_view session::version() const noexcept {
    return SSL_get_version(_ssl.get());
}

} // namespace mpic::net::tls
