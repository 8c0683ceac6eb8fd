// The DNS-based DCV checks end to end through the real resolver against a scripted server on 127.0.0.1: the
// standards §6 D-rows and every method's pass / negative / failure / parameter paths.

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "tests/validators/dns/check_harness.hh"

namespace mpic::validators {
namespace {

using test::check_harness;
using test::fake_reply;

constexpr std::uint16_t type_a = 1, type_cname = 5, type_ptr = 12, type_txt = 16, type_aaaa = 28, type_caa = 257;
const std::string hash = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

check_request dcv(validation_method method, std::string name, bool wildcard = false) {
    check_request request;
    request.type = check_type::dcv;
    request.dcv.method = method;
    request.target.kind = net::identifier::kind_t::dns;
    request.target.name = std::move(name);
    request.target.wildcard = wildcard;
    return request;
}

check_request dcv_ip(validation_method method, std::string address, bool v6 = false) {
    auto request = dcv(method, std::move(address));
    request.target.kind = net::identifier::kind_t::ip;
    request.target.is_ipv6 = v6;
    return request;
}

/// Replies by (name, type); anything else is NXDOMAIN.
test::fake_dns_server::handler table(std::map<std::pair<std::string, std::uint16_t>, fake_reply> replies) {
    return [replies = std::move(replies)](const std::string& qname, std::uint16_t qtype) {
        const auto it = replies.find({qname, qtype});
        return it == replies.end() ? fake_reply::nxdomain() : it->second;
    };
}

bool has_error(const check_result& result, std::string_view key) {
    return result.errors.size() == 1 && result.errors[0].type == key;
}

using questions = std::vector<std::pair<std::string, std::uint16_t>>;

// ---- acme-dns-01 ------------------------------------------------------------------------------------------------

check_request dns01(std::string name, bool wildcard = false) {
    auto request = dcv(validation_method::acme_dns_01, std::move(name), wildcard);
    request.dcv.key_authorization_hash = hash;
    return request;
}

TEST(Dns01Check, D1_TwoTxtRecordsOneMatches) {
    check_harness h(table({{{"_acme-challenge.example.com", type_txt},
                            fake_reply::with({test::txt_rr("_acme-challenge.example.com", {"stale-value"}),
                                              test::txt_rr("_acme-challenge.example.com", {hash})})}}));
    const auto result = h.run(make_dns01_check, dns01("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.method, validation_method::acme_dns_01);
    EXPECT_EQ(result.details.found_at, "_acme-challenge.example.com");
    EXPECT_EQ(result.details.records_seen, (std::vector<std::string>{"\"stale-value\"", "\"" + hash + "\""}));
    EXPECT_EQ(result.details.response_code, "NOERROR");
}

TEST(Dns01Check, StringsOfOneRecordAreJoined) {
    check_harness h(table(
        {{{"_acme-challenge.example.com", type_txt},
          fake_reply::with({test::txt_rr("_acme-challenge.example.com", {hash.substr(0, 20), hash.substr(20)})})}}));
    EXPECT_TRUE(h.run(make_dns01_check, dns01("example.com")).passed);
}

TEST(Dns01Check, StringsOfDifferentRecordsAreNotJoined) {
    check_harness h(table({{{"_acme-challenge.example.com", type_txt},
                            fake_reply::with({test::txt_rr("_acme-challenge.example.com", {hash.substr(0, 20)}),
                                              test::txt_rr("_acme-challenge.example.com", {hash.substr(20)})})}}));
    const auto result = h.run(make_dns01_check, dns01("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    EXPECT_TRUE(has_error(result, "mpic_error:dcv_checker:mismatch"));
}

TEST(Dns01Check, D5_WildcardQueriesBaseDomain) {
    check_harness h(table({{{"_acme-challenge.example.com", type_txt},
                            fake_reply::with({test::txt_rr("_acme-challenge.example.com", {hash})})}}));
    EXPECT_TRUE(h.run(make_dns01_check, dns01("example.com", true)).passed);
    EXPECT_EQ(h.server().questions(), (questions{{"_acme-challenge.example.com", type_txt}}));
}

TEST(Dns01Check, D6_NodataIsNoTxtRecordFound) {
    check_harness h(table({{{"_acme-challenge.example.com", type_txt}, fake_reply::nodata()}}));
    const auto result = h.run(make_dns01_check, dns01("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_TRUE(has_error(result, "mpic_error:dcv_checker:not_found"));
    EXPECT_NE(result.errors[0].message.find("No TXT record found"), std::string::npos);
}

TEST(Dns01Check, NxdomainIsNoTxtRecordFound) {
    check_harness h(table({}));
    const auto result = h.run(make_dns01_check, dns01("example.com"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:dcv_checker:not_found"));
    EXPECT_EQ(result.details.response_code, "NXDOMAIN");
}

TEST(Dns01Check, D7_ServfailAndBogusAreLookupFailures) {
    for (const auto& reply : {fake_reply::servfail(), fake_reply::bogus()}) {
        check_harness h(table({{{"_acme-challenge.example.com", type_txt}, reply}}));
        auto request = dns01("example.com");
        request.primary = true;
        const auto result = h.run(make_dns01_check, request);
        EXPECT_FALSE(result.completed);
        EXPECT_FALSE(result.passed);
        EXPECT_TRUE(has_error(result, "mpic_error:dcv_checker:lookup"));
        EXPECT_EQ(h.server().questions().size(), 1U); // never retried into a pass
    }
}

TEST(Dns01Check, D8_IpIdentifierIsAParameterError) {
    check_harness h(table({}));
    auto request = dns01("192.0.2.1");
    request.target.kind = net::identifier::kind_t::ip;
    const auto result = h.run(make_dns01_check, request);
    EXPECT_FALSE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:dcv_checker:parameter"));
    EXPECT_TRUE(h.server().questions().empty());
}

TEST(Dns01Check, CnameChainIsFollowedAndReported) {
    check_harness h(table({{{"_acme-challenge.example.com", type_txt},
                            fake_reply::with({test::cname_rr("_acme-challenge.example.com", "example.acme-dns.net"),
                                              test::txt_rr("example.acme-dns.net", {hash})})}}));
    const auto result = h.run(make_dns01_check, dns01("example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.found_at, "example.acme-dns.net");
    EXPECT_EQ(result.details.cname_chain,
              (std::vector<std::string>{"_acme-challenge.example.com", "example.acme-dns.net"}));
}

TEST(Dns01Check, CaseDiffersIsAMismatch) {
    std::string lower = hash;
    for (auto& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    check_harness h(table({{{"_acme-challenge.example.com", type_txt},
                            fake_reply::with({test::txt_rr("_acme-challenge.example.com", {lower})})}}));
    EXPECT_FALSE(h.run(make_dns01_check, dns01("example.com")).passed);
}

// ---- dns-account-01 ---------------------------------------------------------------------------------------------

TEST(DnsAccount01Check, QueriesAccountScopedLabel) {
    const std::string name = "_ujmmovf2vn55tgye._acme-challenge.example.org";
    check_harness h(table({{{name, type_txt}, fake_reply::with({test::txt_rr(name, {hash})})}}));
    auto request = dcv(validation_method::dns_account_01, "example.org");
    request.dcv.expected_account_uri = "https://example.com/acme/acct/ExampleAccount";
    request.dcv.key_authorization_hash = hash;
    EXPECT_TRUE(h.run(make_dns_account01_check, request).passed);
    EXPECT_EQ(h.server().questions(), (questions{{name, type_txt}}));
}

TEST(DnsAccount01Check, MissingAccountIsAParameterError) {
    check_harness h(table({}));
    auto request = dcv(validation_method::dns_account_01, "example.org");
    request.dcv.key_authorization_hash = hash;
    EXPECT_TRUE(has_error(h.run(make_dns_account01_check, request), "mpic_error:dcv_checker:parameter"));
}

// ---- dns-change -------------------------------------------------------------------------------------------------

check_request change(dns_record_type type, std::string challenge) {
    auto request = dcv(validation_method::dns_change, "example.com");
    request.dcv.record_type = type;
    request.dcv.challenge_value = std::move(challenge);
    return request;
}

TEST(DnsChangeCheck, TxtContainsByDefaultAtPrefixedName) {
    check_harness h(table({{{"_dnsauth.example.com", type_txt},
                            fake_reply::with({test::txt_rr("_dnsauth.example.com", {"token=rv-123456"})})}}));
    auto request = change(dns_record_type::txt, "rv-123456");
    request.dcv.dns_name_prefix = "_dnsauth";
    EXPECT_TRUE(h.run(make_dns_change_check, request).passed);
}

TEST(DnsChangeCheck, TxtExactMatchAndCase) {
    const auto handler =
        table({{{"example.com", type_txt}, fake_reply::with({test::txt_rr("example.com", {"token=RV-123456"})})}});
    auto request = change(dns_record_type::txt, "rv-123456");
    {
        check_harness h(handler);
        EXPECT_TRUE(has_error(h.run(make_dns_change_check, request), "mpic_error:dcv_checker:mismatch"));
    }
    request.dcv.require_exact_case = false;
    {
        check_harness h(handler);
        EXPECT_TRUE(h.run(make_dns_change_check, request).passed);
    }
    request.dcv.require_exact_match = true;
    {
        check_harness h(handler);
        EXPECT_FALSE(h.run(make_dns_change_check, request).passed);
    }
}

TEST(DnsChangeCheck, CnameTargetCarriesToken) {
    check_harness h(
        table({{{"_dnsauth.example.com", type_cname},
                fake_reply::with({test::cname_rr("_dnsauth.example.com", "rv-123456.dcv.ourca.example")})}}));
    auto request = change(dns_record_type::cname, "rv-123456.dcv.ourca.example");
    request.dcv.dns_name_prefix = "_dnsauth";
    request.dcv.require_exact_match = true;
    const auto result = h.run(make_dns_change_check, request);
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(h.server().questions(), (questions{{"_dnsauth.example.com", type_cname}}));
}

TEST(DnsChangeCheck, CaaValueCarriesToken) {
    check_harness h(table({{{"example.com", type_caa},
                            fake_reply::with({test::caa_rr("example.com", 0, "issue", "ourca.example; rv=abc")})}}));
    EXPECT_TRUE(h.run(make_dns_change_check, change(dns_record_type::caa, "rv=abc")).passed);
}

TEST(DnsChangeCheck, PrefixWithoutUnderscoreAndBadTypeAreParameterErrors) {
    check_harness h(table({}));
    auto request = change(dns_record_type::txt, "x");
    request.dcv.dns_name_prefix = "dnsauth";
    EXPECT_TRUE(has_error(h.run(make_dns_change_check, request), "mpic_error:dcv_checker:parameter"));
    EXPECT_TRUE(
        has_error(h.run(make_dns_change_check, change(dns_record_type::a, "x")), "mpic_error:dcv_checker:parameter"));
    EXPECT_TRUE(
        has_error(h.run(make_dns_change_check, change(dns_record_type::txt, "")), "mpic_error:dcv_checker:parameter"));
    EXPECT_TRUE(h.server().questions().empty());
}

// ---- dns-persistent ---------------------------------------------------------------------------------------------

check_request persistent() {
    auto request = dcv(validation_method::dns_persistent, "example.com", true);
    request.dcv.issuer_domain_names = {"ourca.example"};
    request.dcv.expected_account_uri = "https://ourca.example/acct/1";
    return request;
}

TEST(DnsPersistentCheck, UsableRecordPasses) {
    check_harness h(table({{{"_validation-persist.example.com", type_txt},
                            fake_reply::with({test::txt_rr(
                                "_validation-persist.example.com",
                                {"ourca.example; accounturi=https://ourca.example/acct/1; policy=wildcard; x=y"})})}}));
    EXPECT_TRUE(h.run(make_dns_persistent_check, persistent()).passed);
}

TEST(DnsPersistentCheck, WildcardWithoutPolicyWildcardFails) {
    check_harness h(
        table({{{"_validation-persist.example.com", type_txt},
                fake_reply::with({test::txt_rr("_validation-persist.example.com",
                                               {"ourca.example; accounturi=https://ourca.example/acct/1"})})}}));
    const auto result = h.run(make_dns_persistent_check, persistent());
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(has_error(result, "mpic_error:dcv_checker:mismatch"));
}

TEST(DnsPersistentCheck, ExpiredOrOtherAccountFails) {
    check_harness h(
        table({{{"_validation-persist.example.com", type_txt},
                fake_reply::with(
                    {test::txt_rr("_validation-persist.example.com",
                                  {"ourca.example; accounturi=https://ourca.example/acct/1; persistUntil=1000000000"}),
                     test::txt_rr("_validation-persist.example.com",
                                  {"ourca.example; accounturi=https://ourca.example/acct/2"})})}}));
    const auto result = h.run(make_dns_persistent_check, persistent());
    EXPECT_TRUE(result.completed);
    ASSERT_TRUE(has_error(result, "mpic_error:dcv_checker:mismatch"));
    EXPECT_NE(result.errors[0].message.find("has passed"), std::string::npos);
}

TEST(DnsPersistentCheck, MissingInputsAreParameterErrors) {
    check_harness h(table({}));
    auto request = persistent();
    request.dcv.issuer_domain_names.clear();
    EXPECT_TRUE(has_error(h.run(make_dns_persistent_check, request), "mpic_error:dcv_checker:parameter"));
}

// ---- contacts ---------------------------------------------------------------------------------------------------

TEST(ContactCheck, EmailTxt) {
    check_harness h(table(
        {{{"_validation-contactemail.example.com", type_txt},
          fake_reply::with({test::txt_rr("_validation-contactemail.example.com", {"hostmaster@Example.com"})})}}));
    auto request = dcv(validation_method::contact_email_txt, "example.com");
    request.dcv.challenge_value = "hostmaster@example.com";
    EXPECT_TRUE(h.run(make_contact_check, request).passed);
}

TEST(ContactCheck, PhoneTxtMismatch) {
    check_harness h(
        table({{{"_validation-contactphone.example.com", type_txt},
                fake_reply::with({test::txt_rr("_validation-contactphone.example.com", {"+1 555 0100"})})}}));
    auto request = dcv(validation_method::contact_phone_txt, "example.com");
    request.dcv.challenge_value = "+1 555 0199";
    EXPECT_TRUE(has_error(h.run(make_contact_check, request), "mpic_error:dcv_checker:mismatch"));
}

TEST(ContactCheck, EmailCaaClimbsToRelevantSet) {
    check_harness h(table({{{"www.example.com", type_caa}, fake_reply::nodata()},
                           {{"example.com", type_caa},
                            fake_reply::with({test::caa_rr("example.com", 0, "issue", "ourca.example"),
                                              test::caa_rr("example.com", 0, "contactemail", "admin@example.com")})}}));
    auto request = dcv(validation_method::contact_email_caa, "www.example.com");
    request.dcv.challenge_value = "admin@example.com";
    const auto result = h.run(make_contact_check, request);
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.found_at, "example.com");
}

TEST(ContactCheck, PhoneCaaWithoutPropertyIsNotFound) {
    check_harness h(table(
        {{{"example.com", type_caa}, fake_reply::with({test::caa_rr("example.com", 0, "issue", "ourca.example")})}}));
    auto request = dcv(validation_method::contact_phone_caa, "example.com");
    request.dcv.challenge_value = "+15550100";
    EXPECT_TRUE(has_error(h.run(make_contact_check, request), "mpic_error:dcv_checker:not_found"));
}

TEST(ContactCheck, CaaLookupFailureIsNeverTolerated) {
    check_harness h(table({{{"example.com", type_caa}, fake_reply::servfail()}}));
    auto request = dcv(validation_method::contact_email_caa, "example.com");
    request.dcv.challenge_value = "admin@example.com";
    request.caa.allow_lookup_failure = true; // a CAA-authorization opt-in; irrelevant to finding a contact
    EXPECT_TRUE(has_error(h.run(make_contact_check, request), "mpic_error:dcv_checker:lookup"));
}

// ---- ip-address -------------------------------------------------------------------------------------------------

TEST(IpAddressCheck, AaaaComparedAsAddress) {
    check_harness h(
        table({{{"example.com", type_aaaa}, fake_reply::with({test::aaaa_rr("example.com", "2001:db8::1")})}}));
    auto request = dcv(validation_method::ip_address, "example.com");
    request.dcv.record_type = dns_record_type::aaaa;
    request.dcv.challenge_value = "2001:DB8:0:0::1";
    const auto result = h.run(make_ip_address_check, request);
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.records_seen, (std::vector<std::string>{"2001:db8::1"}));
}

TEST(IpAddressCheck, AMismatch) {
    check_harness h(table({{{"example.com", type_a}, fake_reply::with({test::a_rr("example.com", "192.0.2.7")})}}));
    auto request = dcv(validation_method::ip_address, "example.com");
    request.dcv.record_type = dns_record_type::a;
    request.dcv.challenge_value = "192.0.2.8";
    EXPECT_TRUE(has_error(h.run(make_ip_address_check, request), "mpic_error:dcv_checker:mismatch"));
}

TEST(IpAddressCheck, FamilyMismatchAndNonAddressAreParameterErrors) {
    check_harness h(table({}));
    auto request = dcv(validation_method::ip_address, "example.com");
    request.dcv.record_type = dns_record_type::a;
    request.dcv.challenge_value = "2001:db8::1";
    EXPECT_TRUE(has_error(h.run(make_ip_address_check, request), "mpic_error:dcv_checker:parameter"));
    request.dcv.challenge_value = "not-an-ip";
    EXPECT_TRUE(has_error(h.run(make_ip_address_check, request), "mpic_error:dcv_checker:parameter"));
    request.dcv.challenge_value = "192.0.2.1";
    request.dcv.record_type = dns_record_type::txt;
    EXPECT_TRUE(has_error(h.run(make_ip_address_check, request), "mpic_error:dcv_checker:parameter"));
}

// ---- reverse-address-lookup -------------------------------------------------------------------------------------

TEST(ReverseLookupCheck, PtrNamesFqdnCaseInsensitively) {
    check_harness h(table({{{"7.2.0.192.in-addr.arpa", type_ptr},
                            fake_reply::with({test::ptr_rr("7.2.0.192.in-addr.arpa", "Host.Example.com")})}}));
    auto request = dcv_ip(validation_method::reverse_address_lookup, "192.0.2.7");
    request.dcv.challenge_value = "host.example.com.";
    EXPECT_TRUE(h.run(make_reverse_lookup_check, request).passed);
}

TEST(ReverseLookupCheck, Ipv6NibbleNameAndMismatch) {
    const std::string name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    check_harness h(table({{{name, type_ptr}, fake_reply::with({test::ptr_rr(name, "other.example.com")})}}));
    auto request = dcv_ip(validation_method::reverse_address_lookup, "2001:db8::1", true);
    request.dcv.challenge_value = "host.example.com";
    EXPECT_TRUE(has_error(h.run(make_reverse_lookup_check, request), "mpic_error:dcv_checker:mismatch"));
    EXPECT_EQ(h.server().questions(), (questions{{name, type_ptr}}));
}

TEST(ReverseLookupCheck, DomainTargetIsAParameterError) {
    check_harness h(table({}));
    auto request = dcv(validation_method::reverse_address_lookup, "example.com");
    request.dcv.challenge_value = "example.com";
    EXPECT_TRUE(has_error(h.run(make_reverse_lookup_check, request), "mpic_error:dcv_checker:parameter"));
}

} // namespace
} // namespace mpic::validators
