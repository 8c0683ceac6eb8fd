// Challenge certificate builder. Every deviation from RFC 8737 §3 lives here, in one switch per certificate part,
// so a test can state precisely which rule a given variant breaks.

#include "tools/mpic-lab/responders/alpn_cert.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstdio>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

namespace mpic::lab::responders {
namespace {

struct local_free {
    void operator()(ASN1_OBJECT* p) const noexcept { ASN1_OBJECT_free(p); }
    void operator()(ASN1_OCTET_STRING* p) const noexcept { ASN1_OCTET_STRING_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
    void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
    void operator()(GENERAL_NAME* p) const noexcept { GENERAL_NAME_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
template <class T>
using local_ptr = std::unique_ptr<T, local_free>;

constexpr const char* subject_cn = "mpic-lab acme-tls/1";
constexpr const char* fake_ca_cn = "mpic-lab separate CA";

std::string openssl_error(std::string_view what) {
    std::string msg(what);
    if (unsigned long e = ERR_get_error(); e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        msg += ": ";
        msg += buf;
    }
    ERR_clear_error();
    return msg;
}

evp_pkey_ptr new_p256_key() {
    return evp_pkey_ptr(EVP_EC_gen("P-256"));
}

// Raw address bytes of an IP literal, or empty.
std::vector<unsigned char> ip_bytes(std::string_view literal) {
    const std::string s(literal);
    unsigned char buf[16];
    if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
        return {buf, buf + 4};
    }
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        return {buf, buf + 16};
    }
    return {};
}

bool push_dns(GENERAL_NAMES* names, const std::string& dns) {
    local_ptr<GENERAL_NAME> gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || ia5 == nullptr || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
        ASN1_IA5STRING_free(ia5);
        return false;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5);
    return sk_GENERAL_NAME_push(names, gn.release()) > 0;
}

bool push_ip(GENERAL_NAMES* names, const std::vector<unsigned char>& ip) {
    local_ptr<GENERAL_NAME> gn(GENERAL_NAME_new());
    ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
    if (!gn || os == nullptr || ASN1_OCTET_STRING_set(os, ip.data(), static_cast<int>(ip.size())) != 1) {
        ASN1_OCTET_STRING_free(os);
        return false;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, os);
    return sk_GENERAL_NAME_push(names, gn.release()) > 0;
}

// The SAN per variant: RFC 8737 §3 "a single dNSName entry"; RFC 8738 §6 "a single iPAddress".
bool add_san(X509* cert, std::string_view name, alpn_variant variant, std::uint32_t many_sans_count) {
    local_ptr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
    if (!names) {
        return false;
    }
    const std::vector<unsigned char> ip = ip_bytes(name);
    bool ok = true;
    if (!ip.empty()) {
        // 192.0.2.1 / 2001:db8::1 (documentation ranges, RFC 5737 / RFC 3849) stand in for "another address".
        const std::vector<unsigned char> other = ip.size() == 4 ? ip_bytes("192.0.2.1") : ip_bytes("2001:db8::1");
        switch (variant) {
        case alpn_variant::wrong_san:
            ok = push_ip(names.get(), other);
            break;
        case alpn_variant::extra_san:
            ok = push_ip(names.get(), ip) && push_ip(names.get(), other);
            break;
        case alpn_variant::many_sans:
            ok = push_ip(names.get(), ip);
            for (std::uint32_t i = 1; ok && i < many_sans_count; ++i) {
                ok = push_dns(names.get(), "san" + std::to_string(i) + ".invalid");
            }
            break;
        default:
            ok = push_ip(names.get(), ip);
            break;
        }
    } else {
        std::string dns(name);
        switch (variant) {
        case alpn_variant::wrong_san:
            ok = push_dns(names.get(), "other." + dns);
            break;
        case alpn_variant::extra_san:
            ok = push_dns(names.get(), dns) && push_dns(names.get(), "extra." + dns);
            break;
        case alpn_variant::uppercase_san:
            std::transform(dns.begin(), dns.end(), dns.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            ok = push_dns(names.get(), dns);
            break;
        case alpn_variant::many_sans:
            ok = push_dns(names.get(), dns);
            for (std::uint32_t i = 1; ok && i < many_sans_count; ++i) {
                ok = push_dns(names.get(), "san" + std::to_string(i) + "." + dns);
            }
            break;
        default:
            ok = push_dns(names.get(), dns);
            break;
        }
    }
    return ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_APPEND) == 1;
}

// RFC 8737 §3: critical id-pe-acmeIdentifier, extnValue = DER(Authorization ::= OCTET STRING (SIZE (32))).
bool add_acme_identifier(X509* cert, std::string_view key_authorization, alpn_variant variant) {
    if (variant == alpn_variant::missing_extension) {
        return true;
    }
    std::string ka(key_authorization);
    if (variant == alpn_variant::wrong_digest) {
        ka += ".wrong";
    }
    const auto digest = key_authorization_digest(ka);
    const std::size_t len = variant == alpn_variant::digest_wrong_length ? digest.size() - 1 : digest.size();
    std::vector<unsigned char> der{0x04, static_cast<unsigned char>(len)};
    der.insert(der.end(), digest.begin(), digest.begin() + static_cast<std::ptrdiff_t>(len));

    local_ptr<ASN1_OBJECT> oid(OBJ_txt2obj(std::string(acme_identifier_oid).c_str(), 1));
    local_ptr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
    if (!oid || !value || ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size())) != 1) {
        return false;
    }
    const int critical = variant == alpn_variant::not_critical ? 0 : 1;
    const int copies = variant == alpn_variant::duplicate_extension ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        local_ptr<X509_EXTENSION> ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), critical, value.get()));
        if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
            return false;
        }
    }
    return true;
}

