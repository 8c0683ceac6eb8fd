// RFC 8737 §3 / RFC 8738 §6 certificate checks (standards §6 rows T2, T4, T6) on certificates built in-process.
#include <chrono>

#include <gtest/gtest.h>

#include "tests/validators/tls/test_certs.hh"
#include "validators/tls/acme_identifier.hh"

namespace mpic::validators::tls {
namespace {

using testing::build_cert;
using testing::cert_spec;

constexpr std::string_view key_auth =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

net::identifier dns_id(std::string name) {
    net::identifier id;
    id.kind = net::identifier::kind_t::dns;
    id.name = std::move(name);
    return id;
}

net::identifier ip_id(std::string text, bool v6) {
    net::identifier id;
    id.kind = net::identifier::kind_t::ip;
    id.name = std::move(text);
    id.is_ipv6 = v6;
    return id;
}

certificate_verdict check(const cert_spec& spec, const net::identifier& id = dns_id("example.com")) {
    const auto digest = digest_of(key_auth);
    auto built = build_cert(spec, digest);
    return check_acme_certificate(built.cert.get(), id, digest);
}

std::optional<certificate_problem> kind_of(const cert_spec& spec, const net::identifier& id = dns_id("example.com")) {
    return check(spec, id).problem;
}

TEST(acme_identifier, valid_certificate_passes_and_reports_common_name) {
    const auto verdict = check({});
    EXPECT_TRUE(verdict.passed()) << verdict.message;
    EXPECT_EQ(verdict.common_name, "acme responder");
    EXPECT_TRUE(verdict.message.empty());
}

TEST(acme_identifier, t4_uppercase_san_passes_case_insensitively) {
    cert_spec spec;
    spec.dns_sans = {"EXAMPLE.com"};
    EXPECT_TRUE(check(spec).passed()); // standards §7.3: RFC 8737 wins over Boulder's byte compare
}

TEST(acme_identifier, wrong_digest_fails) {
    cert_spec spec;
    const auto other = digest_of("other.key-authorization");
    spec.acme_value = testing::der_octet_string({other.begin(), other.end()});
    EXPECT_EQ(kind_of(spec), certificate_problem::digest_mismatch);
}

TEST(acme_identifier, t2_not_critical_fails) {
    cert_spec spec;
    spec.acme_critical = false;
    EXPECT_EQ(kind_of(spec), certificate_problem::extension_not_critical);
}

TEST(acme_identifier, extension_missing_fails) {
    cert_spec spec;
    spec.include_acme = false;
    EXPECT_EQ(kind_of(spec), certificate_problem::extension_missing);
}

TEST(acme_identifier, extra_san_fails) {
    cert_spec spec;
    spec.dns_sans = {"example.com", "www.example.com"};
    EXPECT_EQ(kind_of(spec), certificate_problem::san_count);
    cert_spec with_ip;
    with_ip.ip_sans = {"192.0.2.1"}; // dNSName plus an iPAddress: "no other entries"
    EXPECT_EQ(kind_of(with_ip), certificate_problem::san_count);
}

TEST(acme_identifier, wrong_or_missing_san_fails) {
    cert_spec wrong;
    wrong.dns_sans = {"example.org"};
    EXPECT_EQ(kind_of(wrong), certificate_problem::san_mismatch);
    cert_spec suffix;
    suffix.dns_sans = {"example.com.evil"};
    EXPECT_EQ(kind_of(suffix), certificate_problem::san_mismatch);
    cert_spec wildcard;
    wildcard.dns_sans = {"*.example.com"};
    EXPECT_EQ(kind_of(wildcard, dns_id("www.example.com")), certificate_problem::san_mismatch);
    cert_spec missing;
    missing.include_san = false;
    EXPECT_EQ(kind_of(missing), certificate_problem::san_missing);
    cert_spec empty;
    empty.dns_sans = {};
    EXPECT_EQ(kind_of(empty), certificate_problem::san_count);
}

TEST(acme_identifier, not_self_signed_fails) {
    cert_spec issued;
    issued.self_signed = false;
    EXPECT_EQ(kind_of(issued), certificate_problem::not_self_signed);
    cert_spec forged;
    forged.wrong_key = true; // Subject == Issuer but another key signed it
    EXPECT_EQ(kind_of(forged), certificate_problem::not_self_signed);
}

TEST(acme_identifier, malformed_digest_fails) {
    const auto digest = digest_of(key_auth);
    cert_spec short_digest; // 31 bytes
    short_digest.acme_value = testing::der_octet_string({digest.begin(), digest.end() - 1});
    EXPECT_EQ(kind_of(short_digest), certificate_problem::digest_malformed);
    cert_spec long_digest; // 33 bytes
    std::vector<std::uint8_t> longer(digest.begin(), digest.end());
    longer.push_back(0);
    long_digest.acme_value = testing::der_octet_string(longer);
    EXPECT_EQ(kind_of(long_digest), certificate_problem::digest_malformed);
    cert_spec raw; // the 32 bytes without the OCTET STRING wrapper
    raw.acme_value = std::vector<std::uint8_t>(digest.begin(), digest.end());
    EXPECT_EQ(kind_of(raw), certificate_problem::digest_malformed);
    cert_spec wrong_tag; // UTF8String instead of OCTET STRING
    auto tagged = testing::der_octet_string({digest.begin(), digest.end()});
    tagged[0] = 0x0c;
    wrong_tag.acme_value = tagged;
    EXPECT_EQ(kind_of(wrong_tag), certificate_problem::digest_malformed);
    cert_spec long_form; // BER long-form length 81 20: not DER
    std::vector<std::uint8_t> ber{0x04, 0x81, 0x20};
    ber.insert(ber.end(), digest.begin(), digest.end());
    long_form.acme_value = ber;
    EXPECT_EQ(kind_of(long_form), certificate_problem::digest_malformed);
    cert_spec empty;
    empty.acme_value = std::vector<std::uint8_t>{};
    EXPECT_EQ(kind_of(empty), certificate_problem::digest_malformed);
}

TEST(acme_identifier, duplicate_extension_fails) {
    cert_spec spec;
    spec.acme_copies = 2;
    EXPECT_EQ(kind_of(spec), certificate_problem::duplicate_extension);
}

TEST(acme_identifier, thousands_of_sans_are_bounded) {
    cert_spec spec;
    spec.dns_sans.clear();
    for (int i = 0; i < 5000; ++i) {
        spec.dns_sans.push_back("n" + std::to_string(i) + ".example.com");
    }
    const auto digest = digest_of(key_auth);
    auto built = build_cert(spec, digest);
    const auto start = std::chrono::steady_clock::now();
    const auto verdict = check_acme_certificate(built.cert.get(), dns_id("example.com"), digest);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(verdict.problem, certificate_problem::san_count);
    EXPECT_LT(took, std::chrono::seconds(1));
}

TEST(acme_identifier, thousands_of_extensions_are_refused_early) {
    cert_spec spec;
    spec.extra_extensions = 3000;
    EXPECT_EQ(kind_of(spec), certificate_problem::too_many_extensions);
    cert_spec some;
    some.extra_extensions = 10; // unrelated extensions are allowed (Boulder too)
    EXPECT_TRUE(check(some).passed());
}

TEST(acme_identifier, t6_ip_identifiers_need_a_single_ipaddress_san) {
    cert_spec v6;
    v6.dns_sans = {};
    v6.ip_sans = {"2001:db8::1"};
    EXPECT_TRUE(check(v6, ip_id("2001:db8::1", true)).passed());
    EXPECT_EQ(kind_of(v6, ip_id("2001:db8::2", true)), certificate_problem::san_mismatch);
    cert_spec v4;
    v4.dns_sans = {};
    v4.ip_sans = {"192.0.2.1"};
    EXPECT_TRUE(check(v4, ip_id("192.0.2.1", false)).passed());
    EXPECT_EQ(kind_of(v4, ip_id("::ffff:192.0.2.1", true)), certificate_problem::san_mismatch); // family differs
    cert_spec dns_for_ip;
    dns_for_ip.dns_sans = {"192.0.2.1"};
    EXPECT_EQ(kind_of(dns_for_ip, ip_id("192.0.2.1", false)), certificate_problem::san_mismatch);
    cert_spec ip_for_dns;
    ip_for_dns.dns_sans = {};
    ip_for_dns.ip_sans = {"192.0.2.1"};
    EXPECT_EQ(kind_of(ip_for_dns), certificate_problem::san_mismatch);
}

TEST(acme_identifier, der_entry_point) {
    const auto digest = digest_of(key_auth);
    auto built = build_cert({}, digest);
    auto der = built.der();
    EXPECT_TRUE(check_acme_certificate_der(der, dns_id("example.com"), digest).passed());
    auto trailing = der;
    trailing.push_back(0);
    EXPECT_EQ(check_acme_certificate_der(trailing, dns_id("example.com"), digest).problem,
              certificate_problem::malformed);
    std::vector<std::uint8_t> truncated(der.begin(), der.begin() + static_cast<long>(der.size() / 2));
    EXPECT_EQ(check_acme_certificate_der(truncated, dns_id("example.com"), digest).problem,
              certificate_problem::malformed);
    EXPECT_EQ(check_acme_certificate_der({}, dns_id("example.com"), digest).problem, certificate_problem::malformed);
    std::vector<std::uint8_t> huge(max_certificate_der_bytes + 1, 0x30);
    EXPECT_EQ(check_acme_certificate_der(huge, dns_id("example.com"), digest).problem, certificate_problem::malformed);
}

TEST(acme_identifier, problem_keys) {
    cert_spec spec;
    spec.acme_critical = false;
    const auto verdict = check(spec);
    const auto p = to_problem(verdict);
    EXPECT_EQ(p.type, "mpic_error:dcv_checker:tls_alpn:certificate:extension_not_critical");
    EXPECT_FALSE(p.message.empty());
    EXPECT_EQ(verdict.common_name, "acme responder"); // reported on failure too
}

TEST(acme_identifier, key_authorization_hash_accepts_base64url_and_hex) {
    const auto digest = digest_of(key_auth);
    std::string hex;
    static constexpr char digits[] = "0123456789abcdef";
    for (auto b : digest) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    EXPECT_EQ(decode_key_authorization_hash(hex), digest);
    std::string upper = hex;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(decode_key_authorization_hash(upper), digest);
    // RFC 8555 §8.4 style base64url of the digest: 43 characters.
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string encoded;
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : digest) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            encoded += b64[(acc >> bits) & 63];
        }
    }
    encoded += b64[(acc << (6 - bits)) & 63];
    ASSERT_EQ(encoded.size(), 43u);
    EXPECT_EQ(decode_key_authorization_hash(encoded), digest);
    EXPECT_EQ(decode_key_authorization_hash(encoded + "="), digest);
    EXPECT_FALSE(decode_key_authorization_hash(encoded.substr(1)));
    EXPECT_FALSE(decode_key_authorization_hash(encoded + "A"));
    std::string plus = encoded;
    plus[0] = '+';
    EXPECT_FALSE(decode_key_authorization_hash(plus)); // standard base64 alphabet is not base64url
    std::string bad_hex = hex;
    bad_hex[5] = 'g';
    EXPECT_FALSE(decode_key_authorization_hash(bad_hex));
    EXPECT_FALSE(decode_key_authorization_hash(""));
    // Non-zero padding bits in the last character: a second spelling of the same digest is refused.
    std::string noncanonical = encoded;
    noncanonical.back() = b64[(std::string_view(b64).find(encoded.back()) | 1)];
    if (noncanonical != encoded) {
        EXPECT_FALSE(decode_key_authorization_hash(noncanonical));
    }
}

} // namespace
} // namespace mpic::validators::tls
