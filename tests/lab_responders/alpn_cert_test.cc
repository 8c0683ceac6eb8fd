// The TLS-ALPN-01 certificate builder: each variant breaks exactly the RFC 8737 §3 rule it names, and the valid
// certificate meets every rule (checked with OpenSSL's own parsers, not with the builder's code).

#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "tools/mpic-lab/responders/alpn_cert.hh"

namespace mpic::lab::responders {
namespace {

struct san_entry {
    int type;
    std::string value; // dNSName text, or raw address bytes
};

std::vector<san_entry> sans(X509* cert, int* critical = nullptr) {
    int crit = -1;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr));
    std::vector<san_entry> out;
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        int type = 0;
        auto* v = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(gn, &type));
        out.push_back({type, std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                                         static_cast<std::size_t>(ASN1_STRING_length(v)))});
    }
    GENERAL_NAMES_free(names);
    if (critical != nullptr) {
        *critical = crit;
    }
    return out;
}

std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> acme_oid() {
    return {OBJ_txt2obj(std::string(acme_identifier_oid).c_str(), 1), ASN1_OBJECT_free};
}

// All acmeIdentifier extensions: (critical, extnValue bytes).
std::vector<std::pair<bool, std::string>> acme_extensions(X509* cert) {
    auto oid = acme_oid();
    std::vector<std::pair<bool, std::string>> out;
    for (int i = X509_get_ext_by_OBJ(cert, oid.get(), -1); i >= 0; i = X509_get_ext_by_OBJ(cert, oid.get(), i)) {
        X509_EXTENSION* ext = X509_get_ext(cert, i);
        const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
        out.emplace_back(X509_EXTENSION_get_critical(ext) == 1,
                         std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                                     static_cast<std::size_t>(ASN1_STRING_length(data))));
    }
    return out;
}

std::string expected_ext_value(std::string_view key_authorization) {
    const auto d = key_authorization_digest(key_authorization);
    return std::string("\x04\x20", 2) + std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

bool self_signed(X509* cert) {
    return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
           X509_verify(cert, X509_get0_pubkey(cert)) == 1;
}

alpn_certificate build(std::string_view name, alpn_variant v, std::uint32_t many = 5000) {
    std::string err;
    auto c = build_alpn_certificate(name, "tok.thumb", v, many, &err);
    EXPECT_TRUE(c.has_value()) << err;
    return c ? std::move(*c) : alpn_certificate{};
}

TEST(AlpnCert, DigestIsSha256OfKeyAuthorization) {
    // SHA-256("abc") from FIPS 180-2 appendix B.1.
    const auto d = key_authorization_digest("abc");
    EXPECT_EQ(d[0], 0xba);
    EXPECT_EQ(d[1], 0x78);
    EXPECT_EQ(d[31], 0xad);
}

TEST(AlpnCert, ReverseNamesFollowRfc8738) {
    EXPECT_EQ(reverse_name("192.0.2.7"), "7.2.0.192.in-addr.arpa");
    EXPECT_EQ(reverse_name("2001:db8::1"), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    EXPECT_EQ(reverse_name("example.test"), std::nullopt);
    EXPECT_EQ(reverse_name("1.2.3"), std::nullopt);
}

TEST(AlpnCert, ValidMeetsEveryRfc8737Rule) {
    auto c = build("example.test", alpn_variant::valid);
    ASSERT_TRUE(c.cert);
    EXPECT_TRUE(self_signed(c.cert.get()));
    EXPECT_FALSE(c.issuer);
    EXPECT_EQ(X509_check_private_key(c.cert.get(), c.key.get()), 1);
    const auto s = sans(c.cert.get());
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].type, GEN_DNS);
    EXPECT_EQ(s[0].value, "example.test");
    const auto ext = acme_extensions(c.cert.get());
    ASSERT_EQ(ext.size(), 1u);
    EXPECT_TRUE(ext[0].first);
    EXPECT_EQ(ext[0].second, expected_ext_value("tok.thumb"));
    EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(c.cert.get())), 0);
    EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(c.cert.get())), 0);
    EXPECT_FALSE(to_pem(c.cert.get()).empty());
    EXPECT_FALSE(to_pem(c.key.get()).empty());
    const auto der = to_der(c.cert.get());
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> back(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
    ASSERT_TRUE(back);
    EXPECT_EQ(X509_cmp(back.get(), c.cert.get()), 0);
}

