// The Open MPIC request codec (api.md "Coordinator: POST /mpic"): the bodies Open MPIC's spec and docs show parse
// and echo with their defaults filled in; every 400 issue type is produced, names its field, and never throws.

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using json = nlohmann::json;
using validators::validation_method;

mpic_request parse_ok(const std::string& body) {
    auto parsed = parse_mpic_request(body);
    if (auto* issues = std::get_if<std::vector<request_issue>>(&parsed)) {
        std::string all;
        for (const auto& i : *issues) {
            all += i.issue_type + ": " + i.message + "\n";
        }
        ADD_FAILURE() << "refused: " << body << "\n" << all;
        return {};
    }
    return std::get<mpic_request>(std::move(parsed));
}

std::vector<request_issue> parse_bad(const std::string& body) {
    auto parsed = parse_mpic_request(body);
    if (auto* issues = std::get_if<std::vector<request_issue>>(&parsed)) {
        EXPECT_FALSE(issues->empty());
        return *issues;
    }
    ADD_FAILURE() << "accepted: " << body;
    return {};
}

/// True when some issue has `type` and a message containing `field`.
bool has_issue(const std::vector<request_issue>& issues, std::string_view type, std::string_view field = "") {
    return std::any_of(issues.begin(), issues.end(), [&](const request_issue& i) {
        return i.issue_type == type && i.message.find(field) != std::string::npos;
    });
}

std::string describe(const std::vector<request_issue>& issues) {
    std::string out;
    for (const auto& i : issues) {
        out += i.issue_type + ": " + i.message + "\n";
    }
    return out;
}

json dcv_body(json params, std::string target = "example.com") {
    return {{"check_type", "dcv"}, {"domain_or_ip_target", target}, {"dcv_check_parameters", std::move(params)}};
}

// --- CAA ---------------------------------------------------------------------------------------------------------

TEST(json_request, caa_without_parameters_gets_defaults) {
    auto r = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"example.com"})");
    EXPECT_EQ(r.kind, request_kind::caa);
    ASSERT_EQ(r.targets.size(), 1u);
    EXPECT_EQ(r.targets[0].name, "example.com");
    EXPECT_FALSE(r.targets_field);
    EXPECT_FALSE(r.orchestration.has_value());
    EXPECT_TRUE(r.trace_identifier.empty());
    auto echo = caa_parameters_to_json(r.caa);
    EXPECT_EQ(echo["certificate_type"], "tls-server");
    EXPECT_EQ(echo["caa_domains"], json::array());
    EXPECT_EQ(echo["allow_lookup_failure"], false);
}

TEST(json_request, caa_with_parameters_normalises_issuer_domains) {
    auto r = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"Example.COM.","trace_identifier":"t-1",
        "caa_check_parameters":{"certificate_type":"s-mime","caa_domains":["CA.Example.","other.example"],
        "allow_lookup_failure":true,"account_uri":"https://ca.example/acct/1","validation_method":"dns-01"}})");
    EXPECT_EQ(r.targets.at(0).name, "example.com"); // RFC 4343 lowercase, trailing dot dropped
    EXPECT_EQ(r.trace_identifier, "t-1");
    auto echo = caa_parameters_to_json(r.caa);
    EXPECT_EQ(echo["certificate_type"], "s-mime");
    EXPECT_EQ(echo["caa_domains"], json::array({"ca.example", "other.example"}));
    EXPECT_EQ(echo["allow_lookup_failure"], true);
    EXPECT_EQ(echo["account_uri"], "https://ca.example/acct/1");
    EXPECT_EQ(echo["validation_method"], "dns-01");
}

TEST(json_request, u_labels_become_a_labels) {
    auto r = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"B\u00fccher.Example"})");
    EXPECT_EQ(r.targets.at(0).name, "xn--bcher-kva.example"); // RFC 5891 A-label, lowercased
    auto wild = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"*.b\u00fccher.example"})");
    EXPECT_EQ(wild.targets.at(0).requested(), "*.xn--bcher-kva.example");
}

TEST(json_request, caa_on_ip_and_bracketed_ipv6_targets) {
    auto v4 = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"192.0.2.1"})");
    EXPECT_TRUE(v4.targets.at(0).is_ip());
    auto v6 = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"[2001:db8::1]"})");
    EXPECT_TRUE(v6.targets.at(0).is_ip());
    EXPECT_TRUE(v6.targets.at(0).is_ipv6);
}

// --- DCV: every method with its parameters, echoed with defaults ---------------------------------------------------

