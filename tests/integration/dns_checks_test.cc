// The DNS checks (validators/dns/*) run through validators::start_check against the lab's real BIND 9, from the
// perspectives' own source addresses (issue #4). Scenario: tools/mpic-lab/scenarios/checks-dns.toml. Each test
// names the standards §6 row it covers.

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using validators::check_result;
using validators::dns_record_type;
using validators::validation_method;

struct dns_scenario {
    static std::string file() { return lab::scenario_file("checks-dns.toml"); }
};

class checks_dns : public lab::lab_fixture<dns_scenario> {
protected:
    check_result run_from(int k, const validators::check_request& request) {
        lab_perspective p(lab(), at(k));
        return p.run(request);
    }
    check_result run(const validators::check_request& request) { return run_from(1, request); }
};

bool contains(const std::vector<std::string>& values, std::string_view needle) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return v.find(needle) != std::string::npos; });
}

void expect_passed(const check_result& r) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_TRUE(r.errors.empty()) << first_error(r);
}

void expect_failed(const check_result& r, std::string_view key, bool completed = true) {
    EXPECT_EQ(r.completed, completed) << first_error(r);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, key) << r.errors[0].message;
}

// ---- CAA (RFC 8659, RFC 8657, BR 3.2.2.8) -----------------------------------------------------------------------

TEST_F(checks_dns, c1_no_caa_at_any_level_permits) {
    auto r = run(caa_request("none.caa.chk"));
    expect_passed(r);
    EXPECT_FALSE(r.details.caa_record_present);
    EXPECT_TRUE(r.details.records_seen.empty());
    EXPECT_EQ(r.details.response_code, "NOERROR"); // the last empty answer: the TLD apex, NODATA
}

