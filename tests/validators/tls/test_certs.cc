#include "tests/validators/tls/test_certs.hh"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

namespace mpic::validators::tls::testing {
namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

net::tls::evp_pkey_ptr new_key() {
    net::tls::evp_pkey_ptr key(EVP_EC_gen("P-256"));
    require(key != nullptr);
    return key;
}

void add_raw_extension(X509* cert, const char* oid, bool critical, const std::vector<std::uint8_t>& value) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
    require(obj != nullptr);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    require(ASN1_OCTET_STRING_set(data, value.data(), static_cast<int>(value.size())) == 1);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, critical ? 1 : 0, data);
    require(ext != nullptr);
    require(X509_add_ext(cert, ext, -1) == 1); // appends, duplicates allowed
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(obj);
}

void add_san(X509* cert, const cert_spec& spec) {
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    for (const auto& dns : spec.dns_sans) {
        GENERAL_NAME* name = GENERAL_NAME_new();
        ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
        require(ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) == 1);
        GENERAL_NAME_set0_value(name, GEN_DNS, ia5);
        sk_GENERAL_NAME_push(names, name);
    }
    for (const auto& ip : spec.ip_sans) {
        unsigned char bytes[16];
        const bool v6 = ip.find(':') != std::string::npos;
        require(inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), bytes) == 1);
        GENERAL_NAME* name = GENERAL_NAME_new();
        ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
        require(ASN1_OCTET_STRING_set(os, bytes, v6 ? 16 : 4) == 1);
        GENERAL_NAME_set0_value(name, GEN_IPADD, os);
        sk_GENERAL_NAME_push(names, name);
    }
    require(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_APPEND) == 1);
    GENERAL_NAMES_free(names);
}

} // namespace

std::vector<std::uint8_t> built_cert::der() const {
    unsigned char* out = nullptr;
    const int length = i2d_X509(cert.get(), &out);
    require(length > 0);
    std::vector<std::uint8_t> bytes(out, out + length);
    OPENSSL_free(out);
    return bytes;
}

std::vector<std::uint8_t> der_octet_string(const std::vector<std::uint8_t>& bytes) {
    // Built with reserve + push_back: GCC 12 at -O2 warns (-Wstringop-overread) on the initializer-list + insert form.
    std::vector<std::uint8_t> out;
    out.reserve(bytes.size() + 2);
    out.push_back(0x04);
    out.push_back(static_cast<std::uint8_t>(bytes.size()));
    for (auto b : bytes) {
        out.push_back(b);
    }
    return out;
}

built_cert build_cert(const cert_spec& spec, const acme_digest& digest) {
    built_cert built;
    built.key = new_key();
    built.cert.reset(X509_new());
    X509* cert = built.cert.get();
    require(X509_set_version(cert, 2) == 1);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
    require(X509_set_pubkey(cert, built.key.get()) == 1);
    X509_NAME* subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
    if (spec.self_signed) {
        require(X509_set_issuer_name(cert, subject) == 1);
    } else {
        X509_NAME* issuer = X509_NAME_new();
        X509_NAME_add_entry_by_NID(issuer, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("Some Other CA"), -1, -1, 0);
        require(X509_set_issuer_name(cert, issuer) == 1);
        X509_NAME_free(issuer);
    }
    if (spec.include_san) {
        add_san(cert, spec);
    }
    if (spec.include_acme) {
        const auto value = spec.acme_value ? *spec.acme_value : der_octet_string({digest.begin(), digest.end()});
        for (int i = 0; i < spec.acme_copies; ++i) {
            add_raw_extension(cert, "1.3.6.1.5.5.7.1.31", spec.acme_critical, value);
        }
    }
    for (int i = 0; i < spec.extra_extensions; ++i) {
        const std::string oid = "1.3.6.1.4.1.55555." + std::to_string(i + 1);
        add_raw_extension(cert, oid.c_str(), false, {0x05, 0x00});
    }
    auto signer = (spec.self_signed && !spec.wrong_key) ? nullptr : new_key();
    require(X509_sign(cert, signer ? signer.get() : built.key.get(), EVP_sha256()) > 0);
    return built;
}

} // namespace mpic::validators::tls::testing
