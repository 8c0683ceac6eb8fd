// The DNS checks against the lab's fault DNS responder (mpic-lab-faultdns), issue #4: every hostile or broken
// answer ends the check by its deadline with a typed error, never a pass and never a hang; memory stays bounded.
// Scenario: tools/mpic-lab/scenarios/checks-dns-faults.toml. The perspective's resolver is aimed at the fault
// responder directly, from the perspective's own source address (the responder answers per source).

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;
using validators::validation_method;

struct faults_scenario {
    static std::string file() { return lab::scenario_file("checks-dns-faults.toml"); }
};

/// Resolver: 300 ms per try, 2 tries (c-ares doubles per round: ~0.9 s to a timeout). Check deadline: 4 s.
constexpr std::uint64_t check_deadline_ms = 4000;

class checks_dns_faults : public lab::lab_fixture<faults_scenario> {
protected:
    check_result run(const validators::check_request& request, int k = 1, std::chrono::milliseconds* elapsed = nullptr,
                     std::uint32_t dns_timeout_ms = 300, std::uint64_t deadline_ms = check_deadline_ms) {
        const auto port = lab().fault_dns_port();
        EXPECT_TRUE(port.has_value());
        lab_perspective p(lab(), at(k).with_dns_port(port.value_or(1)).with_dns_timeout(dns_timeout_ms));
        return p.run(request, deadline_ms, elapsed);
    }
};

validators::check_request dns01(std::string_view target, std::string_view digest) {
    auto request = dcv_request(target, validation_method::acme_dns_01);
    request.dcv.key_authorization_hash = std::string(digest);
    return request;
}

/// A lookup failure: not completed (no determination), not passed, mpic_error:<component>:lookup whose message
/// starts with `outcome` (the resolver's outcome or the RCODE name), well within the check's deadline.
void expect_lookup_error(const check_result& r, std::string_view key, std::string_view outcome,
                         std::chrono::milliseconds elapsed) {
    EXPECT_FALSE(r.completed) << first_error(r);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, key) << r.errors[0].message;
    EXPECT_EQ(r.errors[0].message.rfind(outcome, 0), 0U) << r.errors[0].message;
    EXPECT_LT(elapsed, std::chrono::milliseconds(check_deadline_ms));
}

