#include "tests/net/tls/test_pki.hh"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace mpic::test {
namespace {

using net::tls::evp_pkey_ptr;
using net::tls::x509_ptr;

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

evp_pkey_ptr make_key() {
    evp_pkey_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

std::string to_pem(X509* cert) {
    net::tls::bio_ptr bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long len = BIO_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data); // BIO_get_mem_data without its C cast
    return std::string(data, static_cast<std::size_t>(len));
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

key_and_cert build(const std::string& cn, const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                   bool is_ca, const key_and_cert* issuer) {
    key_and_cert out;
    out.key = make_key();
    out.cert.reset(X509_new());
    X509* c = out.cert.get();
    X509_set_version(c, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600);
    X509_set_pubkey(c, out.key.get());
    X509_NAME* name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : c;
    X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
    if (is_ca) {
        add_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    std::string san;
    for (const auto& d : dns) {
        san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    }
    for (const auto& ip : ips) {
        san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    }
    if (!san.empty()) {
        add_ext(c, issuer_cert, NID_subject_alt_name, san);
    }
    EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : out.key.get();
    check(X509_sign(c, signer, EVP_sha256()) > 0, "X509_sign");
    out.cert_pem = to_pem(c);
    return out;
}

int alpn_select(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void* arg) {
    auto* wanted = static_cast<std::vector<std::string>*>(arg);
    auto* obs = static_cast<server_observations*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0));
    if (obs != nullptr) {
        obs->offered_alpn.clear();
        for (unsigned i = 0; i < inlen;) {
            const unsigned len = in[i];
            obs->offered_alpn.emplace_back(reinterpret_cast<const char*>(in + i + 1), len);
            i += 1 + len;
        }
    }
    for (const auto& w : *wanted) {
        for (unsigned i = 0; i < inlen;) {
            const unsigned len = in[i];
            if (len == w.size() && std::equal(w.begin(), w.end(), reinterpret_cast<const char*>(in + i + 1))) {
                *out = in + i + 1;
                *outlen = static_cast<unsigned char>(len);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    return SSL_TLSEXT_ERR_NOACK; // no overlap: continue without ALPN (RFC 7301 allows the server to ignore)
}

int servername_cb(SSL* ssl, int* alert, void* arg) {
    (void)alert;
    auto* obs = static_cast<server_observations*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (obs != nullptr) {
        obs->sni = name != nullptr ? name : "";
    }
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

key_and_cert make_self_signed(const std::string& cn, const std::vector<std::string>& dns_sans) {
    return build(cn, dns_sans, {}, false, nullptr);
}

key_and_cert make_ca(const std::string& cn) {
    return build(cn, {}, {}, true, nullptr);
}

key_and_cert make_leaf(const key_and_cert& ca, const std::string& cn, const std::vector<std::string>& dns_sans,
                       const std::vector<std::string>& ip_sans) {
    return build(cn, dns_sans, ip_sans, false, &ca);
}

std::string write_temp_file(const std::string& contents) {
    char path[] = "/tmp/mpic-test-XXXXXX";
    const int fd = mkstemp(path);
    check(fd >= 0, "mkstemp");
    const bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
    ::close(fd);
    check(ok, "write");
    return path;
}

net::tls::ssl_ctx_ptr make_server_ctx(const key_and_cert& id, std::vector<std::string> alpn, server_observations* obs) {
    net::tls::ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    check(ctx != nullptr, "SSL_CTX_new");
    check(SSL_CTX_use_certificate(ctx.get(), id.cert.get()) == 1, "use_certificate");
    check(SSL_CTX_use_PrivateKey(ctx.get(), id.key.get()) == 1, "use_PrivateKey");
    // The ALPN list must outlive the context: it is leaked into the context's ex_data lifetime via a static list.
    static std::vector<std::unique_ptr<std::vector<std::string>>> keep;
    keep.push_back(std::make_unique<std::vector<std::string>>(std::move(alpn)));
    SSL_CTX_set_alpn_select_cb(ctx.get(), &alpn_select, keep.back().get());
    SSL_CTX_set_ex_data(ctx.get(), 0, obs);
    // SSL_CTX_set_tlsext_servername_callback/_arg are macros with C casts; these are their expansions.
    SSL_CTX_callback_ctrl(ctx.get(), SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, reinterpret_cast<void (*)()>(&servername_cb));
    SSL_CTX_ctrl(ctx.get(), SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0, obs);
    return ctx;
}

} // namespace mpic::test
