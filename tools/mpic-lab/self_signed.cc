// Built with the OpenSSL API rather than by running `openssl req`: one process less in the start-up path (the
// issue budgets 2 s for a whole scenario) and errors that carry OpenSSL's own reason code.

#include "tools/mpic-lab/self_signed.hh"

#include <cstdio>
#include <memory>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/error.hh"

namespace mpic::lab {

namespace {

template <class T, void (*F)(T*)>
struct ossl_deleter {
    void operator()(T* p) const noexcept { F(p); }
};
template <class T, void (*F)(T*)>
using ossl_ptr = std::unique_ptr<T, ossl_deleter<T, F>>;

struct file_closer {
    void operator()(FILE* f) const noexcept { std::fclose(f); }
};

bool add_ext(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ossl_ptr<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

} // namespace

result<void> write_self_signed(const std::vector<std::string>& names, const std::string& cert_path,
                               const std::string& key_path) {
    ERR_clear_error();
    ossl_ptr<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
    ossl_ptr<X509, X509_free> cert(X509_new());
    if (!key || !cert) {
        return take_ssl_error();
    }
    X509_set_version(cert.get(), 2); // v3
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const std::string cn = names.empty() ? "mpic-lab" : names.front();
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), subject);
    std::string san;
    for (const std::string& n : names) {
        san += "DNS:" + n + ",";
    }
    san += "IP:127.0.0.1";
    if (!add_ext(cert.get(), NID_subject_alt_name, san) ||
        !add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        return take_ssl_error();
    }
    std::unique_ptr<FILE, file_closer> key_file(std::fopen(key_path.c_str(), "wb"));
    if (!key_file) {
        return std::error_code(errno, std::generic_category());
    }
    chmod(key_path.c_str(), 0600);
    if (PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return take_ssl_error();
    }
    std::unique_ptr<FILE, file_closer> cert_file(std::fopen(cert_path.c_str(), "wb"));
    if (!cert_file) {
        return std::error_code(errno, std::generic_category());
    }
    if (PEM_write_X509(cert_file.get(), cert.get()) != 1) {
        return take_ssl_error();
    }
    return {};
}

} // namespace mpic::lab
