// acme-tls-alpn-01 check against in-process TLS responders on loopback (standards §6 rows T1, T2, T4, T6 end to
// end; RFC 8737 §3 SNI/ALPN on the wire; RFC 8738 §6 reverse-name SNI for IP identifiers).
#include <gtest/gtest.h>

#include "tests/net/http/test_server.hh"
#include "tests/net/tls/test_pki.hh"
#include "tests/validators/http/check_fixture.hh"
#include "tests/validators/tls/test_certs.hh"

namespace mpic::validators {
namespace {

constexpr std::string_view key_auth =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

std::string hex_of(const tls::acme_digest& digest) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : digest) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string base64url_of(const tls::acme_digest& digest) {
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : digest) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += b64[(acc >> bits) & 63];
        }
    }
    out += b64[(acc << (6 - bits)) & 63];
    return out;
}

/// A TLS-ALPN-01 responder serving one certificate and selecting `alpn` when offered.
struct responder {
    responder(const tls::testing::cert_spec& spec, std::vector<std::string> alpn = {"acme-tls/1"},
              std::string bind = "127.0.0.1") {
        auto built = tls::testing::build_cert(spec, tls::digest_of(key_auth));
        identity.key = std::move(built.key);
        identity.cert = std::move(built.cert);
        ctx = test::make_server_ctx(identity, std::move(alpn), &obs);
        server = std::make_unique<test::test_server>([](test::server_conn& conn) { conn.drain_until_eof(); },
                                                     test::test_server_options{std::move(bind), ctx.get()});
    }
    std::uint16_t port() const { return server->port(); }

    test::key_and_cert identity;
    test::server_observations obs;
    net::tls::ssl_ctx_ptr ctx;
    std::unique_ptr<test::test_server> server; // stops (joins its threads) before ctx and obs go away
};

check_request alpn_request(std::string_view target) {
    auto request = test::make_request(target, validation_method::acme_tls_alpn_01);
    request.dcv.key_authorization_hash = base64url_of(tls::digest_of(key_auth));
    return request;
}

tls::testing::cert_spec ip_spec(std::string ip) {
    tls::testing::cert_spec spec;
    spec.dns_sans = {};
    spec.ip_sans = {std::move(ip)};
    return spec;
}

std::string first_error(const check_result& result) {
    return result.errors.empty() ? "" : result.errors[0].type;
}

TEST(tls_alpn01_check, passes_for_an_ip_with_reverse_name_sni_and_reports_common_name) {
    responder r(ip_spec("127.0.0.1"));
    test::check_fixture f({1, 1, r.port()});
    const auto result = f.run(&make_tls_alpn01_check, alpn_request("127.0.0.1"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed) << first_error(result) << " " << (result.errors.empty() ? "" : result.errors[0].message);
    EXPECT_EQ(result.method, validation_method::acme_tls_alpn_01);
    EXPECT_EQ(result.details.common_name, "acme responder");
    EXPECT_EQ(result.details.resolved_ip, "127.0.0.1");
    EXPECT_EQ(r.obs.sni, "1.0.0.127.in-addr.arpa");                        // RFC 8738 §6
    EXPECT_EQ(r.obs.offered_alpn, std::vector<std::string>{"acme-tls/1"}); // RFC 8737 §3: only acme-tls/1
    EXPECT_TRUE(f.dns.queries().empty());                                  // RFC 8738 §4
    EXPECT_GT(result.timings.tls_us, 0u);
}

TEST(tls_alpn01_check, t4_name_with_uppercase_san_passes_and_sni_is_the_name) {
    tls::testing::cert_spec spec;
    spec.dns_sans = {"WWW.Example.COM"};
    responder r(spec);
    test::check_fixture f({1, 1, r.port()});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {}});
    auto request = alpn_request("www.example.com");
    request.dcv.key_authorization_hash = hex_of(tls::digest_of(key_auth)); // api.md: hex accepted too
    const auto result = f.run(&make_tls_alpn01_check, request);
    EXPECT_TRUE(result.passed) << first_error(result);
    EXPECT_EQ(r.obs.sni, "www.example.com");
    EXPECT_GT(result.timings.dns_us, 0u);
}

