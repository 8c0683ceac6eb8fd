// The pure DCV rules: query names, value comparisons, persistent records, contacts, addresses.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "validators/dns/dcv_match.hh"

namespace mpic::validators {
namespace {

net::identifier dns_name(std::string name, bool wildcard = false) {
    net::identifier id;
    id.kind = net::identifier::kind_t::dns;
    id.name = std::move(name);
    id.wildcard = wildcard;
    return id;
}

net::identifier ip(std::string text, bool v6 = false) {
    net::identifier id;
    id.kind = net::identifier::kind_t::ip;
    id.name = std::move(text);
    id.is_ipv6 = v6;
    return id;
}

TEST(DcvMatch, Dns01QueryName) {
    const auto q = dns01_query_name(dns_name("www.example.com"));
    EXPECT_EQ(q.name, "_acme-challenge.www.example.com");
    EXPECT_TRUE(q.error.empty());
}

TEST(DcvMatch, D5_WildcardQueriesBaseDomain) {
    const auto q = dns01_query_name(dns_name("example.com", true));
    EXPECT_EQ(q.name, "_acme-challenge.example.com");
}

TEST(DcvMatch, D8_Dns01RefusesIpIdentifier) {
    const auto q = dns01_query_name(ip("192.0.2.1"));
    EXPECT_TRUE(q.name.empty());
    EXPECT_NE(q.error.find("RFC 8738"), std::string::npos);
}

TEST(DcvMatch, QueryNameLengthIsBounded) {
    const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                  std::string(50, 'd') + ".com";
    EXPECT_FALSE(dns01_query_name(dns_name(long_name)).error.empty());
}

TEST(DcvMatch, D1_AnyOneOfSeveralTxtRecordsMatches) {
    const std::vector<std::string> values{"unrelated", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"};
    const auto index = find_exact(values, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
    ASSERT_TRUE(index.has_value());
    EXPECT_EQ(*index, 1U);
}

TEST(DcvMatch, ExactMatchIsCaseSensitiveAndWhole) {
    const std::vector<std::string> values{"loqxcyv8q5onbjqxbmr7sctno3tiaxdfowyjxajeux0",
                                          "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0 ",
                                          "xLoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"};
    EXPECT_FALSE(find_exact(values, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0").has_value());
    EXPECT_FALSE(find_exact(std::vector<std::string>{""}, "").has_value());
}

TEST(DcvMatch, DnsAccount01LabelMatchesDraftExample) {
    // draft-ietf-acme-dns-account-label: account https://example.com/acme/acct/ExampleAccount has the label
    // _ujmmovf2vn55tgye (base32 of SHA-256[0:10], lowercase, 16 characters).
    EXPECT_EQ(dns_account01_label("https://example.com/acme/acct/ExampleAccount"), "_ujmmovf2vn55tgye");
    const auto q = dns_account01_query_name(dns_name("example.org"), "https://example.com/acme/acct/ExampleAccount");
    EXPECT_EQ(q.name, "_ujmmovf2vn55tgye._acme-challenge.example.org");
}

TEST(DcvMatch, DnsAccount01RefusesIpAndMissingAccount) {
    EXPECT_FALSE(dns_account01_query_name(ip("192.0.2.1"), "acct").error.empty());
    EXPECT_FALSE(dns_account01_query_name(dns_name("example.org"), "").error.empty());
}

TEST(DcvMatch, PersistentQueryName) {
    EXPECT_EQ(persistent_query_name(dns_name("example.com", true)).name, "_validation-persist.example.com");
    EXPECT_FALSE(persistent_query_name(ip("2001:db8::1", true)).error.empty());
}

TEST(DcvMatch, PrefixedQueryName) {
    EXPECT_EQ(prefixed_query_name(std::nullopt, "example.com", true).name, "example.com");
    EXPECT_EQ(prefixed_query_name(std::string(), "example.com", true).name, "example.com");
    EXPECT_EQ(prefixed_query_name(std::string("_DNSAuth"), "example.com", true).name, "_dnsauth.example.com");
    EXPECT_EQ(prefixed_query_name(std::string("_a.b."), "example.com", true).name, "_a.b.example.com");
    EXPECT_FALSE(prefixed_query_name(std::string("dnsauth"), "example.com", true).error.empty());
    EXPECT_EQ(prefixed_query_name(std::string("dnsauth"), "example.com", false).name, "dnsauth.example.com");
    EXPECT_FALSE(prefixed_query_name(std::string("_a..b"), "example.com", true).error.empty());
    EXPECT_FALSE(prefixed_query_name(std::string("_a b"), "example.com", true).error.empty());
    EXPECT_FALSE(prefixed_query_name(std::string("_" + std::string(63, 'x')), "example.com", true).error.empty());
}

TEST(DcvMatch, DnsChangeTxtExactAndContains) {
    EXPECT_TRUE(dns_change_matches("token123", "token123", dns_record_type::txt, true, true));
    EXPECT_FALSE(dns_change_matches("xtoken123", "token123", dns_record_type::txt, true, true));
    EXPECT_TRUE(dns_change_matches("v=token123;", "token123", dns_record_type::txt, false, true));
    EXPECT_FALSE(dns_change_matches("TOKEN123", "token123", dns_record_type::txt, false, true));
    EXPECT_TRUE(dns_change_matches("TOKEN123", "token123", dns_record_type::txt, false, false));
    EXPECT_FALSE(dns_change_matches("anything", "", dns_record_type::txt, false, true));
}

TEST(DcvMatch, DnsChangeCnameIsCaseInsensitiveAndIgnoresTrailingDot) {
    EXPECT_TRUE(dns_change_matches("Token123.Validation.Example.", "token123.validation.example",
                                   dns_record_type::cname, true, true));
    EXPECT_TRUE(dns_change_matches("abc.token123.example.", "TOKEN123", dns_record_type::cname, false, true));
}

TEST(DcvMatch, DnsChangeCaaValue) {
    EXPECT_TRUE(dns_change_matches("ourca.example; token=abc", "abc", dns_record_type::caa, false, true));
    EXPECT_FALSE(dns_change_matches("ourca.example; token=abc", "abc", dns_record_type::caa, true, true));
}

const std::vector<std::string> issuers{"ourca.example"};

persistent_expectation expect_at(std::int64_t now, bool wildcard = false) {
    return {issuers, "https://ourca.example/acct/1", now, wildcard};
}

TEST(DcvMatch, PersistentRecordGood) {
    const auto v = evaluate_persistent_record("ourca.example; accounturi=https://ourca.example/acct/1", expect_at(0));
    EXPECT_TRUE(v.usable) << v.reason;
}

TEST(DcvMatch, PersistentRecordIgnoresUnknownParametersAndHonoursPersistUntil) {
    const std::string txt = "OurCA.Example; accounturi=https://ourca.example/acct/1; policy=wildcard; "
                            "persistUntil=1900000000";
    EXPECT_TRUE(evaluate_persistent_record(txt, expect_at(1800000000)).usable);
    EXPECT_TRUE(evaluate_persistent_record(txt, expect_at(1900000000)).usable);
    const auto expired = evaluate_persistent_record(txt, expect_at(1900000001));
    EXPECT_FALSE(expired.usable);
    EXPECT_NE(expired.reason.find("passed"), std::string::npos);
}

TEST(DcvMatch, PersistentRecordRefusals) {
    const auto e = expect_at(0);
    EXPECT_FALSE(evaluate_persistent_record("other.example; accounturi=https://ourca.example/acct/1", e).usable);
    EXPECT_FALSE(evaluate_persistent_record("ourca.example", e).usable); // accounturi is mandatory
    EXPECT_FALSE(evaluate_persistent_record("ourca.example; accounturi=https://ourca.example/acct/2", e).usable);
    EXPECT_FALSE(evaluate_persistent_record("ourca.example; accounturi=a; accounturi=a", e).usable);
    EXPECT_FALSE(evaluate_persistent_record("ourca.example accounturi=https://ourca.example/acct/1", e).usable);
    EXPECT_FALSE(evaluate_persistent_record("; accounturi=https://ourca.example/acct/1", e).usable); // no issuer
    for (const char* bad : {"soon", "-1", "", "1e9", "99999999999999999999", "12x", "+5"}) {
        const std::string txt =
            std::string("ourca.example; accounturi=https://ourca.example/acct/1; persistUntil=") + bad;
        EXPECT_FALSE(evaluate_persistent_record(txt, e).usable) << bad;
    }
    EXPECT_FALSE(evaluate_persistent_record(
                     "ourca.example; accounturi=https://ourca.example/acct/1; persistUntil=5; persistUntil=9", e)
                     .usable);
}

TEST(DcvMatch, PersistentRecordWildcardNeedsPolicyWildcard) {
    const std::string plain = "ourca.example; accounturi=https://ourca.example/acct/1";
    EXPECT_TRUE(evaluate_persistent_record(plain, expect_at(0, false)).usable);
    const auto refused = evaluate_persistent_record(plain, expect_at(0, true));
    EXPECT_FALSE(refused.usable);
    EXPECT_NE(refused.reason.find("policy=wildcard"), std::string::npos);
    EXPECT_TRUE(evaluate_persistent_record(plain + "; policy=Wildcard", expect_at(0, true)).usable);
    EXPECT_FALSE(evaluate_persistent_record(plain + "; policy=exact", expect_at(0, true)).usable);
}

TEST(DcvMatch, ContactEmail) {
    EXPECT_TRUE(contact_email_matches(" admin@Example.COM ", "admin@example.com"));
    EXPECT_FALSE(contact_email_matches("Admin@example.com", "admin@example.com")); // local part is exact
    EXPECT_FALSE(contact_email_matches("admin@example.com.evil", "admin@example.com"));
    EXPECT_FALSE(contact_email_matches("example.com", "example.com"));
    EXPECT_FALSE(contact_email_matches("@example.com", "@example.com"));
}

TEST(DcvMatch, ContactPhone) {
    EXPECT_TRUE(contact_phone_matches("+1 (555) 010-0199", "+15550100199"));
    EXPECT_TRUE(contact_phone_matches("+1.555.010.0199", "+1-555-010-0199"));
    EXPECT_FALSE(contact_phone_matches("+15550100198", "+15550100199"));
    EXPECT_FALSE(contact_phone_matches("+1555010019a", "+1555010019a"));
    EXPECT_FALSE(contact_phone_matches("()", "()"));
    EXPECT_FALSE(contact_phone_matches("1+5550100199", "1+5550100199"));
}

TEST(DcvMatch, IpAddressesCompareAsValues) {
    EXPECT_EQ(parse_ip("2001:DB8::1"), parse_ip("2001:db8:0:0:0:0:0:1"));
    EXPECT_EQ(parse_ip("[2001:db8::1]"), parse_ip("2001:db8::1"));
    EXPECT_EQ(parse_ip("192.0.2.1"), parse_ip("192.0.2.1"));
    EXPECT_NE(parse_ip("192.0.2.1"), parse_ip("::ffff:192.0.2.1"));
    EXPECT_NE(parse_ip("192.0.2.1"), parse_ip("192.0.2.2"));
    EXPECT_FALSE(parse_ip("192.0.2.1.5"));
    EXPECT_FALSE(parse_ip("0192.0.2.1"));
    EXPECT_FALSE(parse_ip(""));
    EXPECT_FALSE(parse_ip(std::string(60, '1')));
    EXPECT_FALSE(parse_ip("example.com"));
}

TEST(DcvMatch, SameDnsName) {
    EXPECT_TRUE(same_dns_name("Host.Example.com.", "host.example.com"));
    EXPECT_FALSE(same_dns_name("host.example.com", "host.example.co"));
    EXPECT_FALSE(same_dns_name(".", ""));
}

} // namespace
} // namespace mpic::validators