TEST(json_request, website_change_defaults) {
    auto r = parse_ok(dcv_body({{"validation_method", "website-change"},
                                {"http_token_path", "token-file.txt"},
                                {"challenge_value", "challenge-123"}})
                          .dump());
    EXPECT_EQ(r.dcv.method, validation_method::website_change);
    auto echo = dcv_parameters_to_json(r.dcv);
    EXPECT_EQ(echo, (json{{"validation_method", "website-change"},
                          {"http_token_path", "token-file.txt"},
                          {"challenge_value", "challenge-123"},
                          {"url_scheme", "http"},
                          {"http_headers", json::object()},
                          {"match_regex", nullptr},
                          {"require_exact_case", true}}));
}

TEST(json_request, website_change_with_every_parameter) {
    auto r = parse_ok(dcv_body({{"validation_method", "website-change"},
                                {"http_token_path", "t"},
                                {"challenge_value", "c"},
                                {"url_scheme", "https"},
                                {"http_headers", {{"User-Agent", "mpic-test"}, {"X-Trace", "1"}}},
                                {"match_regex", "^c$"},
                                {"require_exact_case", false}})
                          .dump());
    auto echo = dcv_parameters_to_json(r.dcv);
    EXPECT_EQ(echo["url_scheme"], "https");
    EXPECT_EQ(echo["http_headers"], (json{{"User-Agent", "mpic-test"}, {"X-Trace", "1"}}));
    EXPECT_EQ(echo["match_regex"], "^c$");
    EXPECT_EQ(echo["require_exact_case"], false);
}

TEST(json_request, acme_http_01) {
    auto r = parse_ok(
        dcv_body({{"validation_method", "acme-http-01"}, {"token", "tok"}, {"key_authorization", "tok.thumb"}}).dump());
    EXPECT_EQ(r.dcv.method, validation_method::acme_http_01);
    EXPECT_EQ(dcv_parameters_to_json(r.dcv), (json{{"validation_method", "acme-http-01"},
                                                   {"token", "tok"},
                                                   {"key_authorization", "tok.thumb"},
                                                   {"http_headers", json::object()}}));
}

TEST(json_request, acme_dns_01_and_tls_alpn_01) {
    for (const char* method : {"acme-dns-01", "acme-tls-alpn-01"}) {
        auto r = parse_ok(dcv_body({{"validation_method", method}, {"key_authorization_hash", "abc_-"}}).dump());
        EXPECT_EQ(dcv_parameters_to_json(r.dcv),
                  (json{{"validation_method", method}, {"key_authorization_hash", "abc_-"}}))
            << method;
    }
}

TEST(json_request, dns_change_defaults_and_overrides) {
    auto r = parse_ok(dcv_body({{"validation_method", "dns-change"}, {"challenge_value", "v"}}).dump());
    EXPECT_EQ(dcv_parameters_to_json(r.dcv), (json{{"validation_method", "dns-change"},
                                                   {"challenge_value", "v"},
                                                   {"dns_record_type", "TXT"},
                                                   {"dns_name_prefix", nullptr},
                                                   {"require_exact_match", false},
                                                   {"require_exact_case", true}}));
    auto c = parse_ok(dcv_body({{"validation_method", "dns-change"},
                                {"challenge_value", "v"},
                                {"dns_record_type", "CNAME"},
                                {"dns_name_prefix", "_pfx"},
                                {"require_exact_match", true},
                                {"require_exact_case", false}})
                          .dump());
    auto echo = dcv_parameters_to_json(c.dcv);
    EXPECT_EQ(echo["dns_record_type"], "CNAME");
    EXPECT_EQ(echo["dns_name_prefix"], "_pfx");
    EXPECT_EQ(echo["require_exact_match"], true);
    EXPECT_EQ(echo["require_exact_case"], false);
    auto caa = parse_ok(
        dcv_body({{"validation_method", "dns-change"}, {"challenge_value", "v"}, {"dns_record_type", "CAA"}}).dump());
    EXPECT_EQ(dcv_parameters_to_json(caa.dcv)["dns_record_type"], "CAA");
}

TEST(json_request, dns_persistent) {
    auto r = parse_ok(dcv_body({{"validation_method", "dns-persistent"},
                                {"issuer_domain_names", {"ca.example"}},
                                {"expected_account_uri", "https://ca.example/acct/7"}})
                          .dump());
    EXPECT_EQ(dcv_parameters_to_json(r.dcv), (json{{"validation_method", "dns-persistent"},
                                                   {"issuer_domain_names", {"ca.example"}},
                                                   {"expected_account_uri", "https://ca.example/acct/7"}}));
}

