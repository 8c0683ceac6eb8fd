#include "net/server/tls_server.hh"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mpic::net::server {
namespace {

// ALPN: we speak HTTP/1.1 only; a client offering nothing we know still gets HTTP/1.1 (RFC 7301 §3.2 allows the
// server to not select).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
    static const unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof http11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

result<tls_server_context> tls_server_context::create(const tls_server_options& options) {
    ERR_clear_error();
    tls::ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        return take_ssl_error();
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.certificate_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx.get(), options.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
        return take_ssl_error();
    }
    const bool mutual = !options.client_ca_file.empty();
    if (mutual) {
        if (SSL_CTX_load_verify_locations(ctx.get(), options.client_ca_file.c_str(), nullptr) != 1) {
            return take_ssl_error();
        }
        // Only certificates chaining to the coordinator's CA get in: perspective agents accept nobody else.
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
    return tls_server_context(std::move(ctx), mutual);
}

result<tls_server_session> tls_server_session::create(const tls_server_context& context) {
    ERR_clear_error();
    tls::ssl_ptr ssl(SSL_new(context.native()));
    if (!ssl) {
        return take_ssl_error();
    }
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
        BIO_free(rbio);
        BIO_free(wbio);
        return take_ssl_error();
    }
    BIO_set_mem_eof_return(rbio, -1); // an empty read buffer means "wait", not EOF
    SSL_set_bio(ssl.get(), rbio, wbio);
    SSL_set_accept_state(ssl.get());
    tls_server_session session(std::move(ssl));
    session._rbio = rbio;
    session._wbio = wbio;
    return session;
}

void tls_server_session::receive(std::span<const char> ciphertext) noexcept {
    if (!ciphertext.empty()) {
        BIO_write(_rbio, ciphertext.data(), static_cast<int>(ciphertext.size()));
    }
}

void tls_server_session::drain() noexcept {
    char buf[16384];
    int n;
    while ((n = BIO_read(_wbio, buf, sizeof buf)) > 0) {
        _out.append(buf, static_cast<std::size_t>(n));
    }
}

result<bool> tls_server_session::handshake() noexcept {
    if (_done) {
        return true;
    }
    ERR_clear_error();
    int rc = SSL_do_handshake(_ssl.get());
    drain();
    if (rc == 1) {
        _done = true;
        return true;
    }
    int err = SSL_get_error(_ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return false;
    }
    return take_ssl_error();
}

result<std::size_t> tls_server_session::read(std::span<char> buf) noexcept {
    ERR_clear_error();
    int n = SSL_read(_ssl.get(), buf.data(), static_cast<int>(buf.size()));
    drain();
    if (n > 0) {
        return static_cast<std::size_t>(n);
    }
    int err = SSL_get_error(_ssl.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_ZERO_RETURN) {
        return std::size_t{0};
    }
    return take_ssl_error();
}

result<void> tls_server_session::write(std::span<const char> plaintext) noexcept {
    ERR_clear_error();
    std::size_t written = 0;
    while (written < plaintext.size()) {
        int n = SSL_write(_ssl.get(), plaintext.data() + written, static_cast<int>(plaintext.size() - written));
        drain();
        if (n <= 0) {
            return take_ssl_error();
        }
        written += static_cast<std::size_t>(n);
    }
    return {};
}

bool tls_server_session::has_output() const noexcept {
    return !_out.empty();
}

std::string tls_server_session::take_output() noexcept {
    return std::exchange(_out, {});
}

std::string tls_server_session::peer_subject() const {
    tls::x509_ptr cert(SSL_get1_peer_certificate(_ssl.get()));
    if (!cert) {
        return {};
    }
    tls::bio_ptr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

} // namespace mpic::net::server