bool set_name(X509_NAME* name, const char* cn) {
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1,
                                      0) == 1;
}

bool set_serial_and_validity(X509* cert, bool expired) {
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        return false;
    }
    serial[0] &= 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
    local_ptr<BIGNUM> bn(BN_bin2bn(serial, sizeof serial, nullptr));
    if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
        return false;
    }
    const long hour = 3600;
    const long from = expired ? -30 * 24 * hour : -hour;
    const long to = expired ? -24 * hour : 7 * 24 * hour;
    return X509_gmtime_adj(X509_getm_notBefore(cert), from) != nullptr &&
           X509_gmtime_adj(X509_getm_notAfter(cert), to) != nullptr;
}

x509_ptr make_ca(EVP_PKEY* ca_key) {
    x509_ptr ca(X509_new());
    if (!ca || X509_set_version(ca.get(), 2) != 1 || !set_serial_and_validity(ca.get(), false) ||
        !set_name(X509_get_subject_name(ca.get()), fake_ca_cn) ||
        !set_name(X509_get_issuer_name(ca.get()), fake_ca_cn) || X509_set_pubkey(ca.get(), ca_key) != 1 ||
        X509_sign(ca.get(), ca_key, EVP_sha256()) <= 0) {
        return nullptr;
    }
    return ca;
}

} // namespace

std::array<unsigned char, 32> key_authorization_digest(std::string_view key_authorization) {
    std::array<unsigned char, 32> out{};
    SHA256(reinterpret_cast<const unsigned char*>(key_authorization.data()), key_authorization.size(), out.data());
    return out;
}

std::optional<std::string> reverse_name(std::string_view ip_literal) {
    const std::vector<unsigned char> ip = ip_bytes(ip_literal);
    if (ip.empty()) {
        return std::nullopt;
    }
    std::string out;
    if (ip.size() == 4) {
        for (int i = 3; i >= 0; --i) {
            out += std::to_string(ip[static_cast<std::size_t>(i)]) + ".";
        }
        return out + "in-addr.arpa";
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        const unsigned char b = ip[static_cast<std::size_t>(i)];
        out += hex[b & 0xf];
        out += '.';
        out += hex[b >> 4];
        out += '.';
    }
    return out + "ip6.arpa";
}

std::optional<alpn_certificate> build_alpn_certificate(std::string_view name, std::string_view key_authorization,
                                                       alpn_variant variant, std::uint32_t many_sans_count,
                                                       std::string* error) {
    auto fail = [&](std::string_view what) -> std::optional<alpn_certificate> {
        if (error != nullptr) {
            *error = openssl_error(what);
        } else {
            ERR_clear_error();
        }
        return std::nullopt;
    };
    alpn_certificate out;
    out.key = new_p256_key();
    out.cert.reset(X509_new());
    if (!out.key || !out.cert) {
        return fail("key generation");
    }
    X509* cert = out.cert.get();
    if (X509_set_version(cert, 2) != 1 || !set_serial_and_validity(cert, variant == alpn_variant::expired) ||
        !set_name(X509_get_subject_name(cert), subject_cn) || X509_set_pubkey(cert, out.key.get()) != 1) {
        return fail("certificate fields");
    }
    if (!add_san(cert, name, variant, std::max<std::uint32_t>(many_sans_count, 1)) ||
        !add_acme_identifier(cert, key_authorization, variant)) {
        return fail("certificate extensions");
    }
    EVP_PKEY* signer = out.key.get();
    evp_pkey_ptr ca_key;
    if (variant == alpn_variant::not_self_signed) {
        // Signed by a separate CA: issuer != subject and the signature does not verify with the cert's own key.
        ca_key = new_p256_key();
        if (!ca_key || !(out.issuer = make_ca(ca_key.get()))) {
            return fail("separate CA");
        }
        signer = ca_key.get();
        if (!set_name(X509_get_issuer_name(cert), fake_ca_cn)) {
            return fail("issuer name");
        }
    } else if (!set_name(X509_get_issuer_name(cert), subject_cn)) {
        return fail("issuer name");
    }
    if (X509_sign(cert, signer, EVP_sha256()) <= 0) {
        return fail("signing");
    }
    return out;
}

std::string to_pem(X509* cert) {
    local_ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return {};
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

std::string to_pem(EVP_PKEY* key) {
    local_ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return {};
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

std::vector<unsigned char> to_der(X509* cert) {
    unsigned char* buf = nullptr;
    const int n = i2d_X509(cert, &buf);
    if (n <= 0) {
        return {};
    }
    std::vector<unsigned char> out(buf, buf + n);
    OPENSSL_free(buf);
    return out;
}

} // namespace mpic::lab::responders