TEST_F(checks_dns, c3_empty_issuer_forbids) {
    auto r = run(caa_request("c3.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_TRUE(r.details.caa_record_present);
    EXPECT_EQ(r.details.found_at, "c3.caa.chk");
    EXPECT_TRUE(contains(r.details.records_seen, "issue")) << r.details.records_seen.size();
}

TEST_F(checks_dns, c4_malformed_issue_value_forbids) {
    auto r = run(caa_request("c4.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_TRUE(contains(r.details.records_seen, "%%%%%"));
}

TEST_F(checks_dns, c6_unknown_critical_tag_forbids_even_beside_our_issue) {
    auto r = run(caa_request("c6.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_EQ(r.details.records_seen.size(), 2U);
    EXPECT_TRUE(contains(r.details.records_seen, "128 tbs"));
}

TEST_F(checks_dns, c7_only_unknown_non_critical_tag_permits) {
    auto r = run(caa_request("c7.caa.chk"));
    expect_passed(r);
    EXPECT_TRUE(r.details.caa_record_present);
    EXPECT_EQ(r.details.found_at, "c7.caa.chk");
}

TEST_F(checks_dns, c8_reserved_flag_bit_is_ignored) {
    auto r = run(caa_request("c8.caa.chk"));
    expect_passed(r); // standards §7.3: RFC 8659 §4.1.1 (Boulder would deny)
    EXPECT_TRUE(r.details.caa_record_present);
}

TEST_F(checks_dns, c10_only_critical_iodef_permits) {
    auto r = run(caa_request("c10.caa.chk"));
    expect_passed(r);
    EXPECT_TRUE(r.details.caa_record_present);
    EXPECT_EQ(r.details.found_at, "c10.caa.chk");
}

TEST_F(checks_dns, c11_issuewild_overrides_issue_for_a_wildcard) {
    auto r = run(caa_request("*.c11.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_EQ(r.details.found_at, "c11.caa.chk");
    // The same RRset permits the non-wildcard name (issue names us).
    expect_passed(run(caa_request("c11.caa.chk")));
}

TEST_F(checks_dns, c12_wildcard_with_only_issue_permits) {
    auto r = run(caa_request("*.c12.caa.chk"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "c12.caa.chk");
}

TEST_F(checks_dns, c13_issuewild_is_ignored_for_a_non_wildcard) {
    expect_passed(run(caa_request("c13.caa.chk")));
    // ... but restricts the wildcard.
    expect_failed(run(caa_request("*.c13.caa.chk")), "mpic_error:caa_checker:prohibited");
}

TEST_F(checks_dns, c15_alias_target_caa_is_caa_of_the_alias_and_forbids) {
    auto r = run(caa_request("www.c15.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_EQ(r.details.found_at, "www.c15.caa.chk"); // CAA(X) is X's, found by chasing the alias
    EXPECT_EQ(r.details.cname_chain, (std::vector<std::string>{"www.c15.caa.chk", "cdn.provider.chk"}));
    EXPECT_TRUE(contains(r.details.records_seen, "other.example"));
}

TEST_F(checks_dns, c15_alias_without_caa_climbs_the_alias_parents_not_the_targets) {
    auto r = run(caa_request("www.c15b.caa.chk"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "c15b.caa.chk");
    EXPECT_TRUE(r.details.caa_record_present);
}

TEST_F(checks_dns, c22_nxdomain_at_the_name_climbs_to_a_permitting_parent) {
    auto r = run(caa_request("does-not-exist.c22.caa.chk"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "c22.caa.chk");
    EXPECT_TRUE(r.details.caa_record_present);
}

TEST_F(checks_dns, c27_accounturi_of_our_account_permits) {
    auto request = caa_request("c27.caa.chk");
    request.caa.account_uri = "https://ca.example/acct/1";
    expect_passed(run(request));
}

TEST_F(checks_dns, c28_accounturi_of_another_account_forbids) {
    auto request = caa_request("c27.caa.chk");
    request.caa.account_uri = "https://ca.example/acct/2";
    expect_failed(run(request), "mpic_error:caa_checker:prohibited");
    request.caa.account_uri.reset(); // no account given: the parameter is unsatisfiable
    expect_failed(run(request), "mpic_error:caa_checker:prohibited");
}

TEST_F(checks_dns, c30_validationmethods_not_listing_the_method_forbids) {
    auto request = caa_request("c30.caa.chk");
    request.caa.validation_method = "http-01";
    expect_failed(run(request), "mpic_error:caa_checker:prohibited");
    request.caa.validation_method = "dns-01";
    expect_passed(run(request));
}

TEST_F(checks_dns, c31_validationmethods_list_permits_a_listed_method) {
    auto request = caa_request("c31.caa.chk");
    request.caa.validation_method = "http-01";
    expect_passed(run(request));
    request.caa.validation_method = "tls-alpn-01";
    expect_failed(run(request), "mpic_error:caa_checker:prohibited");
}

TEST_F(checks_dns, c35_issuer_domain_compares_case_and_trailing_dot_insensitively) {
    expect_passed(run(caa_request("c35.caa.chk")));
}

TEST_F(checks_dns, c38_ip_address_gets_no_caa_lookup) {
    // The resolver points at a closed port: any query would end in a lookup error, so a pass proves none was sent.
    lab_perspective p(lab(), at(1).with_dns_port(1));
    auto r = p.run(caa_request("192.0.2.10"));
    expect_passed(r);
    EXPECT_FALSE(r.details.caa_record_present);
    EXPECT_TRUE(r.details.response_code.empty());
}

TEST_F(checks_dns, caa_tags_match_case_insensitively) {
    auto r = run(caa_request("tagcase.caa.chk"));
    expect_failed(r, "mpic_error:caa_checker:prohibited");
    EXPECT_TRUE(r.details.caa_record_present);
}

TEST_F(checks_dns, smime_is_governed_by_issuemail_not_issue) {
    expect_failed(run(caa_request("smime.caa.chk")), "mpic_error:caa_checker:prohibited");
    auto smime = caa_request("smime.caa.chk");
    smime.caa.cert_type = validators::certificate_type::s_mime;
    expect_passed(run(smime));
}

TEST_F(checks_dns, issue_value_whitespace_is_allowed_around_separators) {
    auto request = caa_request("ws.caa.chk");
    request.caa.account_uri = "https://ca.example/acct/1";
    expect_passed(run(request));
    request.caa.account_uri = "https://ca.example/acct/2";
    expect_failed(run(request), "mpic_error:caa_checker:prohibited");
}

TEST_F(checks_dns, per_perspective_caa_view_perspective_2_is_forbidden) {
    expect_passed(run_from(1, caa_request("split.caa.chk")));
    auto r2 = run_from(2, caa_request("split.caa.chk"));
    expect_failed(r2, "mpic_error:caa_checker:prohibited");
    EXPECT_TRUE(contains(r2.details.records_seen, "other.example"));
}

// ---- acme-dns-01 (RFC 8555 §8.4) ------------------------------------------------------------------------------

validators::check_request dns01(std::string_view target, std::string_view digest) {
    auto request = dcv_request(target, validation_method::acme_dns_01);
    request.dcv.key_authorization_hash = std::string(digest);
    return request;
}

TEST_F(checks_dns, d1_one_of_two_txt_records_matches) {
    auto r = run(dns01("d1.chk", "d1-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_acme-challenge.d1.chk");
    EXPECT_EQ(r.details.records_seen.size(), 2U);
    EXPECT_EQ(r.details.response_code, "NOERROR");
    EXPECT_FALSE(r.details.ad_flag); // BIND directly: no validating resolver in this scenario
}

TEST_F(checks_dns, dns01_wrong_digest_is_a_mismatch) {
    auto r = run(dns01("d1.chk", "d1-DIGEST")); // case-sensitive compare
    expect_failed(r, "mpic_error:dcv_checker:mismatch");
    EXPECT_EQ(r.details.records_seen.size(), 2U);
}

TEST_F(checks_dns, d5_wildcard_is_validated_at_the_base_name) {
    auto r = run(dns01("*.d5.chk", "d5-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_acme-challenge.d5.chk");
}

TEST_F(checks_dns, d6_nodata_is_no_txt_record_found) {
    auto r = run(dns01("d6.chk", "anything"));
    expect_failed(r, "mpic_error:dcv_checker:not_found");
    EXPECT_NE(r.errors[0].message.find("No TXT record found"), std::string::npos) << r.errors[0].message;
    EXPECT_EQ(r.details.response_code, "NOERROR");
    EXPECT_TRUE(r.details.records_seen.empty());
}

TEST_F(checks_dns, d6_nxdomain_is_no_txt_record_found) {
    auto r = run(dns01("d6nx.chk", "anything"));
    expect_failed(r, "mpic_error:dcv_checker:not_found");
    EXPECT_EQ(r.details.response_code, "NXDOMAIN");
}

TEST_F(checks_dns, dns01_multi_string_txt_is_joined) {
    auto r = run(dns01("multi.chk", "multi-part-one-multi-part-two"));
    expect_passed(r);
    ASSERT_EQ(r.details.records_seen.size(), 1U);
    // Each character-string separately on the wire, so the presentation form shows two strings.
    EXPECT_NE(r.details.records_seen[0].find("\"multi-part-one-\" \"multi-part-two\""), std::string::npos)
        << r.details.records_seen[0];
    // A single string is not enough.
    expect_failed(run(dns01("multi.chk", "multi-part-one-")), "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_dns, answer_larger_than_udp_size_is_fetched_over_tcp) {
    auto r = run(dns01("big.chk", "big-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.records_seen.size(), 13U);
}

TEST_F(checks_dns, dns01_follows_a_cname_delegation) {
    auto r = run(dns01("delegated.chk", "delegated-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "challenges.delegate.chk");
    EXPECT_EQ(r.details.cname_chain,
              (std::vector<std::string>{"_acme-challenge.delegated.chk", "challenges.delegate.chk"}));
}

TEST_F(checks_dns, dns01_follows_a_dname_synthesised_cname) {
    auto r = run(dns01("x.dname.chk", "dname-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_acme-challenge.x.dtarget.chk");
    EXPECT_EQ(r.details.cname_chain,
              (std::vector<std::string>{"_acme-challenge.x.dname.chk", "_acme-challenge.x.dtarget.chk"}));
}

TEST_F(checks_dns, records_seen_escapes_quote_backslash_and_non_ascii) {
    auto r = run(dns01("escape.chk", "q\"b\\s\xC3\xA9"));
    expect_passed(r);
    ASSERT_EQ(r.details.records_seen.size(), 1U);
    EXPECT_EQ(r.details.records_seen[0], "\"q\\\"b\\\\s\\195\\169\"");
}

TEST_F(checks_dns, per_perspective_views_perspective_2_sees_the_forged_txt) {
    expect_passed(run_from(1, dns01("poisoned.chk", "poisoned-good-digest")));
    auto r2 = run_from(2, dns01("poisoned.chk", "poisoned-good-digest"));
    expect_failed(r2, "mpic_error:dcv_checker:mismatch");
    EXPECT_TRUE(contains(r2.details.records_seen, "poisoned-forged-digest"));
    expect_passed(run_from(3, dns01("poisoned.chk", "poisoned-good-digest")));
}

TEST_F(checks_dns, n1_mixed_case_identifier_is_normalised) {
    auto r = run(dns01("MiXeD.CHK", "mixed-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_acme-challenge.mixed.chk");
}

TEST_F(checks_dns, n3_a_label_name_validates) {
    auto r = run(dns01("xn--bcher-kva.chk", "idn-digest"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_acme-challenge.xn--bcher-kva.chk");
    // The U-label form becomes the same A-label.
    expect_passed(run(dns01("b\xC3\xBC"
                            "cher.chk",
                            "idn-digest")));
}

TEST_F(checks_dns, d8_dns01_for_an_ip_is_refused_without_a_query) {
    lab_perspective p(lab(), at(1).with_dns_port(1));
    auto r = p.run(dns01("192.0.2.10", "x"));
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:parameter");
    EXPECT_FALSE(r.passed);
}

// ---- dns-change, dns-persistent, dns-account-01, contacts, ip-address, reverse ----------------------------------

validators::check_request dns_change(std::string_view target, std::string_view value, dns_record_type type,
                                     std::optional<std::string> prefix) {
    auto request = dcv_request(target, validation_method::dns_change);
    request.dcv.challenge_value = std::string(value);
    request.dcv.record_type = type;
    request.dcv.dns_name_prefix = std::move(prefix);
    return request;
}

TEST_F(checks_dns, dns_change_txt_under_underscore_prefix_contains_the_value) {
    auto r = run(dns_change("dc.chk", "rv-dc-4242", dns_record_type::txt, "_dnsauth"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_dnsauth.dc.chk");
    // require_exact_match: the whole value must equal it.
    auto exact = dns_change("dc.chk", "rv-dc-4242", dns_record_type::txt, "_dnsauth");
    exact.dcv.require_exact_match = true;
    expect_failed(run(exact), "mpic_error:dcv_checker:mismatch");
    auto exact_ok = dns_change("dc-exact.chk", "rv-exact-4242", dns_record_type::txt, "_dnsauth");
    exact_ok.dcv.require_exact_match = true;
    expect_passed(run(exact_ok));
}

TEST_F(checks_dns, dns_change_cname_and_caa_values) {
    auto cname = run(dns_change("dc-cname.chk", "rv-cname-4242", dns_record_type::cname, std::nullopt));
    expect_passed(cname);
    EXPECT_EQ(cname.details.found_at, "dc-cname.chk");
    expect_passed(run(dns_change("dc-caa.chk", "rv-caa-4242", dns_record_type::caa, std::nullopt)));
    expect_failed(run(dns_change("dc-caa.chk", "rv-other", dns_record_type::caa, std::nullopt)),
                  "mpic_error:dcv_checker:mismatch");
    expect_failed(run(dns_change("none.caa.chk", "rv-x", dns_record_type::txt, std::nullopt)),
                  "mpic_error:dcv_checker:not_found");
}

validators::check_request persistent(std::string_view target) {
    auto request = dcv_request(target, validation_method::dns_persistent);
    request.dcv.issuer_domain_names = {"ca.example"};
    request.dcv.expected_account_uri = "https://ca.example/acct/1";
    return request;
}

TEST_F(checks_dns, dns_persistent_record_with_our_account_passes) {
    auto r = run(persistent("dp.chk"));
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_validation-persist.dp.chk");
}

TEST_F(checks_dns, dns_persistent_expired_or_other_account_is_a_mismatch) {
    expect_failed(run(persistent("dp-expired.chk")), "mpic_error:dcv_checker:mismatch");
    expect_failed(run(persistent("dp-other.chk")), "mpic_error:dcv_checker:mismatch");
    expect_failed(run(persistent("none.caa.chk")), "mpic_error:dcv_checker:not_found");
}

TEST_F(checks_dns, dns_persistent_wildcard_needs_policy_wildcard) {
    expect_passed(run(persistent("*.dpw.chk")));
    expect_failed(run(persistent("*.dp.chk")), "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_dns, cname_loop_is_a_lookup_error_for_dns01_and_caa) {
    auto txt = run(dns01("cloop.chk", "x"));
    EXPECT_FALSE(txt.passed);
    EXPECT_FALSE(txt.completed);
    ASSERT_EQ(txt.errors.size(), 1U);
    EXPECT_EQ(txt.errors[0].type, "mpic_error:dcv_checker:lookup") << txt.errors[0].message;
    auto caa = run(caa_request("caaloop.chk"));
    EXPECT_FALSE(caa.passed);
    ASSERT_EQ(caa.errors.size(), 1U);
    EXPECT_EQ(caa.errors[0].type, "mpic_error:caa_checker:lookup") << caa.errors[0].message;
}

TEST_F(checks_dns, dns_account01_label_from_the_account_uri) {
    auto request = dcv_request("da.chk", validation_method::dns_account_01);
    request.dcv.expected_account_uri = "https://ca.example/acct/1";
    request.dcv.key_authorization_hash = "account-digest";
    auto r = run(request);
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "_55hp4m7ugx3qoywf._acme-challenge.da.chk");
    // Another account looks elsewhere and finds nothing.
    request.dcv.expected_account_uri = "https://ca.example/acct/2";
    expect_failed(run(request), "mpic_error:dcv_checker:not_found");
}

validators::check_request contact(std::string_view target, validation_method method, std::string_view value) {
    auto request = dcv_request(target, method);
    request.dcv.challenge_value = std::string(value);
    return request;
}

TEST_F(checks_dns, contact_txt_email_and_phone) {
    auto email = run(contact("contact.chk", validation_method::contact_email_txt, "admin@contact.chk"));
    expect_passed(email);
    EXPECT_EQ(email.details.found_at, "_validation-contactemail.contact.chk");
    expect_passed(run(contact("contact.chk", validation_method::contact_phone_txt, "+1 555 0100")));
    expect_failed(run(contact("contact.chk", validation_method::contact_email_txt, "evil@contact.chk")),
                  "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_dns, contact_caa_email_and_phone_via_the_climb) {
    auto email = run(contact("www.contact-caa.chk", validation_method::contact_email_caa, "caa-admin@contact-caa.chk"));
    expect_passed(email);
    EXPECT_EQ(email.details.found_at, "contact-caa.chk");
    expect_passed(run(contact("contact-caa.chk", validation_method::contact_phone_caa, "+1 555 0101")));
    expect_failed(run(contact("none.caa.chk", validation_method::contact_email_caa, "a@b.chk")),
                  "mpic_error:dcv_checker:not_found");
}

validators::check_request ip_address(std::string_view target, std::string_view value, dns_record_type type) {
    auto request = dcv_request(target, validation_method::ip_address);
    request.dcv.challenge_value = std::string(value);
    request.dcv.record_type = type;
    return request;
}

TEST_F(checks_dns, ip_address_a_and_aaaa_compare_as_values) {
    auto a = run(ip_address("ipa.chk", "192.0.2.10", dns_record_type::a));
    expect_passed(a);
    EXPECT_EQ(a.details.found_at, "ipa.chk");
    EXPECT_EQ(a.details.records_seen, (std::vector<std::string>{"192.0.2.10"}));
    expect_passed(run(ip_address("ipa.chk", "2001:0DB8:0:0::0010", dns_record_type::aaaa)));
    expect_failed(run(ip_address("ipa.chk", "192.0.2.11", dns_record_type::a)), "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_dns, reverse_lookup_ptr_names_the_fqdn) {
    auto request = dcv_request("192.0.2.10", validation_method::reverse_address_lookup);
    request.dcv.challenge_value = "IPA.chk.";
    auto r = run(request);
    expect_passed(r);
    EXPECT_EQ(r.details.found_at, "10.2.0.192.in-addr.arpa");
    auto other = dcv_request("192.0.2.11", validation_method::reverse_address_lookup);
    other.dcv.challenge_value = "ipa.chk";
    expect_failed(run(other), "mpic_error:dcv_checker:mismatch");
    auto none = dcv_request("192.0.2.12", validation_method::reverse_address_lookup);
    none.dcv.challenge_value = "ipa.chk";
    auto r_none = run(none);
    expect_failed(r_none, "mpic_error:dcv_checker:not_found");
    EXPECT_EQ(r_none.details.response_code, "NXDOMAIN");
}

TEST_F(checks_dns, three_hundred_concurrent_checks_each_get_their_own_answer) {
    // One perspective, 300 checks in flight at once against BIND (CAA climbs, dns-01 passes and failures): every
    // result belongs to its own request (no answer crosses between queries) and each callback runs once.
    lab_perspective p(lab(), at(2));
    std::vector<validators::check_request> requests;
    for (int i = 0; i < 100; ++i) {
        requests.push_back(dns01("d1.chk", "d1-digest"));
        requests.push_back(dns01("poisoned.chk", "poisoned-good-digest")); // forged for perspective 2
        requests.push_back(caa_request(i % 2 == 0 ? "c7.caa.chk" : "c3.caa.chk"));
    }
    const auto results = p.run_all(requests, 8000);
    ASSERT_EQ(results.size(), requests.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        SCOPED_TRACE(i);
        const auto& target = requests[i].target.name;
        if (target == "d1.chk" || target == "c7.caa.chk") {
            EXPECT_TRUE(results[i].passed) << first_error(results[i]);
        } else {
            EXPECT_TRUE(results[i].completed) << first_error(results[i]);
            EXPECT_FALSE(results[i].passed);
        }
        if (target == "poisoned.chk") {
            EXPECT_TRUE(contains(results[i].details.records_seen, "poisoned-forged-digest"));
        }
    }
}

} // namespace
} // namespace mpic::test