TEST(json_request, dns_account_01_accepts_both_account_spellings) {
    auto a = parse_ok(dcv_body({{"validation_method", "dns-account-01"},
                                {"key_authorization_hash", "h"},
                                {"account_uri", "https://ca.example/acct/1"}})
                          .dump());
    EXPECT_EQ(a.dcv.expected_account_uri, "https://ca.example/acct/1");
    auto b = parse_ok(dcv_body({{"validation_method", "dns-account-01"},
                                {"key_authorization_hash", "h"},
                                {"expected_account_uri", "https://ca.example/acct/2"}})
                          .dump());
    EXPECT_EQ(dcv_parameters_to_json(b.dcv)["account_uri"], "https://ca.example/acct/2");
}

TEST(json_request, contact_methods) {
    for (const char* method : {"contact-email-txt", "contact-phone-txt"}) {
        auto r = parse_ok(dcv_body({{"validation_method", method}, {"challenge_value", "v@example.com"}}).dump());
        EXPECT_EQ(dcv_parameters_to_json(r.dcv),
                  (json{{"validation_method", method}, {"challenge_value", "v@example.com"}}));
    }
    for (const char* method : {"contact-email-caa", "contact-phone-caa"}) {
        auto r = parse_ok(dcv_body({{"validation_method", method}, {"challenge_value", "x"}}).dump());
        EXPECT_EQ(dcv_parameters_to_json(r.dcv),
                  (json{{"validation_method", method}, {"challenge_value", "x"}, {"dns_name_prefix", nullptr}}));
    }
}

TEST(json_request, ip_address_and_reverse_lookup) {
    auto ip = parse_ok(dcv_body({{"validation_method", "ip-address"}, {"challenge_value", "192.0.2.7"}}).dump());
    EXPECT_EQ(dcv_parameters_to_json(ip.dcv)["dns_record_type"], "A");
    auto v6 = parse_ok(
        dcv_body({{"validation_method", "ip-address"}, {"challenge_value", "2001:db8::7"}, {"dns_record_type", "AAAA"}})
            .dump());
    EXPECT_EQ(dcv_parameters_to_json(v6.dcv)["dns_record_type"], "AAAA");
    auto rev =
        parse_ok(dcv_body({{"validation_method", "reverse-address-lookup"}, {"challenge_value", "host.example.com"}},
                          "192.0.2.9")
                     .dump());
    EXPECT_EQ(dcv_parameters_to_json(rev.dcv), (json{{"validation_method", "reverse-address-lookup"},
                                                     {"challenge_value", "host.example.com"},
                                                     {"dns_name_prefix", nullptr}}));
}

TEST(json_request, orchestration_parameters_are_kept_as_sent) {
    auto r = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"example.com","orchestration_parameters":
        {"perspective_count":6,"quorum_count":4,"max_attempts":2,"cohort_for_single_attempt":1,"deadline_ms":2500}})");
    ASSERT_TRUE(r.orchestration.has_value());
    EXPECT_EQ(r.orchestration->perspective_count, 6);
    EXPECT_EQ(r.orchestration->quorum_count, 4);
    EXPECT_EQ(r.orchestration->max_attempts, 2);
    EXPECT_EQ(r.orchestration->cohort_for_single_attempt, 1);
    EXPECT_EQ(r.orchestration->deadline_ms, 2500);
    auto partial = parse_ok(
        R"({"check_type":"caa","domain_or_ip_target":"example.com","orchestration_parameters":{"quorum_count":3}})");
    ASSERT_TRUE(partial.orchestration.has_value());
    EXPECT_FALSE(partial.orchestration->perspective_count.has_value());
    EXPECT_EQ(partial.orchestration->quorum_count, 3);
    // null is "absent" (Open MPIC clients send it).
    auto null_orch =
        parse_ok(R"({"check_type":"caa","domain_or_ip_target":"example.com","orchestration_parameters":null})");
    EXPECT_FALSE(null_orch.orchestration.has_value());
}

TEST(json_request, dcv_with_caa_takes_the_rfc8657_method_from_the_dcv_part) {
    auto r = parse_ok(R"({"check_type":"dcv_with_caa","domain_or_ip_target":"example.com",
        "dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"h"}})");
    EXPECT_EQ(r.kind, request_kind::dcv_with_caa);
    EXPECT_EQ(r.caa.validation_method, "dns-01");
    auto explicit_method = parse_ok(R"({"check_type":"dcv_with_caa","domain_or_ip_target":"example.com",
        "caa_check_parameters":{"validation_method":"ca-custom"},
        "dcv_check_parameters":{"validation_method":"acme-http-01","token":"t","key_authorization":"t.k"}})");
    EXPECT_EQ(explicit_method.caa.validation_method, "ca-custom");
}

// --- targets vs domain_or_ip_target ------------------------------------------------------------------------------

