#include "validators/tls/acme_identifier.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <memory>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/ascii.hh"
#include "core/sha256.hh"

namespace mpic::validators::tls {
namespace {

template <auto Fn>
struct fn_deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};
using x509_ptr = std::unique_ptr<X509, fn_deleter<X509_free>>;
using asn1_object_ptr = std::unique_ptr<ASN1_OBJECT, fn_deleter<ASN1_OBJECT_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, fn_deleter<GENERAL_NAMES_free>>;

// RFC 8737 §6.1: id-pe-acmeIdentifier OBJECT IDENTIFIER ::= { id-pe 31 }. OpenSSL 3.0 has no NID for it.
constexpr std::string_view acme_identifier_oid = "1.3.6.1.5.5.7.1.31";

certificate_verdict fail(certificate_problem kind, std::string message) {
    certificate_verdict verdict;
    verdict.problem = kind;
    verdict.message = std::move(message);
    return verdict;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int base64url_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

std::string subject_common_name(X509* cert) {
    const X509_NAME* subject = X509_get_subject_name(cert);
    if (subject == nullptr) {
        return {};
    }
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) {
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    if (data == nullptr) {
        return {};
    }
    const auto length = static_cast<std::size_t>(std::max(0, ASN1_STRING_length(data)));
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)), std::min<std::size_t>(length, 255)};
}

// RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension." Compared on the
// OID's DER bytes, sorted, so thousands of extensions cost n log n rather than n² (and are capped first anyway).
std::optional<certificate_verdict> check_extension_set(X509* cert) {
    const int count = X509_get_ext_count(cert);
    if (count < 0 || static_cast<std::size_t>(count) > max_extensions) {
        return fail(certificate_problem::too_many_extensions,
                    "certificate carries " + std::to_string(count) + " extensions");
    }
    std::vector<std::string> oids;
    oids.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const ASN1_OBJECT* obj = X509_EXTENSION_get_object(X509_get_ext(cert, i));
        const auto length = OBJ_length(obj);
        oids.emplace_back(reinterpret_cast<const char*>(OBJ_get0_data(obj)), length);
    }
    std::sort(oids.begin(), oids.end());
    if (std::adjacent_find(oids.begin(), oids.end()) != oids.end()) {
        return fail(certificate_problem::duplicate_extension, "an extension occurs more than once");
    }
    return std::nullopt;
}

// RFC 8737 §3: "The certificate MUST be self-signed" — same name as issuer and subject, and the signature checks
// out under the certificate's own key (Boulder checks both as well).
std::optional<certificate_verdict> check_self_signed(X509* cert) {
    if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0) {
        return fail(certificate_problem::not_self_signed, "subject and issuer differ");
    }
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (key == nullptr || X509_verify(cert, key) != 1) {
        ERR_clear_error();
        return fail(certificate_problem::not_self_signed, "signature does not verify with the certificate's key");
    }
    return std::nullopt;
}

bool dns_name_equal(const ASN1_IA5STRING* value, std::string_view expected) {
    const auto length = ASN1_STRING_length(value);
    if (length < 0 || static_cast<std::size_t>(length) != expected.size()) {
        return false;
    }
    const auto* bytes = ASN1_STRING_get0_data(value);
    // RFC 8737 §3: "The comparison of dNSNames MUST be case insensitive [RFC4343]" (standards §7.3, T4). ASCII-only
    // folding: names are A-labels, and the identifier is already lowercase.
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (core::ascii_lower(static_cast<char>(bytes[i])) != expected[i]) {
            return false;
        }
    }
    return true;
}

bool ip_equal(const ASN1_OCTET_STRING* value, const net::identifier& id) {
    unsigned char expected[16] = {};
    const int family = id.is_ipv6 ? AF_INET6 : AF_INET;
    if (inet_pton(family, id.name.c_str(), expected) != 1) {
        return false; // LCOV_EXCL_LINE: DefensiveCoding (identifier invariant: canonical text)
    }
    const auto want = static_cast<int>(id.is_ipv6 ? 16 : 4);
    return ASN1_STRING_length(value) == want &&
           CRYPTO_memcmp(ASN1_STRING_get0_data(value), expected, static_cast<std::size_t>(want)) == 0;
}

// RFC 8737 §3: SAN "containing a single dNSName entry corresponding to the domain name being validated" and "no
// other entries"; RFC 8738 §6: for IP identifiers "a single iPAddress" instead.
std::optional<certificate_verdict> check_san(X509* cert, const net::identifier& id) {
    int critical = 0;
    general_names_ptr names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
    if (!names) {
        return fail(certificate_problem::san_missing, "no subjectAltName extension");
    }
    const int count = sk_GENERAL_NAME_num(names.get());
    if (count != 1) {
        return fail(certificate_problem::san_count,
                    "subjectAltName has " + std::to_string(count) + " entries, expected exactly one");
    }
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
    if (id.is_ip()) {
        if (name->type != GEN_IPADD || !ip_equal(name->d.iPAddress, id)) {
            return fail(certificate_problem::san_mismatch, "subjectAltName is not the iPAddress " + id.name);
        }
    } else if (name->type != GEN_DNS || !dns_name_equal(name->d.dNSName, id.name)) {
        return fail(certificate_problem::san_mismatch, "subjectAltName is not the dNSName " + id.name);
    }
    return std::nullopt;
}

