// Evaluation of a Relevant RRset: the standards §6 C-rows that are decided by the RRset alone, RFC 8657
// accounturi / validationmethods, RFC 9495 issuemail, and contact property extraction.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "validators/dns/caa_policy.hh"

namespace mpic::validators {
namespace {

const std::vector<std::string> our_issuers{"ourca.example"};

caa_property prop(std::uint8_t flags, std::string tag, std::string value) {
    return caa_property{flags, std::move(tag), std::move(value)};
}

caa_policy_input tls(bool wildcard = false) {
    caa_policy_input in;
    in.wildcard = wildcard;
    in.issuer_domains = our_issuers;
    return in;
}

bool permits(const std::vector<caa_property>& rrset, const caa_policy_input& in) {
    const auto e = evaluate_caa_rrset(rrset, in);
    EXPECT_FALSE(e.reason.empty());
    return e.permitted;
}

TEST(CaaPolicy, C3_IssueSemicolonAloneForbids) {
    EXPECT_FALSE(permits({prop(0, "issue", ";")}, tls()));
}

TEST(CaaPolicy, C4_MalformedIssueValueForbids) {
    const auto e = evaluate_caa_rrset(std::vector{prop(0, "issue", "%%%%%")}, tls());
    EXPECT_FALSE(e.permitted);
    EXPECT_NE(e.reason.find("malformed"), std::string::npos);
}

TEST(CaaPolicy, C6_UnknownCriticalTagForbidsEvenWithOurIssue) {
    const auto e = evaluate_caa_rrset(std::vector{prop(0, "issue", "ourca.example"), prop(128, "tbs", "x")}, tls());
    EXPECT_FALSE(e.permitted);
    EXPECT_NE(e.reason.find("critical"), std::string::npos);
}

TEST(CaaPolicy, C7_UnknownNonCriticalTagOnlyPermits) {
    const auto e = evaluate_caa_rrset(std::vector{prop(0, "foo", "bar")}, tls());
    EXPECT_TRUE(e.permitted);
    EXPECT_FALSE(e.authorizing_index.has_value());
}

TEST(CaaPolicy, C8_ReservedFlagBitIsIgnored) {
    // Standards §7.3: RFC 8659 §4.1.1 "MUST ignore the value of all reserved flag bits"; Boulder would deny.
    EXPECT_TRUE(permits({prop(1, "foo", "bar")}, tls()));
    EXPECT_TRUE(permits({prop(127, "foo", "bar")}, tls()));
    EXPECT_FALSE(permits({prop(129, "foo", "bar")}, tls()));
}

TEST(CaaPolicy, C10_OnlyIodefEvenCriticalPermits) {
    EXPECT_TRUE(permits({prop(128, "iodef", "mailto:security@example.com")}, tls()));
    EXPECT_TRUE(permits({prop(0, "iodef", "https://example.com/report")}, tls()));
}

TEST(CaaPolicy, C11_IssuewildOverridesIssueForWildcard) {
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example"), prop(0, "issuewild", "other.example")}, tls(true)));
}

TEST(CaaPolicy, C12_WildcardWithOnlyIssueUsesIssue) {
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example")}, tls(true)));
    EXPECT_FALSE(permits({prop(0, "issue", "other.example")}, tls(true)));
}

TEST(CaaPolicy, C13_IssuewildIgnoredForNonWildcard) {
    EXPECT_TRUE(permits({prop(0, "issuewild", "other.example")}, tls(false)));
    EXPECT_TRUE(permits({prop(0, "issuewild", ";")}, tls(false)));
}

TEST(CaaPolicy, IssuewildPermitsWildcardWhenIssueForbids) {
    EXPECT_TRUE(permits({prop(0, "issue", ";"), prop(0, "issuewild", "ourca.example")}, tls(true)));
    EXPECT_FALSE(permits({prop(0, "issue", ";"), prop(0, "issuewild", "ourca.example")}, tls(false)));
}

TEST(CaaPolicy, C27_AccountUriMatches) {
    auto in = tls();
    in.account_uri = "https://ourca.example/acme/acct/42";
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example; accounturi=https://ourca.example/acme/acct/42")}, in));
}

TEST(CaaPolicy, C28_AccountUriOtherAccountForbids) {
    auto in = tls();
    in.account_uri = "https://ourca.example/acme/acct/43";
    const auto e = evaluate_caa_rrset(
        std::vector{prop(0, "issue", "ourca.example; accounturi=https://ourca.example/acme/acct/42")}, in);
    EXPECT_FALSE(e.permitted);
    EXPECT_NE(e.reason.find("another account"), std::string::npos);
}

TEST(CaaPolicy, Rfc8657_AccountUriAbsentFromRequestIsUnsatisfiable) {
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=https://ourca.example/acme/acct/42")}, tls()));
}

TEST(CaaPolicy, Rfc8657_NoAccountUriParameterMatchesAnyAccount) {
    auto in = tls();
    in.account_uri = "https://ourca.example/acme/acct/1";
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example")}, in));
}

TEST(CaaPolicy, Rfc8657_MultipleAccountUrisAreUnsatisfiable) {
    auto in = tls();
    in.account_uri = "a";
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=a; accounturi=a")}, in));
}

TEST(CaaPolicy, Rfc8657_AccountUriComparisonIsExact) {
    auto in = tls();
    in.account_uri = "https://ourca.example/acme/acct/42";
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=https://ourca.example/acme/acct/42/")}, in));
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=HTTPS://ourca.example/acme/acct/42")}, in));
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=")}, in));
}

TEST(CaaPolicy, Rfc8657_AccountUriDoesNotReplaceIssuerMatch) {
    auto in = tls();
    in.account_uri = "https://ourca.example/acme/acct/42";
    EXPECT_FALSE(permits({prop(0, "issue", "other.example; accounturi=https://ourca.example/acme/acct/42")}, in));
}

TEST(CaaPolicy, C30_ValidationMethodNotListedForbids) {
    auto in = tls();
    in.validation_method = "http-01";
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; validationmethods=dns-01")}, in));
}

TEST(CaaPolicy, C31_ValidationMethodListedPermits) {
    auto in = tls();
    in.validation_method = "http-01";
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example; validationmethods=http-01,dns-01")}, in));
}

TEST(CaaPolicy, Rfc8657_ValidationMethodAbsentFromRequestIsUnsatisfiable) {
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; validationmethods=dns-01")}, tls()));
}

TEST(CaaPolicy, Rfc8657_MalformedOrRepeatedValidationMethodsUnsatisfiable) {
    auto in = tls();
    in.validation_method = "dns-01";
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; validationmethods=dns-01,,http-01")}, in));
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; validationmethods=dns-01; validationmethods=dns-01")}, in));
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; validationmethods=")}, in));
}

TEST(CaaPolicy, Rfc8657_CaSpecificLabelAndBothParameters) {
    auto in = tls();
    in.validation_method = "ca-ourmethod";
    in.account_uri = "acct:1";
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example; accounturi=acct:1; validationmethods=ca-ourmethod")}, in));
    in.account_uri = "acct:2";
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example; accounturi=acct:1; validationmethods=ca-ourmethod")}, in));
}

TEST(CaaPolicy, AuthorizationsAreAdditive) {
    // RFC 8659 §4.2: an empty-issuer property next to ours is the same as ours alone; one unsatisfiable property
    // does not cancel a satisfiable one.
    auto in = tls();
    in.account_uri = "acct:1";
    const auto e = evaluate_caa_rrset(std::vector{prop(0, "issue", ";"), prop(0, "issue", "%%"),
                                                  prop(0, "issue", "ourca.example; accounturi=acct:2"),
                                                  prop(0, "issue", "ourca.example")},
                                      in);
    EXPECT_TRUE(e.permitted);
    ASSERT_TRUE(e.authorizing_index.has_value());
    EXPECT_EQ(*e.authorizing_index, 3U);
}

TEST(CaaPolicy, C35_IssuerCaseAndTrailingDotMatch) {
    EXPECT_TRUE(permits({prop(0, "issue", "OurCA.Example")}, tls()));
    EXPECT_TRUE(permits({prop(0, "issue", "ourca.example.")}, tls()));
}

TEST(CaaPolicy, TagsAreCaseInsensitive) {
    EXPECT_FALSE(permits({prop(0, "ISSUE", "other.example")}, tls()));
    EXPECT_FALSE(permits({prop(0, "Issue", "ourca.example"), prop(0, "IssueWild", ";")}, tls(true)));
    EXPECT_TRUE(permits({prop(128, "IODEF", "mailto:x@example.com")}, tls()));
}

TEST(CaaPolicy, OtherIssuerForbids) {
    const auto e = evaluate_caa_rrset(std::vector{prop(0, "issue", "other.example")}, tls());
    EXPECT_FALSE(e.permitted);
    EXPECT_NE(e.reason.find("other.example"), std::string::npos);
}

TEST(CaaPolicy, AnyOfSeveralConfiguredIssuersMatches) {
    const std::vector<std::string> issuers{"first.example", "second.example"};
    caa_policy_input in;
    in.issuer_domains = issuers;
    EXPECT_TRUE(permits({prop(0, "issue", "second.example")}, in));
}

TEST(CaaPolicy, NoConfiguredIssuerAuthorizesNothing) {
    caa_policy_input in;
    EXPECT_FALSE(permits({prop(0, "issue", "ourca.example")}, in));
}

TEST(CaaPolicy, CriticalRecognisedTagsDoNotForbid) {
    EXPECT_TRUE(permits({prop(128, "issue", "ourca.example")}, tls()));
    EXPECT_TRUE(permits({prop(128, "issuemail", "other.example")}, tls()));
    EXPECT_TRUE(permits({prop(128, "issuevmc", "other.example")}, tls()));
    EXPECT_TRUE(permits({prop(128, "contactemail", "a@example.com")}, tls()));
}

TEST(CaaPolicy, Rfc9495_IssuemailRestrictsSmime) {
    caa_policy_input in;
    in.issuer_domains = our_issuers;
    in.cert_type = certificate_type::s_mime;
    EXPECT_TRUE(permits({prop(0, "issuemail", "ourca.example")}, in));
    EXPECT_FALSE(permits({prop(0, "issuemail", "other.example")}, in));
    EXPECT_FALSE(permits({prop(0, "issuemail", ";")}, in));
    // RFC 9495 §4: issue / issuewild do not restrict S/MIME; an RRset without issuemail does not restrict it.
    EXPECT_TRUE(permits({prop(0, "issue", ";")}, in));
    EXPECT_TRUE(permits({prop(0, "issue", "other.example"), prop(0, "issuewild", ";")}, in));
    // ... and issuemail does not restrict TLS.
    EXPECT_TRUE(permits({prop(0, "issuemail", ";")}, tls()));
    // An unknown critical tag still forbids S/MIME.
    EXPECT_FALSE(permits({prop(0, "issuemail", "ourca.example"), prop(128, "future", "x")}, in));
}

TEST(CaaPolicy, ContactPropertiesExtracted) {
    const std::vector<caa_property> rrset{prop(0, "contactemail", " admin@example.com "),
                                          prop(0, "ContactPhone", "+1 555 0100"), prop(0, "issue", "ourca.example"),
                                          prop(0, "contactemail", "other@example.com")};
    const auto emails = caa_contacts(rrset, "contactemail");
    ASSERT_EQ(emails.size(), 2U);
    EXPECT_EQ(emails[0], "admin@example.com");
    EXPECT_EQ(emails[1], "other@example.com");
    const auto phones = caa_contacts(rrset, "contactphone");
    ASSERT_EQ(phones.size(), 1U);
    EXPECT_EQ(phones[0], "+1 555 0100");
}

TEST(CaaPolicy, PresentationEscapesBytes) {
    EXPECT_EQ(caa_presentation(prop(0, "issue", "ca.example")), "0 issue \"ca.example\"");
    EXPECT_EQ(caa_presentation(prop(128, "tbs", std::string("a\"b\\c\x01\xff", 7))),
              "128 tbs \"a\\\"b\\\\c\\001\\255\"");
}

TEST(CaaPolicy, C36_RecheckAfterTtlOrEightHours) {
    using std::chrono::hours;
    using std::chrono::seconds;
    // BR 3.2.2.8: issue "within the TTL of the CAA record, or 8 hours, whichever is greater".
    EXPECT_EQ(caa_result_lifetime(300), hours(8));
    EXPECT_EQ(caa_result_lifetime(86400), seconds(86400));
    // Checked 9 h before issuance with TTL 300 s: stale, must recheck.
    EXPECT_FALSE(caa_result_usable(hours(9), 300));
    EXPECT_TRUE(caa_result_usable(hours(7), 300));
    EXPECT_TRUE(caa_result_usable(hours(9), 36000));
}

} // namespace
} // namespace mpic::validators