TEST(json_request, targets_extension) {
    auto r = parse_ok(R"({"check_type":"caa","targets":["a.example.com","*.b.example.com","192.0.2.1"]})");
    EXPECT_TRUE(r.targets_field);
    ASSERT_EQ(r.targets.size(), 3u);
    EXPECT_TRUE(r.targets[1].wildcard);
    EXPECT_EQ(r.targets[1].requested(), "*.b.example.com");
    EXPECT_TRUE(r.targets[2].is_ip());

    auto both = parse_bad(R"({"check_type":"caa","domain_or_ip_target":"a.com","targets":["b.com"]})");
    EXPECT_TRUE(has_issue(both, "invalid-target", "not both")) << describe(both);
    auto empty = parse_bad(R"({"check_type":"caa","targets":[]})");
    EXPECT_TRUE(has_issue(empty, "invalid-target", "targets")) << describe(empty);
    auto typed = parse_bad(R"({"check_type":"caa","targets":["a.com",7]})");
    EXPECT_TRUE(has_issue(typed, "invalid-field-type", "targets")) << describe(typed);
    auto neither = parse_bad(R"({"check_type":"caa"})");
    EXPECT_TRUE(has_issue(neither, "missing-field", "domain_or_ip_target")) << describe(neither);
    std::string many = R"({"check_type":"caa","targets":[)";
    for (int i = 0; i < 101; ++i) {
        many += (i ? ",\"n" : "\"n") + std::to_string(i) + ".example.com\"";
    }
    many += "]}";
    auto too_many = parse_bad(many);
    EXPECT_TRUE(has_issue(too_many, "field-too-long", "targets") || has_issue(too_many, "invalid-target", "targets"))
        << describe(too_many);
    auto one_bad = parse_bad(R"({"check_type":"caa","targets":["ok.example.com","bad..example.com"]})");
    EXPECT_TRUE(has_issue(one_bad, "invalid-target", "targets[1]")) << describe(one_bad);
}

// --- 400: malformed bodies ---------------------------------------------------------------------------------------

TEST(json_request, malformed_json_is_one_issue) {
    for (const std::string body : {"", "{", "{\"check_type\":", "not json", "{\"a\":1,}", "\xff\xfe{}"}) {
        auto issues = parse_bad(body);
        ASSERT_EQ(issues.size(), 1u) << body;
        EXPECT_EQ(issues[0].issue_type, "malformed-json") << body;
    }
}

TEST(json_request, non_object_bodies_are_refused) {
    for (const std::string body : {"[]", "[1,2]", "\"caa\"", "42", "null", "true"}) {
        auto issues = parse_bad(body);
        ASSERT_EQ(issues.size(), 1u) << body;
        EXPECT_EQ(issues[0].issue_type, "malformed-json") << body;
        EXPECT_NE(issues[0].message.find("object"), std::string::npos);
    }
}

TEST(json_request, invalid_utf8_inside_a_string_is_malformed_not_a_crash) {
    std::string body = "{\"check_type\":\"caa\",\"domain_or_ip_target\":\"ex\xc3\x28mple.com\"}";
    auto issues = parse_bad(body);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].issue_type, "malformed-json");
    // A lone UTF-16 surrogate escape is not a Unicode scalar value either.
    auto surrogate = parse_bad(R"({"check_type":"caa","domain_or_ip_target":"a\ud800b.com"})");
    ASSERT_EQ(surrogate.size(), 1u);
    EXPECT_EQ(surrogate[0].issue_type, "malformed-json");
}

// --- 400: wrong types for every field ------------------------------------------------------------------------------

struct type_case {
    const char* body;
    const char* field; ///< must be named by the invalid-field-type issue
};

