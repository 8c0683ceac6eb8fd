// The DNS checks through the lab's per-perspective unbound validating resolvers (lab::dns_for(k) names them when
// a scenario has a signed zone): the AD bit reaches ad_flag, a forged view signed with an attacker's key is bogus
// (SERVFAIL) and never a pass (D7, C24), and a recursive resolver chases a CNAME into another zone so CAA(X) is the
// alias target's set (C15 across zones). Scenario: tools/mpic-lab/scenarios/checks-dnssec.toml.

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using validators::check_result;
using validators::validation_method;

struct dnssec_scenario {
    static std::string file() { return lab::scenario_file("checks-dnssec.toml"); }
};

class checks_dnssec : public lab::lab_fixture<dnssec_scenario> {
protected:
    check_result run(const validators::check_request& request, int k = 1) {
        // unbound resolves through BIND on a cold cache: allow it a little longer than BIND alone.
        lab_perspective p(lab(), at(k).with_dns_timeout(1000));
        return p.run(request, 8000);
    }
};

validators::check_request dns01(std::string_view target, std::string_view digest) {
    auto request = dcv_request(target, validation_method::acme_dns_01);
    request.dcv.key_authorization_hash = std::string(digest);
    return request;
}

TEST_F(checks_dnssec, perspectives_resolve_through_their_own_validating_resolver) {
    ASSERT_TRUE(lab().resolver_for(1).has_value());
    EXPECT_EQ(lab().dns_for(1).port, lab().resolver_for(1)->port);
    EXPECT_NE(lab().dns_for(1).port, lab().dns_for(2).port);
}

TEST_F(checks_dnssec, signed_answer_sets_ad_flag) {
    auto r = run(dns01("ok.sig", "signed-digest"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_TRUE(r.details.ad_flag);
    EXPECT_EQ(r.details.response_code, "NOERROR");
}

TEST_F(checks_dnssec, unsigned_answer_has_no_ad_flag) {
    auto r = run(dns01("ok.pln", "plain-digest"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_FALSE(r.details.ad_flag);
}

TEST_F(checks_dnssec, d7_bogus_txt_is_a_lookup_error_never_a_pass) {
    EXPECT_TRUE(run(dns01("forged.sig", "forged-good-digest"), 1).passed);
    for (const auto& digest : {"forged-good-digest", "forged-attacker-digest"}) {
        SCOPED_TRACE(digest);
        auto r = run(dns01("forged.sig", digest), 2);
        EXPECT_FALSE(r.completed);
        EXPECT_FALSE(r.passed);
        ASSERT_EQ(r.errors.size(), 1U);
        EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:lookup") << r.errors[0].message;
        EXPECT_EQ(r.details.response_code, "SERVFAIL");
        EXPECT_FALSE(r.details.ad_flag);
        EXPECT_TRUE(r.details.records_seen.empty());
    }
}

TEST_F(checks_dnssec, c24_bogus_caa_denies) {
    auto ok = run(caa_request("caa-forged.sig"), 1);
    EXPECT_TRUE(ok.passed) << first_error(ok);
    EXPECT_TRUE(ok.details.ad_flag);
    auto r = run(caa_request("caa-forged.sig"), 2);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:caa_checker:lookup") << r.errors[0].message;
    EXPECT_EQ(r.details.response_code, "SERVFAIL");
}

TEST_F(checks_dnssec, c24_bogus_caa_at_the_primary_is_never_permission) {
    // BR 3.2.2.8.1 / standards §7.2: the allow_lookup_failure opt-in never covers a DNSSEC failure at the primary.
    auto request = caa_request("caa-forged.sig");
    request.primary = true;
    request.caa.allow_lookup_failure = true;
    auto r = run(request, 2);
    EXPECT_FALSE(r.passed) << "a bogus CAA answer at the primary was treated as permission";
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:caa_checker:lookup") << r.errors[0].message;
}

TEST_F(checks_dnssec, caa_at_the_tld_apex_is_found_by_the_climb) {
    auto r = run(caa_request("deep.name.under.sig"));
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_TRUE(r.details.caa_record_present);
    EXPECT_EQ(r.details.found_at, "sig");
    EXPECT_TRUE(r.details.ad_flag);
}

TEST_F(checks_dnssec, c15_cname_into_another_zone_takes_the_targets_caa) {
    auto r = run(caa_request("www.c15.pln"));
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:caa_checker:prohibited") << r.errors[0].message;
    EXPECT_EQ(r.details.found_at, "www.c15.pln");
    EXPECT_EQ(r.details.cname_chain, (std::vector<std::string>{"www.c15.pln", "cdn.prv"}));
    // The parent alone permits.
    EXPECT_TRUE(run(caa_request("c15.pln")).passed);
}

} // namespace
} // namespace mpic::test
