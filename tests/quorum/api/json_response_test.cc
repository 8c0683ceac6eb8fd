// Response rendering (api.md "Response", "Each perspective"): Open MPIC's shape for a single-target, single-check
// request; the extension shape (`results`) for `targets` and `dcv_with_caa`; the 400 body; check_response objects
// in both directions; bytes that are not UTF-8 never break the JSON.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "quorum/api/json_codec.hh"

namespace mpic::quorum {
namespace {

using json = nlohmann::json;
using validators::check_result;
using validators::check_type;
using validators::validation_method;

check_result dns_result(bool passed, std::vector<std::string> records = {"\"tok\""}) {
    check_result r;
    r.completed = true;
    r.passed = passed;
    r.type = check_type::dcv;
    r.method = validation_method::acme_dns_01;
    r.timestamp_ns = 1'700'000'000'123'456'789;
    r.details.records_seen = std::move(records);
    r.details.response_code = "NOERROR";
    r.details.found_at = "_acme-challenge.example.com";
    r.details.ad_flag = true;
    r.details.cname_chain = {"a.example.net"};
    r.timings.dns_us = 1200;
    r.timings.total_us = 1500;
    if (!passed) {
        r.errors.push_back(problem::make(problem_component::dcv_checker, "mismatch", "no matching TXT record"));
    }
    return r;
}

check_outcome outcome(check_type type, std::vector<check_result> results, int quorum) {
    check_outcome o;
    o.type = type;
    o.perspective_count = static_cast<int>(results.size());
    o.quorum_count = quorum;
    o.attempt_count = 1;
    int passed = 0;
    int i = 0;
    for (auto& r : results) {
        passed += r.passed ? 1 : 0;
        o.perspectives.push_back({"p" + std::to_string(++i), i % 2 ? "ARIN" : "RIPE", std::move(r)});
    }
    o.is_valid = passed >= quorum;
    o.mpic_completed = true;
    o.quorum_result = std::to_string(passed) + "/" + std::to_string(o.perspective_count);
    o.decided_after_ms = 12.5;
    return o;
}

mpic_response single_dcv_response() {
    mpic_response resp;
    auto parsed = parse_mpic_request(R"({"check_type":"dcv","domain_or_ip_target":"example.com",
        "trace_identifier":"trace-42","orchestration_parameters":{"perspective_count":3,"quorum_count":2},
        "dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"h"}})");
    resp.request = std::get<mpic_request>(std::move(parsed));
    target_outcome t;
    t.target = resp.request.targets.at(0);
    t.dcv = outcome(check_type::dcv, {dns_result(true), dns_result(true), dns_result(false)}, 2);
    resp.targets.push_back(std::move(t));
    resp.decided_after_us = 12500;
    return resp;
}

json render(const mpic_response& r) {
    auto text = render_mpic_response(r);
    auto doc = json::parse(text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << text;
    return doc;
}

TEST(json_response, open_mpic_shape_for_a_single_dcv_request) {
    auto doc = render(single_dcv_response());
    for (const char* key : {"mpic_completed", "request_orchestration_parameters", "actual_orchestration_parameters",
                            "check_type", "domain_or_ip_target", "is_valid", "trace_identifier", "dcv_check_parameters",
                            "perspectives", "previous_attempt_results"}) {
        EXPECT_TRUE(doc.contains(key)) << key << " missing in " << doc.dump();
    }
    EXPECT_FALSE(doc.contains("results"));
    EXPECT_FALSE(doc.contains("caa_check_parameters"));
    EXPECT_EQ(doc["check_type"], "dcv");
    EXPECT_EQ(doc["domain_or_ip_target"], "example.com");
    EXPECT_EQ(doc["is_valid"], true);
    EXPECT_EQ(doc["mpic_completed"], true);
    EXPECT_EQ(doc["trace_identifier"], "trace-42");
    EXPECT_EQ(doc["request_orchestration_parameters"], (json{{"perspective_count", 3},
                                                             {"quorum_count", 2},
                                                             {"max_attempts", nullptr},
                                                             {"cohort_for_single_attempt", nullptr}}));
    EXPECT_EQ(doc["actual_orchestration_parameters"],
              (json{{"perspective_count", 3}, {"quorum_count", 2}, {"attempt_count", 1}}));
    EXPECT_EQ(doc["dcv_check_parameters"],
              (json{{"validation_method", "acme-dns-01"}, {"key_authorization_hash", "h"}}));
    EXPECT_TRUE(doc["previous_attempt_results"].is_null());
    EXPECT_EQ(doc["quorum_result"], "2/3");
    EXPECT_DOUBLE_EQ(doc["decided_after_ms"].get<double>(), 12.5);
    ASSERT_EQ(doc["perspectives"].size(), 3u);
    const auto& p = doc["perspectives"][0];
    EXPECT_EQ(p["perspective_code"], "p1");
    const auto& cr = p["check_response"];
    for (const char* key : {"check_completed", "check_passed", "errors", "timestamp_ns", "check_type", "details"}) {
        EXPECT_TRUE(cr.contains(key)) << key;
    }
    EXPECT_TRUE(cr["errors"].is_null()); // Open MPIC: null when there are none
    EXPECT_EQ(cr["details"]["validation_method"], "acme-dns-01");
    EXPECT_EQ(cr["details"]["response_code"], 0); // Open MPIC spec: an integer RCODE
    EXPECT_EQ(cr["details"]["ad_flag"], true);
    const auto& failed = doc["perspectives"][2]["check_response"];
    EXPECT_EQ(failed["check_passed"], false);
    ASSERT_TRUE(failed["errors"].is_array());
    EXPECT_EQ(failed["errors"][0]["error_type"], "mpic_error:dcv_checker:mismatch");
    EXPECT_EQ(failed["errors"][0]["error_message"], "no matching TXT record");
}

TEST(json_response, absent_orchestration_and_trace_are_null_and_retries_are_listed) {
    auto resp = single_dcv_response();
    resp.request.orchestration.reset();
    resp.request.trace_identifier.clear();
    auto& dcv = *resp.targets[0].dcv;
    dcv.attempt_count = 2;
    dcv.previous_attempts.push_back({{"p9", "APNIC", dns_result(false)}});
    auto doc = render(resp);
    EXPECT_TRUE(doc["request_orchestration_parameters"].is_null());
    EXPECT_TRUE(doc["trace_identifier"].is_null());
    ASSERT_TRUE(doc["previous_attempt_results"].is_array());
    ASSERT_EQ(doc["previous_attempt_results"].size(), 1u);
    EXPECT_EQ(doc["previous_attempt_results"][0][0]["perspective_code"], "p9");
    EXPECT_EQ(doc["actual_orchestration_parameters"]["attempt_count"], 2);
}

TEST(json_response, caa_shape_echoes_caa_parameters) {
    mpic_response resp;
    resp.request = std::get<mpic_request>(parse_mpic_request(R"({"check_type":"caa","domain_or_ip_target":"a.com"})"));
    check_result r;
    r.completed = true;
    r.passed = true;
    r.type = check_type::caa;
    r.details.caa_record_present = true;
    r.details.found_at = "a.com";
    r.details.records_seen = {"0 issue \"ca.example\""};
    target_outcome t;
    t.target = resp.request.targets[0];
    t.caa = outcome(check_type::caa, {r, r}, 2);
    resp.targets.push_back(t);
    auto doc = render(resp);
    EXPECT_EQ(doc["check_type"], "caa");
    EXPECT_FALSE(doc.contains("dcv_check_parameters"));
    EXPECT_EQ(
        doc["caa_check_parameters"],
        (json{{"certificate_type", "tls-server"}, {"caa_domains", json::array()}, {"allow_lookup_failure", false}}));
    const auto& details = doc["perspectives"][0]["check_response"]["details"];
    EXPECT_EQ(
        details,
        (json{{"caa_record_present", true}, {"found_at", "a.com"}, {"records_seen", {"0 issue \"ca.example\""}}}));
}

TEST(json_response, extension_shape_for_targets_and_dcv_with_caa) {
    mpic_response resp;
    resp.request = std::get<mpic_request>(parse_mpic_request(R"({"check_type":"dcv_with_caa",
        "targets":["a.example.com","b.example.com"],
        "dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"h"}})"));
    for (const auto& id : resp.request.targets) {
        target_outcome t;
        t.target = id;
        t.dcv = outcome(check_type::dcv, {dns_result(true), dns_result(true)}, 2);
        check_result caa;
        caa.completed = true;
        caa.passed = id.name == "a.example.com";
        caa.type = check_type::caa;
        t.caa = outcome(check_type::caa, {caa, caa}, 2);
        resp.targets.push_back(std::move(t));
    }
    auto doc = render(resp);
    EXPECT_EQ(doc["check_type"], "dcv_with_caa");
    EXPECT_EQ(doc["is_valid"], false); // b.example.com's CAA failed
    EXPECT_FALSE(doc.contains("perspectives"));
    EXPECT_FALSE(doc.contains("domain_or_ip_target"));
    EXPECT_TRUE(doc.contains("caa_check_parameters"));
    EXPECT_TRUE(doc.contains("dcv_check_parameters"));
    EXPECT_EQ(doc["caa_check_parameters"]["validation_method"], "dns-01");
    ASSERT_EQ(doc["results"].size(), 2u);
    EXPECT_EQ(doc["results"][0]["domain_or_ip_target"], "a.example.com");
    EXPECT_EQ(doc["results"][0]["is_valid"], true);
    EXPECT_EQ(doc["results"][1]["is_valid"], false);
    for (const auto& item : doc["results"]) {
        for (const char* part : {"dcv", "caa"}) {
            ASSERT_TRUE(item.contains(part));
            for (const char* key : {"is_valid", "mpic_completed", "actual_orchestration_parameters", "quorum_result",
                                    "perspectives", "previous_attempt_results"}) {
                EXPECT_TRUE(item[part].contains(key)) << part << "." << key;
            }
        }
    }

    // A single name given through `targets` is still the extension shape (the client asked for it).
    mpic_response one;
    one.request = std::get<mpic_request>(parse_mpic_request(R"({"check_type":"caa","targets":["a.example.com"]})"));
    target_outcome t;
    t.target = one.request.targets[0];
    check_result caa;
    caa.completed = true;
    caa.type = check_type::caa;
    t.caa = outcome(check_type::caa, {caa}, 1);
    one.targets.push_back(t);
    auto one_doc = render(one);
    EXPECT_TRUE(one_doc.contains("results"));
    EXPECT_FALSE(one_doc.contains("perspectives"));
}

TEST(json_response, validation_failure_body) {
    auto text = render_validation_failure({{"invalid-quorum-count", "quorum_count must be between 5 and 6"},
                                           {"empty-challenge-value", "challenge_value must not be empty"}});
    auto doc = json::parse(text);
    EXPECT_EQ(doc["error"], "request-validation-failed");
    ASSERT_TRUE(doc.contains("validation_issues")) << text; // api.md and Open MPIC's key
    ASSERT_EQ(doc["validation_issues"].size(), 2u);
    EXPECT_EQ(doc["validation_issues"][0]["issue_type"], "invalid-quorum-count");
    EXPECT_EQ(doc["validation_issues"][1]["message"], "challenge_value must not be empty");
    // Issue messages quote client input, which may hold any bytes.
    auto odd = render_validation_failure({{"invalid-target", std::string("bad \xff\xfe\0 name", 12)}});
    EXPECT_FALSE(json::parse(odd, nullptr, false).is_discarded()) << odd;
}

TEST(json_response, check_result_round_trip_dns) {
    auto original = dns_result(false, {"\"a\"", "\"b\""});
    auto j = json::parse(render_check_result(original));
    auto back = check_result_from_json(j);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->completed, original.completed);
    EXPECT_EQ(back->passed, original.passed);
    EXPECT_EQ(back->type, original.type);
    EXPECT_EQ(back->method, original.method);
    EXPECT_EQ(back->timestamp_ns, original.timestamp_ns);
    EXPECT_EQ(back->errors, original.errors);
    EXPECT_EQ(back->details.records_seen, original.details.records_seen);
    EXPECT_EQ(back->details.response_code, "NOERROR");
    EXPECT_EQ(back->details.found_at, original.details.found_at);
    EXPECT_EQ(back->details.ad_flag, true);
    EXPECT_EQ(back->details.cname_chain, original.details.cname_chain);
    EXPECT_EQ(j["timings"]["dns_us"], 1200);
}

TEST(json_response, check_result_round_trip_http_with_binary_page) {
    check_result r;
    r.completed = true;
    r.passed = true;
    r.type = check_type::dcv;
    r.method = validation_method::acme_http_01;
    r.details.response_history = {{301, "http://example.com/.well-known/acme-challenge/t"},
                                  {200, "https://example.com/.well-known/acme-challenge/t"}};
    r.details.response_url = "https://example.com/.well-known/acme-challenge/t";
    r.details.response_status_code = 200;
    r.details.response_page = std::string("t.k\0\xff\x80 rest", 11); // bytes, not text
    r.details.resolved_ip = "192.0.2.1";
    auto j = json::parse(render_check_result(r));
    EXPECT_EQ(
        j["details"]["response_history"][0],
        (json{{"response_status_code", 301}, {"response_url", "http://example.com/.well-known/acme-challenge/t"}}));
    EXPECT_TRUE(j["details"]["response_page"].is_string());
    auto back = check_result_from_json(j);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->details.response_page, r.details.response_page);
    EXPECT_EQ(back->details.response_url, r.details.response_url);
    EXPECT_EQ(back->details.response_status_code, 200);
    EXPECT_EQ(back->details.resolved_ip, "192.0.2.1");
    ASSERT_EQ(back->details.response_history.size(), 2u);
    EXPECT_EQ(back->details.response_history[0].status, 301);
    EXPECT_EQ(back->details.response_history[1].url, r.details.response_history[1].url);
    EXPECT_EQ(back->method, validation_method::acme_http_01);
}

TEST(json_response, check_result_from_json_refuses_malformed_answers) {
    const char* bad[] = {
        "[]",
        R"({"check_passed":true,"check_type":"dcv"})",
        R"({"check_completed":"yes","check_passed":true,"check_type":"dcv"})",
        R"({"check_completed":true,"check_passed":true,"check_type":"ocsp"})",
        R"({"check_completed":true,"check_passed":true})",
        // A pass that is incomplete or carries errors violates check_result's invariant: never counted.
        R"({"check_completed":false,"check_passed":true,"check_type":"dcv"})",
        R"({"check_completed":true,"check_passed":true,"check_type":"dcv","errors":[{"error_type":"x"}]})",
        R"({"check_completed":true,"check_passed":false,"check_type":"dcv","errors":[{"error_message":"no type"}]})",
    };
    for (const char* text : bad) {
        EXPECT_FALSE(check_result_from_json(json::parse(text)).has_value()) << text;
    }
    auto minimal = check_result_from_json(json::parse(R"({"check_completed":true,"check_passed":false,
        "check_type":"caa","errors":null,"details":{"caa_record_present":true,"records_seen":["x",5]}})"));
    ASSERT_TRUE(minimal.has_value());
    EXPECT_EQ(minimal->type, check_type::caa);
    EXPECT_TRUE(minimal->details.caa_record_present);
    EXPECT_EQ(minimal->details.records_seen, std::vector<std::string>{"x"}); // non-strings dropped
}

TEST(json_response, invalid_utf8_in_txt_details_never_breaks_the_json) {
    // A TXT record is bytes (RFC 1035 §3.3.14); a perspective may report any of them.
    static constexpr char bytes[] = "\"caf\xc3\x28 \xff\xfe \xed\xa0\x80 \xc0\xaf\0end\"";
    const std::string raw(bytes, sizeof bytes - 1);
    auto resp = single_dcv_response();
    resp.targets[0].dcv->perspectives[0].result.details.records_seen = {raw, "\"fine\""};
    resp.targets[0].dcv->perspectives[1].result.errors.clear();
    resp.targets[0].dcv->perspectives[2].result.errors[0].message = "saw " + raw;
    std::string text;
    ASSERT_NO_THROW(text = render_mpic_response(resp));
    auto doc = json::parse(text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << text;
    const auto& seen = doc["perspectives"][0]["check_response"]["details"]["records_seen"];
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1], "\"fine\"");
    EXPECT_NE(seen[0].get<std::string>().find("caf"), std::string::npos);
    EXPECT_NE(seen[0].get<std::string>().find("end"), std::string::npos);

    // The checker API direction too (agents answer with render_check_result).
    check_result r = dns_result(true, {raw});
    const auto agent_text = render_check_result(r);
    const auto agent_doc = json::parse(agent_text, nullptr, false);
    ASSERT_FALSE(agent_doc.is_discarded()) << agent_text;
    EXPECT_NE(agent_doc["details"]["records_seen"][0].get<std::string>().find("end"), std::string::npos);
}

TEST(json_response, non_compliant_and_lab_mode_are_reported) {
    auto resp = single_dcv_response();
    resp.lab_mode = true;
    resp.non_compliant = true;
    resp.compliance_note = "one machine";
    auto doc = render(resp);
    EXPECT_EQ(doc["lab_mode"], true);
    EXPECT_EQ(doc["compliant"], false);
    EXPECT_EQ(doc["compliance_note"], "one machine");
    auto clean = render(single_dcv_response());
    EXPECT_EQ(clean["compliant"], true);
    EXPECT_FALSE(clean.contains("compliance_note"));
}

} // namespace
} // namespace mpic::quorum