TEST(json_request, wrong_type_for_every_field_names_the_field) {
    const type_case cases[] = {
        {R"({"check_type":5,"domain_or_ip_target":"a.com"})", "check_type"},
        {R"({"check_type":"caa","domain_or_ip_target":5})", "domain_or_ip_target"},
        {R"({"check_type":"caa","domain_or_ip_target":["a.com"]})", "domain_or_ip_target"},
        {R"({"check_type":"caa","targets":"a.com"})", "targets"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","trace_identifier":7})", "trace_identifier"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":"x"})",
         "orchestration_parameters"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":{"perspective_count":"6"}})",
         "orchestration_parameters.perspective_count"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":{"quorum_count":2.5}})",
         "orchestration_parameters.quorum_count"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":{"max_attempts":true}})",
         "orchestration_parameters.max_attempts"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":{"cohort_for_single_attempt":[1]}})",
         "orchestration_parameters.cohort_for_single_attempt"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","orchestration_parameters":{"deadline_ms":"1000"}})",
         "orchestration_parameters.deadline_ms"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":[]})", "caa_check_parameters"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":{"certificate_type":1}})",
         "caa_check_parameters.certificate_type"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":{"caa_domains":"ca.example"}})",
         "caa_check_parameters.caa_domains"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":{"caa_domains":[1]}})",
         "caa_check_parameters.caa_domains"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":{"allow_lookup_failure":"yes"}})",
         "caa_check_parameters.allow_lookup_failure"},
        {R"({"check_type":"caa","domain_or_ip_target":"a.com","caa_check_parameters":{"account_uri":1}})",
         "caa_check_parameters.account_uri"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":1})", "dcv_check_parameters"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":1}})",
         "dcv_check_parameters.validation_method"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":1,"challenge_value":"c"}})",
         "dcv_check_parameters.http_token_path"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":"t","challenge_value":{}}})",
         "dcv_check_parameters.challenge_value"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":"t","challenge_value":"c","url_scheme":1}})",
         "dcv_check_parameters.url_scheme"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":"t","challenge_value":"c","http_headers":["a"]}})",
         "dcv_check_parameters.http_headers"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":"t","challenge_value":"c","match_regex":5}})",
         "dcv_check_parameters.match_regex"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"website-change","http_token_path":"t","challenge_value":"c","require_exact_case":"no"}})",
         "dcv_check_parameters.require_exact_case"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"acme-http-01","token":1,"key_authorization":"k"}})",
         "dcv_check_parameters.token"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"acme-http-01","token":"t","key_authorization":false}})",
         "dcv_check_parameters.key_authorization"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":3}})",
         "dcv_check_parameters.key_authorization_hash"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"dns-change","challenge_value":"v","dns_record_type":16}})",
         "dcv_check_parameters.dns_record_type"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"dns-change","challenge_value":"v","dns_name_prefix":1}})",
         "dcv_check_parameters.dns_name_prefix"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"dns-change","challenge_value":"v","require_exact_match":1}})",
         "dcv_check_parameters.require_exact_match"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"dns-persistent","issuer_domain_names":[1],"expected_account_uri":"u"}})",
         "dcv_check_parameters.issuer_domain_names"},
        {R"({"check_type":"dcv","domain_or_ip_target":"a.com","dcv_check_parameters":{"validation_method":"dns-persistent","issuer_domain_names":["ca.example"],"expected_account_uri":1}})",
         "dcv_check_parameters.expected_account_uri"},
    };
    for (const auto& c : cases) {
        auto issues = parse_bad(c.body);
        EXPECT_TRUE(has_issue(issues, "invalid-field-type", std::string(c.field) + " must")) << c.body << "\n"
                                                                                             << describe(issues);
    }
}

TEST(json_request, every_problem_is_reported_at_once) {
    auto issues = parse_bad(R"({"check_type":"dcv","domain_or_ip_target":7,"trace_identifier":[],
        "dcv_check_parameters":{"validation_method":"acme-http-01","token":"","key_authorization":""}})");
    EXPECT_TRUE(has_issue(issues, "invalid-field-type", "domain_or_ip_target")) << describe(issues);
    EXPECT_TRUE(has_issue(issues, "invalid-field-type", "trace_identifier")) << describe(issues);
    EXPECT_TRUE(has_issue(issues, "empty-token")) << describe(issues);
    EXPECT_TRUE(has_issue(issues, "empty-key-authorization")) << describe(issues);
}

// --- 400: unknown enumerations, missing and empty fields -----------------------------------------------------------

TEST(json_request, unknown_check_type_and_method) {
    auto type = parse_bad(R"({"check_type":"ocsp","domain_or_ip_target":"a.com"})");
    EXPECT_TRUE(has_issue(type, "invalid-check-type", "check_type")) << describe(type);
    auto upper = parse_bad(R"({"check_type":"CAA","domain_or_ip_target":"a.com"})");
    EXPECT_TRUE(has_issue(upper, "invalid-check-type")) << describe(upper);
    auto method = parse_bad(dcv_body({{"validation_method", "email-magic"}}).dump());
    EXPECT_TRUE(has_issue(method, "invalid-validation-method", "email-magic")) << describe(method);
    auto cert = parse_bad(R"({"check_type":"caa","domain_or_ip_target":"a.com",
        "caa_check_parameters":{"certificate_type":"code-signing"}})");
    EXPECT_TRUE(has_issue(cert, "invalid-certificate-type", "certificate_type")) << describe(cert);
    auto scheme = parse_bad(dcv_body({{"validation_method", "website-change"},
                                      {"http_token_path", "t"},
                                      {"challenge_value", "c"},
                                      {"url_scheme", "ftp"}})
                                .dump());
    EXPECT_TRUE(has_issue(scheme, "invalid-url-scheme", "url_scheme")) << describe(scheme);
    auto rrtype = parse_bad(
        dcv_body({{"validation_method", "dns-change"}, {"challenge_value", "v"}, {"dns_record_type", "MX"}}).dump());
    EXPECT_TRUE(has_issue(rrtype, "invalid-dns-record-type", "dns_record_type")) << describe(rrtype);
    auto ip_rrtype = parse_bad(
        dcv_body({{"validation_method", "ip-address"}, {"challenge_value", "192.0.2.1"}, {"dns_record_type", "TXT"}})
            .dump());
    EXPECT_TRUE(has_issue(ip_rrtype, "invalid-dns-record-type")) << describe(ip_rrtype);
}

