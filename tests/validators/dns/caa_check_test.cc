// The CAA check end to end: the RFC 8659 §3 climb through the real resolver against a scripted DNS server on
// 127.0.0.1, then the evaluation. Named after the standards §6 rows they demonstrate.

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "tests/validators/dns/check_harness.hh"

namespace mpic::validators {
namespace {

using test::caa_rr;
using test::check_harness;
using test::cname_rr;
using test::fake_reply;

constexpr std::uint16_t caa_type = 257;

check_request caa_request(std::string name, bool wildcard = false) {
    check_request request;
    request.type = check_type::caa;
    request.target.kind = net::identifier::kind_t::dns;
    request.target.name = std::move(name);
    request.target.wildcard = wildcard;
    request.caa.caa_domains = {"ourca.example"};
    return request;
}

/// Serves CAA by name from a table; anything else is NODATA.
test::fake_dns_server::handler table(std::map<std::string, fake_reply> replies) {
    return [replies = std::move(replies)](const std::string& qname, std::uint16_t qtype) {
        const auto it = replies.find(qname);
        if (qtype != caa_type || it == replies.end()) {
            return fake_reply::nodata();
        }
        return it->second;
    };
}

using questions = std::vector<std::pair<std::string, std::uint16_t>>;

bool has_error(const check_result& result, std::string_view key) {
    return result.errors.size() == 1 && result.errors[0].type == key;
}

TEST(CaaCheck, C1_NoCaaAnywherePermitsAfterClimbingToTld) {
    check_harness h(table({}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_TRUE(result.errors.empty());
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_EQ(h.server().questions(),
              (questions{{"www.example.com", caa_type}, {"example.com", caa_type}, {"com", caa_type}}));
    EXPECT_EQ(result.type, check_type::caa);
}

TEST(CaaCheck, PermitsWithOurIssueAndReportsDetails) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 0, "iodef", "mailto:a@b")},
                                                            true)}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_TRUE(result.details.caa_record_present);
    EXPECT_EQ(result.details.found_at, "example.com");
    EXPECT_EQ(result.details.response_code, "NOERROR");
    EXPECT_TRUE(result.details.ad_flag);
    EXPECT_EQ(result.details.records_seen,
              (std::vector<std::string>{"0 issue \"ourca.example\"", "0 iodef \"mailto:a@b\""}));
    EXPECT_GT(result.timings.dns_us, 0U);
}

TEST(CaaCheck, C3_IssueSemicolonForbidsAsCompletedProhibition) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", ";")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:prohibited"));
    EXPECT_TRUE(result.details.caa_record_present);
}

TEST(CaaCheck, C6_UnknownCriticalTagForbids) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 128, "tbs", "x")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
}

TEST(CaaCheck, C11_WildcardStartsAtBaseAndIssuewildOverrides) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example"),
                                                             caa_rr("example.com", 0, "issuewild", "other")})}}));
    const auto result = h.run(make_caa_check, caa_request("example.com", true));
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(h.server().questions().front().first, "example.com");
}

TEST(CaaCheck, C15_CnameToProviderWithOtherIssuerForbids) {
    check_harness h(
        table({{"www.example.com", fake_reply::with({cname_rr("www.example.com", "cdn.provider.net"),
                                                     caa_rr("cdn.provider.net", 0, "issue", "other.example")})}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(result.details.found_at, "www.example.com");
    EXPECT_EQ(result.details.cname_chain, (std::vector<std::string>{"www.example.com", "cdn.provider.net"}));
}

TEST(CaaCheck, CnameChainWithoutCaaClimbsTheNamesParents) {
    check_harness h(table({{"www.example.com", fake_reply::with({cname_rr("www.example.com", "cdn.provider.net")})},
                           {"provider.net", fake_reply::with({caa_rr("provider.net", 0, "issue", ";")})}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(h.server().questions(),
              (questions{{"www.example.com", caa_type}, {"example.com", caa_type}, {"com", caa_type}}));
}

TEST(CaaCheck, C18_ServfailSignedZoneAtPrimaryFailsEvenWithOptIn) {
    check_harness h(table({{"www.example.com", fake_reply::bogus()}}));
    auto request = caa_request("www.example.com");
    request.primary = true;
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("DNSSEC Bogus"), std::string::npos);
    EXPECT_EQ(result.details.response_code, "SERVFAIL");
}

TEST(CaaCheck, C19_ServfailUnsignedRetriedThenToleratedWithOptIn) {
    check_harness h(table({{"www.example.com", fake_reply::servfail()}}));
    auto request = caa_request("www.example.com");
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_EQ(result.details.found_at, "www.example.com");
    EXPECT_EQ(result.details.response_code, "SERVFAIL");
    EXPECT_EQ(h.server().questions(), (questions{{"www.example.com", caa_type}, {"www.example.com", caa_type}}));
}

TEST(CaaCheck, C19_ServfailDeniesByDefault) {
    check_harness h(table({{"www.example.com", fake_reply::servfail()}}));
    const auto result = h.run(make_caa_check, caa_request("www.example.com"));
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
}

TEST(CaaCheck, C22_NxdomainAtNameParentPermits) {
    check_harness h(table({{"gone.example.com", fake_reply::nxdomain()},
                           {"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example")})}}));
    const auto result = h.run(make_caa_check, caa_request("gone.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.found_at, "example.com");
}

TEST(CaaCheck, C24_DnssecBogusNeverPermissionAtPrimary) {
    check_harness h(table({{"example.com", fake_reply::bogus()}}));
    auto request = caa_request("example.com");
    request.primary = true;
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.passed);
    EXPECT_EQ(h.server().questions().size(), 1U); // not even retried
}

TEST(CaaCheck, C26_RefusedIsALookupFailure) {
    check_harness h(table({{"example.com", fake_reply::refused()}}));
    auto request = caa_request("example.com");
    request.caa.allow_lookup_failure = true;
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
}

TEST(CaaCheck, C27_C28_AccountUriFromRequest) {
    const auto handler =
        table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue",
                                                        "ourca.example; accounturi=https://ourca.example/acct/7")})}});
    auto request = caa_request("example.com");
    request.caa.account_uri = "https://ourca.example/acct/7";
    {
        check_harness h(handler);
        EXPECT_TRUE(h.run(make_caa_check, request).passed);
    }
    request.caa.account_uri = "https://ourca.example/acct/8";
    {
        check_harness h(handler);
        const auto result = h.run(make_caa_check, request);
        EXPECT_TRUE(result.completed);
        EXPECT_FALSE(result.passed);
    }
}