std::optional<certificate_verdict> check_acme_extension(X509* cert, const acme_digest& expected) {
    static const asn1_object_ptr oid(OBJ_txt2obj(std::string(acme_identifier_oid).c_str(), 1));
    const int index = X509_get_ext_by_OBJ(cert, oid.get(), -1);
    if (index < 0) {
        return fail(certificate_problem::extension_missing, "no id-pe-acmeIdentifier extension");
    }
    X509_EXTENSION* extension = X509_get_ext(cert, index);
    // RFC 8737 §3: "a critical acmeIdentifier extension" (T2).
    if (X509_EXTENSION_get_critical(extension) != 1) {
        return fail(certificate_problem::extension_not_critical, "id-pe-acmeIdentifier is not critical");
    }
    // RFC 8737 §3: "The extnValue of the id-pe-acmeIdentifier extension is the ASN.1 DER encoding of the
    // Authorization structure" = OCTET STRING (SIZE (32)): exactly 04 20 followed by 32 bytes. DER has one length
    // form for 32, so anything else (long-form length, 31 or 33 bytes, another type) is malformed.
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(extension);
    const auto length = ASN1_STRING_length(value);
    const auto* bytes = ASN1_STRING_get0_data(value);
    if (length != 34 || bytes[0] != 0x04 || bytes[1] != 0x20) {
        return fail(certificate_problem::digest_malformed,
                    "id-pe-acmeIdentifier is not a DER OCTET STRING of 32 bytes (" + std::to_string(length) +
                        " bytes of extnValue)");
    }
    if (CRYPTO_memcmp(bytes + 2, expected.data(), expected.size()) != 0) {
        return fail(certificate_problem::digest_mismatch,
                    "id-pe-acmeIdentifier differs from SHA-256(keyAuthorization)");
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(certificate_problem kind) noexcept {
    switch (kind) {
    case certificate_problem::malformed:
        return "malformed";
    case certificate_problem::too_many_extensions:
        return "too_many_extensions";
    case certificate_problem::duplicate_extension:
        return "duplicate_extension";
    case certificate_problem::not_self_signed:
        return "not_self_signed";
    case certificate_problem::san_missing:
        return "san_missing";
    case certificate_problem::san_count:
        return "san_count";
    case certificate_problem::san_mismatch:
        return "san_mismatch";
    case certificate_problem::extension_missing:
        return "extension_missing";
    case certificate_problem::extension_not_critical:
        return "extension_not_critical";
    case certificate_problem::digest_malformed:
        return "digest_malformed";
    case certificate_problem::digest_mismatch:
        return "digest_mismatch";
    }
    return "unknown"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::optional<acme_digest> decode_key_authorization_hash(std::string_view text) noexcept {
    acme_digest out{};
    if (text.size() == 64) {
        for (std::size_t i = 0; i < 32; ++i) {
            const int hi = hex_value(text[2 * i]);
            const int lo = hex_value(text[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
        }
        return out;
    }
    if (text.size() == 44 && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() != 43) {
        return std::nullopt;
    }
    // 43 base64url characters = 258 bits; the last character carries 2 bits of padding that must be zero
    // (RFC 4648 §3.5 canonical encoding), so one digest has exactly one accepted spelling.
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t pos = 0;
    for (char c : text) {
        const int v = base64url_value(c);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[pos++] = static_cast<std::uint8_t>((acc >> bits) & 0xffu);
        }
    }
    if ((acc & ((1u << bits) - 1u)) != 0) {
        return std::nullopt;
    }
    return out;
}

certificate_verdict check_acme_certificate(X509* cert, const net::identifier& id, const acme_digest& expected) {
    if (auto failed = check_extension_set(cert)) {
        return *failed;
    }
    certificate_verdict verdict;
    verdict.common_name = subject_common_name(cert);
    std::optional<certificate_verdict> failed = check_self_signed(cert);
    if (!failed) {
        failed = check_san(cert, id);
    }
    if (!failed) {
        failed = check_acme_extension(cert, expected);
    }
    if (failed) {
        failed->common_name = std::move(verdict.common_name);
        return *failed;
    }
    return verdict;
}

certificate_verdict check_acme_certificate_der(std::span<const std::uint8_t> der, const net::identifier& id,
                                               const acme_digest& expected) {
    if (der.empty() || der.size() > max_certificate_der_bytes) {
        return fail(certificate_problem::malformed, "certificate DER is empty or too large");
    }
    const unsigned char* cursor = der.data();
    x509_ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!cert || cursor != der.data() + der.size()) {
        ERR_clear_error();
        return fail(certificate_problem::malformed, "certificate DER does not parse");
    }
    return check_acme_certificate(cert.get(), id, expected);
}

problem to_problem(const certificate_verdict& verdict) {
    const auto kind = verdict.problem.value_or(certificate_problem::malformed);
    return problem::make(problem_component::dcv_checker, "tls_alpn:certificate:" + std::string(to_string(kind)),
                         verdict.message);
}

acme_digest digest_of(std::string_view key_authorization) {
    return core::sha256({key_authorization});
}

} // namespace mpic::validators::tls