TEST(json_request, missing_required_fields) {
    auto no_type = parse_bad(R"({"domain_or_ip_target":"a.com"})");
    EXPECT_TRUE(has_issue(no_type, "missing-field", "check_type")) << describe(no_type);
    auto null_type = parse_bad(R"({"check_type":null,"domain_or_ip_target":"a.com"})");
    EXPECT_TRUE(has_issue(null_type, "missing-field", "check_type")) << describe(null_type);
    auto no_dcv = parse_bad(R"({"check_type":"dcv","domain_or_ip_target":"a.com"})");
    EXPECT_TRUE(has_issue(no_dcv, "missing-field", "dcv_check_parameters")) << describe(no_dcv);
    auto no_method = parse_bad(dcv_body(json::object()).dump());
    EXPECT_TRUE(has_issue(no_method, "missing-field", "validation_method")) << describe(no_method);
    auto no_token = parse_bad(dcv_body({{"validation_method", "acme-http-01"}, {"key_authorization", "k"}}).dump());
    EXPECT_TRUE(has_issue(no_token, "empty-token", "token")) << describe(no_token);
    auto no_hash = parse_bad(dcv_body({{"validation_method", "acme-dns-01"}}).dump());
    EXPECT_TRUE(has_issue(no_hash, "empty-key-authorization-hash")) << describe(no_hash);
    auto no_path = parse_bad(dcv_body({{"validation_method", "website-change"}, {"challenge_value", "c"}}).dump());
    EXPECT_TRUE(has_issue(no_path, "empty-http-token-path", "http_token_path")) << describe(no_path);
    auto no_issuers =
        parse_bad(dcv_body({{"validation_method", "dns-persistent"}, {"expected_account_uri", "u"}}).dump());
    EXPECT_TRUE(has_issue(no_issuers, "empty-issuer-domain-names")) << describe(no_issuers);
    auto empty_issuers = parse_bad(dcv_body({{"validation_method", "dns-persistent"},
                                             {"issuer_domain_names", json::array()},
                                             {"expected_account_uri", "u"}})
                                       .dump());
    EXPECT_TRUE(has_issue(empty_issuers, "empty-issuer-domain-names")) << describe(empty_issuers);
    auto no_account =
        parse_bad(dcv_body({{"validation_method", "dns-persistent"}, {"issuer_domain_names", {"ca.example"}}}).dump());
    EXPECT_TRUE(has_issue(no_account, "empty-account-uri")) << describe(no_account);
}

TEST(json_request, empty_challenge_values_for_every_method_that_has_one) {
    for (const char* method : {"website-change", "dns-change", "contact-email-txt", "contact-phone-txt",
                               "contact-email-caa", "contact-phone-caa", "ip-address", "reverse-address-lookup"}) {
        json params = {{"validation_method", method}, {"challenge_value", ""}, {"http_token_path", "t"}};
        if (std::string(method) != "website-change") {
            params.erase("http_token_path");
        }
        const std::string target = std::string(method) == "reverse-address-lookup" ? "192.0.2.1" : "a.com";
        auto issues = parse_bad(dcv_body(params, target).dump());
        EXPECT_TRUE(has_issue(issues, "empty-challenge-value", "challenge_value")) << method << "\n"
                                                                                   << describe(issues);
        params.erase("challenge_value");
        auto missing = parse_bad(dcv_body(params, target).dump());
        EXPECT_TRUE(has_issue(missing, "empty-challenge-value", "challenge_value")) << method << "\n"
                                                                                    << describe(missing);
    }
    auto empty_token =
        parse_bad(dcv_body({{"validation_method", "acme-http-01"}, {"token", ""}, {"key_authorization", "k"}}).dump());
    EXPECT_TRUE(has_issue(empty_token, "empty-token")) << describe(empty_token);
    auto empty_hash =
        parse_bad(dcv_body({{"validation_method", "acme-tls-alpn-01"}, {"key_authorization_hash", ""}}).dump());
    EXPECT_TRUE(has_issue(empty_hash, "empty-key-authorization-hash")) << describe(empty_hash);
}