TEST(CaaCheck, C30_C31_ValidationMethodFromRequest) {
    const auto handler =
        table({{"example.com",
                fake_reply::with({caa_rr("example.com", 0, "issue", "ourca.example; validationmethods=dns-01")})}});
    auto request = caa_request("example.com");
    request.caa.validation_method = "http-01";
    {
        check_harness h(handler);
        EXPECT_FALSE(h.run(make_caa_check, request).passed);
    }
    request.caa.validation_method = "dns-01";
    {
        check_harness h(handler);
        EXPECT_TRUE(h.run(make_caa_check, request).passed);
    }
}

TEST(CaaCheck, C35_IssuerCaseInsensitive) {
    check_harness h(table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", "OurCA.Example")})}}));
    EXPECT_TRUE(h.run(make_caa_check, caa_request("example.com")).passed);
}

TEST(CaaCheck, C38_IpTargetSendsNoQueryAndPasses) {
    check_harness h(table({}));
    auto request = caa_request("192.0.2.1");
    request.target.kind = net::identifier::kind_t::ip;
    const auto result = h.run(make_caa_check, request);
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_FALSE(result.details.caa_record_present);
    EXPECT_TRUE(h.server().questions().empty());
}

TEST(CaaCheck, SmimeUsesIssuemail) {
    check_harness h(
        table({{"example.com", fake_reply::with({caa_rr("example.com", 0, "issue", ";"),
                                                 caa_rr("example.com", 0, "issuemail", "ourca.example")})}}));
    auto request = caa_request("example.com");
    request.caa.cert_type = certificate_type::s_mime;
    EXPECT_TRUE(h.run(make_caa_check, request).passed);
}

TEST(CaaCheck, TimeoutIsALookupFailure) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 100);
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_FALSE(result.completed);
    ASSERT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
    EXPECT_NE(result.errors[0].message.find("timeout"), std::string::npos);
}

TEST(CaaCheck, CheckDeadlineBeforeResolverTimeoutCompletesOnceAndCleanly) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 2000);
    const auto result = h.run(make_caa_check, caa_request("example.com"), 50);
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:timeout"));
}

TEST(CaaCheck, EmptyIssuerListIsAParameterError) {
    check_harness h(table({}));
    auto request = caa_request("example.com");
    request.caa.caa_domains.clear();
    const auto result = h.run(make_caa_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:parameter"));
    EXPECT_TRUE(h.server().questions().empty());
}

TEST(CaaCheck, NoResolverIsALookupFailure) {
    check_harness h(table({}));
    h.runtime().dns = nullptr;
    const auto result = h.run(make_caa_check, caa_request("example.com"));
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:caa_checker:lookup"));
}

TEST(CaaCheck, CancelCompletesOnceWithCancelled) {
    check_harness h([](const std::string&, std::uint16_t) { return fake_reply::silence(); }, 2000);
    std::optional<check_result> out;
    int calls = 0;
    auto op = make_caa_check(h.runtime(), std::make_shared<const check_request>(caa_request("example.com")),
                             [&](check_result&& result) {
                                 ++calls;
                                 out = std::move(result);
                             });
    op->start(5000);
    uv_run(h.loop(), UV_RUN_NOWAIT);
    op->cancel();
    op->cancel();
    op.reset();
    for (int i = 0; i < 5; ++i) {
        uv_run(h.loop(), UV_RUN_NOWAIT);
    }
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(out->completed);
    EXPECT_TRUE(has_error(*out, "mpic_error:caa_checker:cancelled"));
}

} // namespace
} // namespace mpic::validators
