// acme-tls-alpn-01 (validators/tls/*) through validators::start_check against the lab's TLS-ALPN responder
// (mpic-lab-alpn), issue #5: standards §6 T1, T2, T4, T6 and every certificate variant the responder can serve,
// IPv6 -> IPv4 fallback, an unknown SNI and a per-perspective forged certificate.
// Scenario: tools/mpic-lab/scenarios/checks-tls-alpn.toml; port 443 is mapped to tls_alpn_port() (lab mode).

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;

struct alpn_scenario {
    static std::string file() { return lab::scenario_file("checks-tls-alpn.toml"); }
};

constexpr std::string_view key_authorization = "tok-alpn.thumb";

class checks_tls_alpn : public lab::lab_fixture<alpn_scenario> {
protected:
    check_result run(std::string_view target, int k = 1, std::chrono::milliseconds* elapsed = nullptr) {
        lab_perspective p(lab(), at(k));
        return p.run(tls_alpn_request(target, key_authorization), 5000, elapsed);
    }
};

void expect_passed(const check_result& r) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_TRUE(r.errors.empty()) << first_error(r);
}

void expect_failed(const check_result& r, std::string_view key) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, key) << r.errors[0].message;
}

TEST_F(checks_tls_alpn, valid_certificate_passes_with_details) {
    auto r = run("valid.alpn.chk");
    expect_passed(r);
    EXPECT_EQ(r.details.common_name, "mpic-lab acme-tls/1");
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
    EXPECT_GT(r.timings.tls_us, 0U);
}

TEST_F(checks_tls_alpn, t1_no_alpn_negotiated_fails) {
    expect_failed(run("no-alpn.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:alpn_not_negotiated");
}

TEST_F(checks_tls_alpn, t2_acme_identifier_not_critical_fails) {
    expect_failed(run("not-critical.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:extension_not_critical");
}

TEST_F(checks_tls_alpn, t4_uppercase_san_passes_case_insensitively) {
    expect_passed(run("uppercase-san.alpn.chk")); // standards §7.3 (Boulder would refuse)
}

TEST_F(checks_tls_alpn, wrong_digest_fails) {
    expect_failed(run("wrong-digest.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:digest_mismatch");
}

TEST_F(checks_tls_alpn, digest_of_wrong_length_fails) {
    expect_failed(run("digest-wrong-length.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:digest_malformed");
}

TEST_F(checks_tls_alpn, extra_san_fails) {
    expect_failed(run("extra-san.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:san_count");
}

TEST_F(checks_tls_alpn, wrong_san_fails) {
    expect_failed(run("wrong-san.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:san_mismatch");
}

TEST_F(checks_tls_alpn, missing_extension_fails) {
    expect_failed(run("missing-extension.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:extension_missing");
}

TEST_F(checks_tls_alpn, duplicate_extension_fails) {
    expect_failed(run("duplicate-extension.alpn.chk"),
                  "mpic_error:dcv_checker:tls_alpn:certificate:duplicate_extension");
}

TEST_F(checks_tls_alpn, not_self_signed_fails) {
    expect_failed(run("not-self-signed.alpn.chk"), "mpic_error:dcv_checker:tls_alpn:certificate:not_self_signed");
}

TEST_F(checks_tls_alpn, expired_certificate_passes) {
    // RFC 8737 §3 asks for no validity check on the self-signed responder certificate.
    expect_passed(run("expired.alpn.chk"));
}

TEST_F(checks_tls_alpn, five_thousand_sans_fail_fast_with_bounded_memory) {
    // ~120 KB of certificate: OpenSSL's default max_cert_list (100 KiB) refuses it inside the handshake, before any
    // certificate parsing of ours (with a smaller list the check would report certificate:san_count).
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run("many-sans.alpn.chk", 1, &elapsed);
    expect_failed(r, "mpic_error:dcv_checker:tls_alpn:handshake");
    EXPECT_NE(r.errors[0].message.find("excessive message size"), std::string::npos) << r.errors[0].message;
    EXPECT_LT(elapsed, 3000ms);
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_tls_alpn, t6_ip_identifier_uses_the_reverse_name_and_an_ip_san) {
    // The responder selects the 127.0.0.1 certificate only by SNI 1.0.0.127.in-addr.arpa; its SAN is an iPAddress.
    lab_perspective p(lab(), at(1).with_dns_port(1)); // RFC 8738 §4: no DNS lookup (any query would fail)
    auto r = p.run(tls_alpn_request("127.0.0.1", key_authorization));
    expect_passed(r);
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_tls_alpn, ipv6_failure_falls_back_to_ipv4) {
    auto r = run("v6fb.alpn.chk");
    expect_passed(r);
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_tls_alpn, unknown_sni_is_a_handshake_failure) {
    auto r = run("unknown.alpn.chk");
    expect_failed(r, "mpic_error:dcv_checker:tls_alpn:handshake");
}

TEST_F(checks_tls_alpn, per_perspective_forged_certificate) {
    expect_passed(run("split.alpn.chk", 1));
    expect_failed(run("split.alpn.chk", 2), "mpic_error:dcv_checker:tls_alpn:certificate:digest_mismatch");
}

TEST_F(checks_tls_alpn, wrong_key_authorization_in_the_request_fails) {
    lab_perspective p(lab(), at(1));
    expect_failed(p.run(tls_alpn_request("valid.alpn.chk", "tok-alpn.OTHER")),
                  "mpic_error:dcv_checker:tls_alpn:certificate:digest_mismatch");
}

TEST_F(checks_tls_alpn, wildcard_is_refused) {
    lab_perspective p(lab(), at(1));
    auto r = p.run(tls_alpn_request("*.valid.alpn.chk", key_authorization));
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:parameter");
}

} // namespace
} // namespace mpic::test