TEST(json_request, parameters_of_the_other_check_type_are_refused) {
    auto caa_on_dcv = parse_bad(R"({"check_type":"dcv","domain_or_ip_target":"a.com","caa_check_parameters":{},
        "dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"h"}})");
    EXPECT_TRUE(has_issue(caa_on_dcv, "unexpected-field", "caa_check_parameters")) << describe(caa_on_dcv);
    auto dcv_on_caa = parse_bad(R"({"check_type":"caa","domain_or_ip_target":"a.com",
        "dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"h"}})");
    EXPECT_TRUE(has_issue(dcv_on_caa, "unexpected-field", "dcv_check_parameters")) << describe(dcv_on_caa);
}

TEST(json_request, header_injection_and_bad_issuer_domains) {
    auto crlf = parse_bad(dcv_body({{"validation_method", "acme-http-01"},
                                    {"token", "t"},
                                    {"key_authorization", "k"},
                                    {"http_headers", {{"X-A", "v\r\nInjected: 1"}}}})
                              .dump());
    EXPECT_TRUE(has_issue(crlf, "invalid-http-header", "X-A")) << describe(crlf);
    auto bad_name = parse_bad(dcv_body({{"validation_method", "acme-http-01"},
                                        {"token", "t"},
                                        {"key_authorization", "k"},
                                        {"http_headers", {{"Bad Name", "v"}}}})
                                  .dump());
    EXPECT_TRUE(has_issue(bad_name, "invalid-http-header")) << describe(bad_name);
    auto issuer = parse_bad(R"({"check_type":"caa","domain_or_ip_target":"a.com",
        "caa_check_parameters":{"caa_domains":["*.ca.example"]}})");
    EXPECT_TRUE(has_issue(issuer, "invalid-caa-domain", "*.ca.example")) << describe(issuer);
    auto long_string = parse_bad(
        json{{"check_type", "caa"}, {"domain_or_ip_target", "a.com"}, {"trace_identifier", std::string(5000, 'x')}}
            .dump());
    EXPECT_TRUE(has_issue(long_string, "field-too-long", "trace_identifier")) << describe(long_string);
}

// --- 400: invalid targets ----------------------------------------------------------------------------------------

/// A DNS name of exactly `length` octets under example.com, labels of at most 63 octets.
std::string name_of_length(std::size_t length) {
    std::string suffix = ".example.com";
    std::string name;
    while (name.size() + suffix.size() < length) {
        std::size_t room = length - suffix.size() - name.size();
        if (!name.empty()) {
            name += '.';
            --room;
        }
        std::size_t label = std::min<std::size_t>(63, room);
        if (room - label == 1) {
            --label; // never leave room for only a dot
        }
        name.append(label, 'a');
    }
    return name + suffix;
}

std::vector<request_issue> target_issues(const std::string& target) {
    return parse_bad(json{{"check_type", "caa"}, {"domain_or_ip_target", target}}.dump());
}

TEST(json_request, name_length_limits) {
    const auto ok = name_of_length(253);
    ASSERT_EQ(ok.size(), 253u);
    parse_ok(json{{"check_type", "caa"}, {"domain_or_ip_target", ok}}.dump());
    for (std::size_t length : {254u, 255u, 300u}) {
        const auto name = name_of_length(length);
        ASSERT_EQ(name.size(), length);
        auto issues = target_issues(name);
        EXPECT_TRUE(has_issue(issues, "invalid-target", "domain_or_ip_target")) << length << describe(issues);
    }
    parse_ok(json{{"check_type", "caa"}, {"domain_or_ip_target", std::string(63, 'l') + ".example.com"}}.dump());
    auto label = target_issues(std::string(64, 'l') + ".example.com");
    EXPECT_TRUE(has_issue(label, "invalid-target")) << describe(label);
}

TEST(json_request, invalid_names) {
    for (const std::string& target :
         {std::string("a\0b.example.com", 15), std::string("bad..example.com"), std::string(".example.com"),
          std::string("a b.example.com"), std::string("a_b!.example.com"), std::string("foo.*.example.com"),
          std::string("**.example.com"), std::string(""), std::string("999.1.1.1"), std::string("[2001:db8::1"),
          std::string("com"), std::string("xn--zz.example.com")}) {
        auto issues = target_issues(target);
        EXPECT_TRUE(has_issue(issues, "invalid-target", "domain_or_ip_target")) << "target: " << target << "\n"
                                                                                << describe(issues);
    }
}