TEST_F(checks_dns_faults, control_answer_passes) {
    auto r = run(dns01("ok.f.chk", "ok-digest"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_EQ(r.details.response_code, "NOERROR");
}

TEST_F(checks_dns_faults, dropped_query_is_a_resolver_timeout) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("drop.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "timeout", elapsed);
    EXPECT_GE(elapsed, 800ms); // 300 ms + 600 ms of tries, not an early give-up
}

TEST_F(checks_dns_faults, answer_slower_than_the_check_deadline_ends_at_the_deadline) {
    std::chrono::milliseconds elapsed{};
    // The resolver would wait 10 s; the check's own 1 s deadline ends it.
    auto r = run(dns01("slow.f.chk", "slow-digest"), 1, &elapsed, 10000, 1000);
    EXPECT_FALSE(r.completed);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:timeout");
    EXPECT_GE(elapsed, 950ms);
    EXPECT_LT(elapsed, 2000ms);
}

TEST_F(checks_dns_faults, d7_servfail_on_txt_is_a_lookup_error_never_a_pass) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("servfail.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "SERVFAIL", elapsed);
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
}

TEST_F(checks_dns_faults, c26_refused_for_caa_denies) {
    std::chrono::milliseconds elapsed{};
    auto r = run(caa_request("refused.f.chk"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "REFUSED", elapsed);
    EXPECT_EQ(r.details.response_code, "REFUSED");
    // REFUSED is never tolerated, even with the opt-in (standards §7.2: SERVFAIL/timeout only).
    auto request = caa_request("refused.f.chk");
    request.caa.allow_lookup_failure = true;
    r = run(request, 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "REFUSED", elapsed);
}

TEST_F(checks_dns_faults, c19_servfail_for_caa_denies_unless_opted_in) {
    std::chrono::milliseconds elapsed{};
    auto r = run(caa_request("servfail.f.chk"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "SERVFAIL", elapsed);
    // allow_lookup_failure at a remote: retried once (BR 3.2.2.8 "retried at least once"), but the fault
    // responder validates nothing, so "Insecure" (BR 3.2.2.8, RFC 4035 §4.3) cannot be confirmed: still denied.
    // The permitted case, through a validating resolver, is in caa_lookup_failure_test.cc.
    auto request = caa_request("servfail.f.chk");
    request.caa.allow_lookup_failure = true;
    r = run(request, 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "SERVFAIL", elapsed);
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
    EXPECT_NE(r.errors[0].message.find("not declared DNSSEC-validating"), std::string::npos) << r.errors[0].message;
    // At the primary a bare SERVFAIL (no RFC 8914 EDE) may hide a DNSSEC failure: never permission (BR 3.2.2.8.1).
    request.primary = true;
    r = run(request, 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "SERVFAIL", elapsed);
}

TEST_F(checks_dns_faults, truncated_udp_answer_is_retried_over_tcp) {
    auto r = run(dns01("tc.f.chk", "tc-digest"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_EQ(r.details.records_seen.size(), 1U);
    auto caa = run(caa_request("tc.f.chk"));
    EXPECT_TRUE(caa.passed) << first_error(caa);
    EXPECT_TRUE(caa.details.caa_record_present);
    EXPECT_EQ(caa.details.found_at, "tc.f.chk");
}

TEST_F(checks_dns_faults, truncated_even_over_tcp_is_never_acted_upon) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("tctcp.f.chk", "tctcp-digest"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "truncated", elapsed);
    EXPECT_TRUE(r.details.records_seen.empty());
}

TEST_F(checks_dns_faults, answer_with_a_wrong_id_is_ignored_until_timeout) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("wrongid.f.chk", "wrongid-digest"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "timeout", elapsed);
}

TEST_F(checks_dns_faults, undecodable_answer_is_discarded_until_timeout) {
    // c-ares cannot match an undecodable question to ours, so it discards the reply as it would a spoofed one.
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("garbage.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "timeout", elapsed);
}

TEST_F(checks_dns_faults, answer_shorter_than_a_header_is_dropped_until_timeout) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("short.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "timeout", elapsed);
}

TEST_F(checks_dns_faults, answer_count_without_records_is_malformed) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("counts.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "malformed", elapsed);
}

TEST_F(checks_dns_faults, compression_pointer_loop_is_malformed) {
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("loop.f.chk", "x"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "malformed", elapsed);
    r = run(caa_request("loop.f.chk"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:caa_checker:lookup", "malformed", elapsed);
}

TEST_F(checks_dns_faults, thousand_cname_chain_is_malformed_with_bounded_memory) {
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("chain.f.chk", "chain-digest"), 1, &elapsed);
    expect_lookup_error(r, "mpic_error:dcv_checker:lookup", "malformed", elapsed);
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_dns_faults, short_cname_chain_is_followed) {
    auto r = run(dns01("shortchain.f.chk", "shortchain-digest"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_EQ(r.details.cname_chain.size(), 9U);
    EXPECT_EQ(r.details.found_at, "c8._acme-challenge.shortchain.f.chk");
}

TEST_F(checks_dns_faults, oversized_udp_txt_answer_is_read_whole_and_judged) {
    // 60 000 octets on UDP, over the advertised EDNS size but complete and untruncated: read, parsed, judged.
    const long before = peak_rss_kib();
    std::chrono::milliseconds elapsed{};
    auto r = run(dns01("big.f.chk", "x"), 1, &elapsed);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:mismatch") << first_error(r);
    EXPECT_TRUE(r.completed);
    EXPECT_EQ(r.details.records_seen.size(), 1U);
    EXPECT_LT(elapsed, std::chrono::milliseconds(check_deadline_ms));
    EXPECT_LT(peak_rss_kib() - before, 32 * 1024) << "KiB of peak RSS growth";
}

TEST_F(checks_dns_faults, per_source_answers_differ_between_perspectives) {
    auto r1 = run(dns01("view.f.chk", "view-good-digest"), 1);
    EXPECT_TRUE(r1.passed) << first_error(r1);
    auto r2 = run(dns01("view.f.chk", "view-good-digest"), 2);
    EXPECT_FALSE(r2.passed);
    ASSERT_EQ(r2.errors.size(), 1U);
    EXPECT_EQ(r2.errors[0].type, "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_dns_faults, http01_target_whose_address_lookup_fails_is_a_lookup_error) {
    auto r = run(http01_request("http.f.chk", "tok-f"));
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:lookup");
    EXPECT_NE(r.errors[0].message.find("servfail"), std::string::npos) << r.errors[0].message;
    EXPECT_TRUE(r.details.resolved_ip.empty());
}

} // namespace
} // namespace mpic::test