TEST(AlpnCert, IpIdentifierGetsASingleIpAddressSan) {
    auto c = build("192.0.2.7", alpn_variant::valid);
    const auto s = sans(c.cert.get());
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].type, GEN_IPADD);
    EXPECT_EQ(s[0].value, std::string("\xc0\x00\x02\x07", 4));
    auto v6 = build("2001:db8::5", alpn_variant::extra_san);
    const auto s6 = sans(v6.cert.get());
    ASSERT_EQ(s6.size(), 2u);
    EXPECT_EQ(s6[0].value.size(), 16u);
    EXPECT_EQ(s6[1].type, GEN_IPADD);
}

TEST(AlpnCert, ExtensionVariants) {
    auto wrong = build("example.test", alpn_variant::wrong_digest);
    auto e = acme_extensions(wrong.cert.get());
    ASSERT_EQ(e.size(), 1u);
    EXPECT_TRUE(e[0].first);
    EXPECT_EQ(e[0].second.size(), 34u);
    EXPECT_NE(e[0].second, expected_ext_value("tok.thumb"));

    auto nc = build("example.test", alpn_variant::not_critical);
    e = acme_extensions(nc.cert.get());
    ASSERT_EQ(e.size(), 1u);
    EXPECT_FALSE(e[0].first);
    EXPECT_EQ(e[0].second, expected_ext_value("tok.thumb"));

    auto missing = build("example.test", alpn_variant::missing_extension);
    EXPECT_TRUE(acme_extensions(missing.cert.get()).empty());

    auto shortd = build("example.test", alpn_variant::digest_wrong_length);
    e = acme_extensions(shortd.cert.get());
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].second.size(), 33u);
    EXPECT_EQ(e[0].second.substr(0, 2), std::string("\x04\x1f", 2));

    auto dup = build("example.test", alpn_variant::duplicate_extension);
    EXPECT_EQ(acme_extensions(dup.cert.get()).size(), 2u);
}

TEST(AlpnCert, SanVariants) {
    auto extra = build("example.test", alpn_variant::extra_san);
    auto s = sans(extra.cert.get());
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].value, "example.test");
    EXPECT_EQ(s[1].value, "extra.example.test");

    auto wrong = build("example.test", alpn_variant::wrong_san);
    s = sans(wrong.cert.get());
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].value, "other.example.test");

    auto upper = build("example.test", alpn_variant::uppercase_san);
    s = sans(upper.cert.get());
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].value, "EXAMPLE.TEST");

    auto many = build("example.test", alpn_variant::many_sans, 3000);
    s = sans(many.cert.get());
    ASSERT_EQ(s.size(), 3000u);
    EXPECT_EQ(s[0].value, "example.test");
    EXPECT_EQ(s[2999].value, "san2999.example.test");
    EXPECT_EQ(acme_extensions(many.cert.get()).size(), 1u);
}

TEST(AlpnCert, NotSelfSignedIsSignedBySeparateCa) {
    auto c = build("example.test", alpn_variant::not_self_signed);
    ASSERT_TRUE(c.issuer);
    EXPECT_FALSE(self_signed(c.cert.get()));
    EXPECT_NE(X509_verify(c.cert.get(), X509_get0_pubkey(c.cert.get())), 1);
    EXPECT_EQ(X509_verify(c.cert.get(), X509_get0_pubkey(c.issuer.get())), 1);
    EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.cert.get()), X509_get_subject_name(c.issuer.get())), 0);
    // Everything else is as in a valid certificate.
    EXPECT_EQ(sans(c.cert.get()).size(), 1u);
    EXPECT_EQ(acme_extensions(c.cert.get()).at(0).second, expected_ext_value("tok.thumb"));
}

TEST(AlpnCert, ExpiredHasNotAfterInThePast) {
    auto c = build("example.test", alpn_variant::expired);
    EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(c.cert.get())), 0);
    EXPECT_TRUE(self_signed(c.cert.get()));
}

TEST(AlpnCert, EachCertificateHasAFreshKeyAndSerial) {
    auto a = build("example.test", alpn_variant::valid);
    auto b = build("example.test", alpn_variant::valid);
    EXPECT_NE(EVP_PKEY_eq(a.key.get(), b.key.get()), 1);
    EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert.get()), X509_get0_serialNumber(b.cert.get())), 0);
}

} // namespace
} // namespace mpic::lab::responders