TEST(json_request, wildcard_on_a_public_suffix_is_refused) {
    for (const char* target : {"*.com", "*.co.uk", "*.github.io"}) {
        auto issues = target_issues(target);
        EXPECT_TRUE(has_issue(issues, "invalid-target")) << target << "\n" << describe(issues);
    }
    auto ok = parse_ok(R"({"check_type":"caa","domain_or_ip_target":"*.example.co.uk"})");
    EXPECT_TRUE(ok.targets.at(0).wildcard);
}

TEST(json_request, methods_that_do_not_fit_the_target) {
    for (const char* method : {"acme-dns-01", "dns-change"}) {
        json params = {{"validation_method", method}, {"key_authorization_hash", "h"}, {"challenge_value", "v"}};
        if (std::string(method) == "dns-change") {
            params.erase("key_authorization_hash");
        } else {
            params.erase("challenge_value");
        }
        for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
            auto issues = parse_bad(dcv_body(params, ip).dump());
            EXPECT_TRUE(has_issue(issues, "method-not-allowed-for-target", ip)) << method << " " << ip << "\n"
                                                                                << describe(issues);
        }
    }
    auto http01 = parse_bad(
        dcv_body({{"validation_method", "acme-http-01"}, {"token", "t"}, {"key_authorization", "k"}}, "*.example.com")
            .dump());
    EXPECT_TRUE(has_issue(http01, "method-not-allowed-for-target", "*.example.com")) << describe(http01);
    auto alpn = parse_bad(
        dcv_body({{"validation_method", "acme-tls-alpn-01"}, {"key_authorization_hash", "h"}}, "*.example.com").dump());
    EXPECT_TRUE(has_issue(alpn, "method-not-allowed-for-target")) << describe(alpn);
    auto reverse = parse_bad(
        dcv_body({{"validation_method", "reverse-address-lookup"}, {"challenge_value", "h.example.com"}}).dump());
    EXPECT_TRUE(has_issue(reverse, "method-not-allowed-for-target")) << describe(reverse);
    // Allowed combinations: dns-01 on a wildcard, http-01 on an IP (RFC 8738).
    parse_ok(dcv_body({{"validation_method", "acme-dns-01"}, {"key_authorization_hash", "h"}}, "*.example.com").dump());
    parse_ok(dcv_body({{"validation_method", "acme-http-01"}, {"token", "t"}, {"key_authorization", "k"}}, "192.0.2.1")
                 .dump());
    // In the targets extension, every target is checked against the method.
    auto mixed = parse_bad(R"({"check_type":"dcv","targets":["a.example.com","*.example.com"],
        "dcv_check_parameters":{"validation_method":"acme-http-01","token":"t","key_authorization":"k"}})");
    EXPECT_TRUE(has_issue(mixed, "method-not-allowed-for-target", "*.example.com")) << describe(mixed);
}

// --- checker API (POST /dcv, POST /caa) -----------------------------------------------------------------------------

TEST(json_request, check_request_round_trip) {
    validators::check_request req;
    req.type = validators::check_type::dcv;
    req.target = *net::parse_identifier("example.com");
    req.trace_id = "trace-9";
    req.dcv.method = validation_method::dns_change;
    req.dcv.challenge_value = "v";
    req.dcv.dns_name_prefix = "_p";
    auto body = render_check_request(req);
    auto parsed = parse_check_request(body, validators::check_type::dcv);
    ASSERT_TRUE(std::holds_alternative<validators::check_request>(parsed)) << body;
    const auto& back = std::get<validators::check_request>(parsed);
    EXPECT_EQ(back.target.name, "example.com");
    EXPECT_EQ(back.trace_id, "trace-9");
    EXPECT_EQ(back.dcv.method, validation_method::dns_change);
    EXPECT_EQ(back.dcv.dns_name_prefix, "_p");

    auto bad = parse_check_request("[1]", validators::check_type::caa);
    ASSERT_TRUE(std::holds_alternative<std::vector<request_issue>>(bad));
    EXPECT_EQ(std::get<std::vector<request_issue>>(bad).at(0).issue_type, "malformed-json");
    auto no_dcv = parse_check_request(R"({"domain_or_ip_target":"a.com"})", validators::check_type::dcv);
    ASSERT_TRUE(std::holds_alternative<std::vector<request_issue>>(no_dcv));
    EXPECT_TRUE(has_issue(std::get<std::vector<request_issue>>(no_dcv), "missing-field", "dcv_check_parameters"));
}

} // namespace
} // namespace mpic::quorum
