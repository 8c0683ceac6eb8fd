#pragma once
// RAII for OpenSSL objects (style.md §7, after Seastar's ssl_handle): ossl_ptr<T, F> is a unique_ptr whose deleter
// calls F, so no OpenSSL object on our paths is ever freed by hand.

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mpic::net::tls {

/// Deleter calling a free function; the function's return value (BIO_free returns int) is ignored.
template <auto Free>
struct fn_deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

/// An owning pointer to an OpenSSL object of type T released with Free.
template <class T, auto Free>
using ossl_ptr = std::unique_ptr<T, fn_deleter<Free>>;

using ssl_ctx_ptr = ossl_ptr<SSL_CTX, SSL_CTX_free>;
using ssl_ptr = ossl_ptr<SSL, SSL_free>;
using bio_ptr = ossl_ptr<BIO, BIO_free>;
using x509_ptr = ossl_ptr<X509, X509_free>;
using evp_pkey_ptr = ossl_ptr<EVP_PKEY, EVP_PKEY_free>;

/// Takes a new reference to `cert` (X509_up_ref) and returns it owned; nullptr in, nullptr out.
inline x509_ptr share(X509* cert) noexcept {
    if (cert != nullptr) {
        X509_up_ref(cert);
    }
    return x509_ptr(cert);
}

} // namespace mpic::net::tls