TEST(tls_alpn01_check, t6_ipv6_identifier) {
    responder r(ip_spec("::1"), {"acme-tls/1"}, "::1");
    test::check_fixture f({1, 1, r.port()});
    const auto result = f.run(&make_tls_alpn01_check, alpn_request("::1"));
    EXPECT_TRUE(result.passed) << first_error(result);
    EXPECT_EQ(r.obs.sni, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
    EXPECT_EQ(result.details.resolved_ip, "::1");
}

TEST(tls_alpn01_check, ipv6_failure_falls_back_to_ipv4) {
    tls::testing::cert_spec spec;
    spec.dns_sans = {"www.example.com"};
    responder r(spec); // 127.0.0.1 only: the ::1 attempt is refused
    test::check_fixture f({1, 1, r.port()});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {"::1"}});
    const auto result = f.run(&make_tls_alpn01_check, alpn_request("www.example.com"));
    EXPECT_TRUE(result.passed) << first_error(result);
    EXPECT_EQ(result.details.resolved_ip, "127.0.0.1");
}

TEST(tls_alpn01_check, t1_no_alpn_negotiated_fails) {
    responder r(ip_spec("127.0.0.1"), {});
    test::check_fixture f({1, 1, r.port()});
    const auto result = f.run(&make_tls_alpn01_check, alpn_request("127.0.0.1"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(first_error(result), "mpic_error:dcv_checker:tls_alpn:alpn_not_negotiated");
}

TEST(tls_alpn01_check, t2_and_other_broken_certificates_fail_with_typed_errors) {
    struct variant {
        tls::testing::cert_spec spec;
        std::string kind;
    };
    std::vector<variant> variants;
    {
        auto s = ip_spec("127.0.0.1");
        s.acme_critical = false;
        variants.push_back({s, "extension_not_critical"});
    }
    {
        auto s = ip_spec("127.0.0.1");
        const auto other = tls::digest_of("other");
        s.acme_value = tls::testing::der_octet_string({other.begin(), other.end()});
        variants.push_back({s, "digest_mismatch"});
    }
    {
        auto s = ip_spec("127.0.0.1");
        s.dns_sans = {"example.com"};
        variants.push_back({s, "san_count"});
    }
    variants.push_back({ip_spec("127.0.0.2"), "san_mismatch"});
    {
        auto s = ip_spec("127.0.0.1");
        s.self_signed = false;
        variants.push_back({s, "not_self_signed"});
    }
    {
        auto s = ip_spec("127.0.0.1");
        s.include_acme = false;
        variants.push_back({s, "extension_missing"});
    }
    for (const auto& v : variants) {
        responder r(v.spec);
        test::check_fixture f({1, 1, r.port()});
        const auto result = f.run(&make_tls_alpn01_check, alpn_request("127.0.0.1"));
        EXPECT_TRUE(result.completed) << v.kind;
        EXPECT_FALSE(result.passed) << v.kind;
        EXPECT_EQ(first_error(result), "mpic_error:dcv_checker:tls_alpn:certificate:" + v.kind);
        EXPECT_EQ(result.details.common_name, "acme responder") << v.kind;
    }
}

TEST(tls_alpn01_check, parameter_errors) {
    test::check_fixture f({1, 1, 1});
    auto wildcard = alpn_request("*.example.com");
    auto bad_hash = alpn_request("127.0.0.1");
    bad_hash.dcv.key_authorization_hash = "not-a-digest";
    for (auto* req : {&wildcard, &bad_hash}) {
        const auto result = f.run(&make_tls_alpn01_check, *req);
        EXPECT_FALSE(result.passed);
        EXPECT_EQ(first_error(result), "mpic_error:dcv_checker:parameter");
    }
}

TEST(tls_alpn01_check, unreachable_responder_and_lookup_failure) {
    std::uint16_t closed_port = 0;
    {
        responder gone(ip_spec("127.0.0.1"));
        closed_port = gone.port();
    }
    test::check_fixture f({1, 1, closed_port});
    const auto refused = f.run(&make_tls_alpn01_check, alpn_request("127.0.0.1"));
    EXPECT_FALSE(refused.passed);
    EXPECT_EQ(first_error(refused), "mpic_error:dcv_checker:tls_alpn:handshake");
    const auto missing = f.run(&make_tls_alpn01_check, alpn_request("missing.example.com"));
    EXPECT_FALSE(missing.passed);
    EXPECT_EQ(first_error(missing), "mpic_error:dcv_checker:lookup");
}

TEST(tls_alpn01_check, deadline_bounds_a_responder_that_never_finishes_the_handshake) {
    test::test_server silent([](test::server_conn& conn) { conn.drain_until_eof(); }); // plain TCP, no TLS
    test::check_fixture f({1, 1, silent.port()});
    const auto result = f.run(&make_tls_alpn01_check, alpn_request("127.0.0.1"), 300);
    EXPECT_FALSE(result.completed);
    EXPECT_EQ(first_error(result), "mpic_error:dcv_checker:timeout");
}

} // namespace
} // namespace mpic::validators
