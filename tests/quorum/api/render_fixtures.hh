#pragma once
// Representative inputs of the JSON renderers (render_mpic_response, render_validation_failure, render_check_result,
// render_check_request, render_audit_record): every check type and DCV method, dcv_with_caa and `targets`, errors,
// cancelled perspectives, retries, notes, every RCODE form, odd doubles, and bytes that are not UTF-8 (or are
// control characters, quotes, DEL, NUL) in evidence, messages, keys and names. Built field by field rather than
// parsed, so they can hold what a parser would refuse. The expected renderings (render_golden.inc,
// ../audit/audit_golden.inc) were produced from these inputs by the nlohmann::json renderers the writer replaced.

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "quorum/api/model.hh"
#include "quorum/audit/audit_record.hh"

namespace mpic::quorum::test {

/// One expected rendering (render_golden.inc, ../audit/audit_golden.inc): the fixture's name and the JSON text.
struct golden_case {
    const char* name;
    const char* json;
};

template <class T>
struct named {
    std::string name;
    T value;
};

/// Hostile bytes: a valid multi-byte character, every invalid UTF-8 form (bad continuation, lone continuation,
/// 0xFF/0xFE, surrogate, overlong, above U+10FFFF, truncated sequence before ASCII and at the very end), control
/// characters, a quote, a backslash, DEL and NUL.
inline std::string hostile(std::string_view prefix = "") {
    static constexpr char bytes[] = "caf\xc3\xa9 \xc3\x28 \x80 \xff\xfe \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 "
                                    "\xe2\x82z \"q\" \\ \x01\x1f\x7f\t\n\r\b\f\0end \xf0\x9f\x98";
    return std::string(prefix) + std::string(bytes, sizeof bytes - 1);
}

inline net::identifier dns_name(std::string name, bool wildcard = false) {
    net::identifier id;
    id.name = std::move(name);
    id.wildcard = wildcard;
    return id;
}

inline net::identifier ip(std::string text, bool v6 = false) {
    net::identifier id;
    id.kind = net::identifier::kind_t::ip;
    id.name = std::move(text);
    id.is_ipv6 = v6;
    return id;
}

inline validators::check_timings timings(std::uint32_t base) {
    return {base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 100};
}

inline validators::check_result dns_pass(std::int64_t ts, std::string rcode = "NOERROR") {
    validators::check_result r;
    r.completed = true;
    r.passed = true;
    r.type = validators::check_type::dcv;
    r.method = validators::validation_method::acme_dns_01;
    r.timestamp_ns = ts;
    r.details.records_seen = {"\"tok\"", "\"other\""};
    r.details.response_code = std::move(rcode);
    r.details.found_at = "_acme-challenge.example.com";
    r.details.ad_flag = true;
    r.details.cname_chain = {"a.example.net", "b.example.net"};
    r.timings = timings(100);
    return r;
}

inline validators::check_result dns_fail(std::int64_t ts, std::string rcode, std::string message) {
    auto r = dns_pass(ts, std::move(rcode));
    r.passed = false;
    r.details.ad_flag = false;
    r.details.found_at.clear();
    r.details.cname_chain.clear();
    r.errors.push_back(problem::make(problem_component::dcv_checker, "mismatch", std::move(message)));
    return r;
}

/// A perspective the early decision cancelled: not completed, one error, nothing seen.
inline validators::check_result cancelled(validators::check_type type, std::int64_t ts) {
    validators::check_result r;
    r.type = type;
    if (type == validators::check_type::dcv) {
        r.method = validators::validation_method::acme_dns_01;
    }
    r.timestamp_ns = ts;
    r.errors.push_back(problem::make(type == validators::check_type::caa ? problem_component::caa_checker
                                                                         : problem_component::dcv_checker,
                                     "cancelled", "the quorum was decided before this check answered"));
    r.timings.queue_us = 7;
    r.timings.total_us = 9;
    return r;
}

inline validators::check_result http_result(bool passed, validators::validation_method method) {
    validators::check_result r;
    r.completed = true;
    r.passed = passed;
    r.type = validators::check_type::dcv;
    r.method = method;
    r.timestamp_ns = 1'700'000'000'000'000'001;
    r.details.response_history = {{301, "http://example.com/.well-known/acme-challenge/t"},
                                  {302, "https://example.com/x?a=\"b\"&c=\\"},
                                  {200, "https://example.com/.well-known/acme-challenge/t"}};
    r.details.response_url = "https://example.com/.well-known/acme-challenge/t";
    r.details.response_status_code = 200;
    r.details.response_page = std::string("t.k\0\xff\x80 rest\r\n", 13);
    r.details.resolved_ip = "2001:db8::1";
    r.timings = timings(1000);
    if (!passed) {
        r.errors.push_back(problem::make(problem_component::dcv_checker, "mismatch", "body differs"));
        r.errors.push_back(problem::make(problem_component::http, "", "second error"));
    }
    return r;
}

inline validators::check_result tls_result(bool passed, std::string common_name, std::string resolved_ip) {
    validators::check_result r;
    r.completed = true;
    r.passed = passed;
    r.type = validators::check_type::dcv;
    r.method = validators::validation_method::acme_tls_alpn_01;
    r.timestamp_ns = 42;
    r.details.common_name = std::move(common_name);
    r.details.resolved_ip = std::move(resolved_ip);
    r.timings = timings(50);
    return r;
}

inline validators::check_result caa_result(bool passed, bool present) {
    validators::check_result r;
    r.completed = true;
    r.passed = passed;
    r.type = validators::check_type::caa;
    r.timestamp_ns = 1'796'000'000'000'000'000;
    r.details.caa_record_present = present;
    if (present) {
        r.details.found_at = "example.com";
        r.details.records_seen = {R"(0 issue "ca.example")", R"(128 issuewild ";")"};
    }
    r.details.response_code = "NOERROR";
    r.details.notes = {"CAA lookup failure tolerated: allow_lookup_failure"};
    r.timings = timings(300);
    if (!passed) {
        r.errors.push_back(problem::make(problem_component::caa_checker, "prohibited", "issuer not listed"));
    }
    return r;
}

inline validators::check_result hostile_result() {
    validators::check_result r = dns_fail(-5, "SERVFAIL", hostile("saw "));
    r.details.records_seen = {hostile(), "\"fine\"", ""};
    r.details.found_at = hostile("at ");
    r.details.cname_chain = {hostile("cname ")};
    r.details.notes = {hostile("note "), "plain note"};
    r.errors.push_back(problem{hostile("type "), hostile("message ")});
    r.timings.total_us = std::numeric_limits<std::uint32_t>::max();
    r.timestamp_ns = std::numeric_limits<std::int64_t>::min();
    return r;
}

inline std::vector<named<validators::check_result>> sample_check_results() {
    using vm = validators::validation_method;
    std::vector<named<validators::check_result>> out;
    out.push_back({"dns_pass", dns_pass(1'700'000'000'123'456'789)});
    out.push_back({"dns_fail_nxdomain", dns_fail(1, "NXDOMAIN", "no TXT record")});
    for (const char* rcode : {"", "FORMERR", "NOTZONE", "BADVERS", "BADCOOKIE", "4095", "WEIRD"}) {
        out.push_back({std::string("dns_rcode_") + rcode, dns_fail(2, rcode, "rcode")});
    }
    out.push_back({"http01_pass", http_result(true, vm::acme_http_01)});
    out.push_back({"website_change_fail", http_result(false, vm::website_change)});
    auto bare_http = http_result(true, vm::acme_http_01);
    bare_http.details = {};
    out.push_back({"http01_nothing_seen", bare_http});
    out.push_back({"tls_alpn_pass", tls_result(true, "example.com", "192.0.2.1")});
    out.push_back({"tls_alpn_empty", tls_result(false, "", "")});
    out.push_back({"caa_permission", caa_result(true, true)});
    out.push_back({"caa_prohibition", caa_result(false, true)});
    out.push_back({"caa_absent", caa_result(true, false)});
    out.push_back({"caa_cancelled", cancelled(validators::check_type::caa, 3)});
    out.push_back({"dcv_cancelled", cancelled(validators::check_type::dcv, 4)});
    auto no_method = dns_pass(5);
    no_method.method.reset(); // rendered as acme-dns-01
    out.push_back({"dcv_without_method", no_method});
    for (auto method :
         {vm::dns_change, vm::dns_persistent, vm::dns_account_01, vm::contact_email_txt, vm::contact_phone_txt,
          vm::contact_email_caa, vm::contact_phone_caa, vm::ip_address, vm::reverse_address_lookup}) {
        auto r = dns_pass(6);
        r.method = method;
        out.push_back({"dns_method_" + std::string(validators::to_string(method)), r});
    }
    out.push_back({"hostile", hostile_result()});
    auto hostile_http = http_result(false, vm::acme_http_01);
    hostile_http.details.response_url = hostile("url ");
    hostile_http.details.response_history.push_back({-1, hostile("hop ")});
    hostile_http.details.response_page = hostile();
    hostile_http.details.resolved_ip = hostile("ip ");
    hostile_http.details.notes = {hostile()};
    out.push_back({"hostile_http", hostile_http});
    auto hostile_tls = tls_result(false, hostile("cn "), "192.0.2.1");
    out.push_back({"hostile_tls", hostile_tls});
    return out;
}

/// Every DCV method's parameters, with the optional fields both present and absent.
inline std::vector<named<validators::dcv_parameters>> sample_dcv_parameters() {
    using vm = validators::validation_method;
    using rt = validators::dns_record_type;
    std::vector<named<validators::dcv_parameters>> out;
    validators::dcv_parameters p;
    p.method = vm::acme_dns_01;
    p.key_authorization_hash = "bench-dns01-digest";
    out.push_back({"acme_dns_01", p});
    p = {};
    p.method = vm::acme_http_01;
    p.token = "tok";
    p.key_authorization = "tok.key";
    out.push_back({"acme_http_01_no_headers", p});
    p.http_headers = {{"User-Agent", "mpic"}, {"X-B", "2"}, {"Accept", "*/*"}};
    out.push_back({"acme_http_01_headers", p});
    p = {};
    p.method = vm::website_change;
    p.http_token_path = "/.well-known/pki-validation/x.txt";
    p.challenge_value = "c";
    p.url_scheme = "https";
    p.match_regex = "^c$";
    p.require_exact_case = false;
    p.http_headers = {{"Host", "example.com"}};
    out.push_back({"website_change_regex", p});
    p.match_regex.reset();
    p.http_headers.clear();
    p.url_scheme = "http";
    p.require_exact_case = true;
    out.push_back({"website_change_plain", p});
    p = {};
    p.method = vm::acme_tls_alpn_01;
    p.key_authorization_hash = "0a1b";
    out.push_back({"acme_tls_alpn_01", p});
    p = {};
    p.method = vm::dns_account_01;
    p.key_authorization_hash = "h";
    p.expected_account_uri = "https://ca.example/acct/1";
    out.push_back({"dns_account_01", p});
    p = {};
    p.method = vm::dns_change;
    p.challenge_value = "v";
    p.record_type = rt::cname;
    p.dns_name_prefix = "_p";
    p.require_exact_match = true;
    p.require_exact_case = false;
    out.push_back({"dns_change_prefix", p});
    p.dns_name_prefix.reset();
    p.record_type = rt::txt;
    out.push_back({"dns_change_no_prefix", p});
    p.record_type = rt::caa;
    out.push_back({"dns_change_caa", p});
    p = {};
    p.method = vm::dns_persistent;
    p.issuer_domain_names = {"ca.example", "other.example"};
    p.expected_account_uri = "https://ca.example/acct/2";
    out.push_back({"dns_persistent", p});
    for (auto method : {vm::contact_email_txt, vm::contact_phone_txt}) {
        p = {};
        p.method = method;
        p.challenge_value = "contact";
        out.push_back({std::string(validators::to_string(method)), p});
    }
    for (auto method : {vm::contact_email_caa, vm::contact_phone_caa, vm::reverse_address_lookup}) {
        p = {};
        p.method = method;
        p.challenge_value = "contact";
        out.push_back({std::string(validators::to_string(method)) + "_no_prefix", p});
        p.dns_name_prefix = "_x";
        out.push_back({std::string(validators::to_string(method)) + "_prefix", p});
    }
    for (auto type : {rt::a, rt::aaaa, rt::ptr}) {
        p = {};
        p.method = vm::ip_address;
        p.challenge_value = "192.0.2.7";
        p.record_type = type;
        out.push_back({"ip_address_" + std::string(validators::to_string(type)), p});
    }
    p = {};
    p.method = vm::acme_http_01;
    p.token = hostile("token ");
    p.key_authorization = hostile();
    // Duplicate names: the nlohmann renderer kept the last value of a name; so must its replacement.
    p.http_headers = {{"X-Dup", "first"}, {hostile("name "), hostile("value ")}, {"X-Dup", "last"}, {"", "empty"}};
    out.push_back({"hostile_http_01", p});
    p = {};
    p.method = vm::website_change;
    p.http_token_path = hostile();
    p.challenge_value = hostile();
    p.url_scheme = hostile();
    p.match_regex = hostile();
    out.push_back({"hostile_website_change", p});
    return out;
}

inline std::vector<named<validators::caa_parameters>> sample_caa_parameters() {
    std::vector<named<validators::caa_parameters>> out;
    validators::caa_parameters p;
    out.push_back({"defaults", p});
    p.cert_type = validators::certificate_type::s_mime;
    p.caa_domains = {"ca.example", "ca2.example"};
    p.allow_lookup_failure = true;
    p.account_uri = "https://ca.example/acct/9";
    p.validation_method = "http-01";
    out.push_back({"everything", p});
    p = {};
    p.caa_domains = {hostile()};
    p.account_uri = hostile();
    out.push_back({"hostile", p});
    return out;
}

inline check_outcome make_outcome(validators::check_type type, std::vector<validators::check_result> results,
                                  int quorum, double decided_after_ms) {
    check_outcome o;
    o.type = type;
    o.perspective_count = static_cast<int>(results.size());
    o.quorum_count = quorum;
    o.attempt_count = 1;
    int passed = 0;
    const char* codes[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-northeast", "ap-southeast"};
    const char* rirs[] = {"ARIN", "ARIN", "RIPE", "RIPE", "APNIC", "APNIC"};
    std::size_t i = 0;
    for (auto& r : results) {
        passed += r.passed ? 1 : 0;
        o.perspectives.push_back({codes[i % 6], rirs[i % 6], std::move(r)});
        ++i;
    }
    o.is_valid = passed >= quorum;
    o.mpic_completed = true;
    for (const auto& p : o.perspectives) {
        o.mpic_completed = o.mpic_completed && p.result.completed;
    }
    o.quorum_result = std::to_string(passed) + "/" + std::to_string(o.perspective_count);
    o.decided_after_ms = decided_after_ms;
    return o;
}

/// The bench's response shape (six perspectives, four with evidence, two cancelled) for a CAA or dns-01 request.
inline mpic_response six_perspectives(validators::check_type type) {
    mpic_response resp;
    resp.request.kind = type == validators::check_type::caa ? request_kind::caa : request_kind::dcv;
    resp.request.targets = {dns_name("bench.test")};
    if (type == validators::check_type::dcv) {
        resp.request.trace_identifier = "trace-0001";
        resp.request.orchestration = orchestration_request{6, 4, std::nullopt, std::nullopt, std::nullopt};
        resp.request.dcv.key_authorization_hash = "bench-dns01-digest";
    }
    resp.lab_mode = true;
    resp.non_compliant = true;
    resp.compliance_note = "development override: one machine is not a set of distinct network perspectives";
    resp.policy_table = "br";
    resp.policy_date = "2026-03-15";
    resp.decided_after_us = 640;
    std::vector<validators::check_result> results;
    for (int i = 0; i < 6; ++i) {
        if (i < 4) {
            results.push_back(type == validators::check_type::caa ? caa_result(true, true) : dns_pass(10 + i));
        } else {
            results.push_back(cancelled(type, 20 + i));
        }
    }
    target_outcome t;
    t.target = resp.request.targets.front();
    auto o = make_outcome(type, std::move(results), 4, 0.64);
    o.mpic_completed = true;
    (type == validators::check_type::caa ? t.caa : t.dcv) = std::move(o);
    resp.targets.push_back(std::move(t));
    return resp;
}

inline std::vector<named<mpic_response>> sample_responses() {
    using vm = validators::validation_method;
    using ct = validators::check_type;
    std::vector<named<mpic_response>> out;
    out.push_back({"caa_6_perspectives", six_perspectives(ct::caa)});
    out.push_back({"dns01_6_perspectives", six_perspectives(ct::dcv)});

    // Every DCV method in Open MPIC's shape, with one result of that method (sample_check_results has the rest).
    std::int64_t deadline = 1500;
    for (auto& params : sample_dcv_parameters()) {
        mpic_response resp;
        resp.request.kind = request_kind::dcv;
        resp.request.targets = {params.value.method == vm::ip_address ? ip("192.0.2.7") : dns_name("example.com")};
        resp.request.dcv = params.value;
        resp.request.orchestration = orchestration_request{3, 2, 2, std::nullopt, deadline};
        deadline = deadline * 7 / 3;
        resp.policy_table = "strict";
        resp.policy_date = "2027-01-01";
        resp.decided_after_us = static_cast<std::uint32_t>(deadline);
        validators::check_result r;
        if (params.value.method == vm::acme_http_01 || params.value.method == vm::website_change) {
            r = http_result(true, params.value.method);
        } else if (params.value.method == vm::acme_tls_alpn_01) {
            r = tls_result(true, "example.com", "192.0.2.1");
        } else {
            r = dns_fail(7, "NXDOMAIN", "nothing");
            r.method = params.value.method;
        }
        target_outcome t;
        t.target = resp.request.targets.front();
        t.dcv = make_outcome(ct::dcv, {std::move(r)}, 1, 1.5);
        resp.targets.push_back(std::move(t));
        out.push_back({"dcv_" + params.name, std::move(resp)});
    }

    // Every CAA parameter set.
    for (auto& params : sample_caa_parameters()) {
        mpic_response resp;
        resp.request.kind = request_kind::caa;
        resp.request.targets = {dns_name("example.com", true)};
        resp.request.caa = params.value;
        resp.request.trace_identifier = params.name == "hostile" ? hostile("trace ") : "t-" + params.name;
        resp.decided_after_us = 1;
        target_outcome t;
        t.target = resp.request.targets.front();
        t.caa =
            make_outcome(ct::caa, {caa_result(true, true), caa_result(false, true), caa_result(true, false)}, 2, 0.001);
        resp.targets.push_back(std::move(t));
        out.push_back({"caa_" + params.name, std::move(resp)});
    }

    // Retries: two previous attempts, no orchestration parameters, no trace id, no policy.
    {
        mpic_response resp;
        resp.request.targets = {dns_name("retry.example")};
        resp.request.dcv.key_authorization_hash = "h";
        target_outcome t;
        t.target = resp.request.targets.front();
        auto o = make_outcome(ct::dcv, {dns_pass(1), dns_pass(2), dns_fail(3, "SERVFAIL", "x")}, 2, 250.25);
        o.attempt_count = 3;
        o.previous_attempts.push_back({{"p9", "APNIC", dns_fail(0, "SERVFAIL", "first")}});
        o.previous_attempts.push_back({{"p8", "LACNIC", cancelled(ct::dcv, 0)}, {"p7", "AFRINIC", dns_pass(0)}});
        t.dcv = std::move(o);
        resp.targets.push_back(std::move(t));
        resp.decided_after_us = 250250;
        out.push_back({"dcv_retries", std::move(resp)});
    }

    // dcv_with_caa over two targets (the extension shape), one CAA prohibition, one incomplete DCV.
    {
        mpic_response resp;
        resp.request.kind = request_kind::dcv_with_caa;
        resp.request.targets_field = true;
        resp.request.targets = {dns_name("a.example.com"), dns_name("b.example.com", true)};
        resp.request.dcv.key_authorization_hash = "h";
        resp.request.caa.caa_domains = {"ca.example"};
        resp.request.orchestration = orchestration_request{std::nullopt, std::nullopt, 1, 2, std::nullopt};
        resp.policy_table = "br";
        resp.policy_date = "2025-03-15";
        resp.decided_after_us = 123456789;
        for (const auto& id : resp.request.targets) {
            target_outcome t;
            t.target = id;
            const bool first = id.name == "a.example.com";
            t.dcv = make_outcome(ct::dcv, {dns_pass(1), first ? dns_pass(2) : cancelled(ct::dcv, 2)}, 2,
                                 first ? 3.0 : 1e21);
            t.caa = make_outcome(ct::caa, {caa_result(first, true), caa_result(true, false)}, 2, first ? 0.1 : 1e-7);
            if (!first) {
                t.caa->previous_attempts.push_back({{"p1", "RIPE", cancelled(ct::caa, 9)}});
                t.caa->attempt_count = 2;
            }
            resp.targets.push_back(std::move(t));
        }
        out.push_back({"dcv_with_caa_two_targets", std::move(resp)});
    }

    // `targets` with a single name keeps the extension shape; a non-finite decision time renders as null.
    {
        mpic_response resp;
        resp.request.kind = request_kind::caa;
        resp.request.targets_field = true;
        resp.request.targets = {ip("2001:db8::5", true)};
        resp.lab_mode = true;
        target_outcome t;
        t.target = resp.request.targets.front();
        t.caa = make_outcome(ct::caa, {caa_result(true, false)}, 1, std::numeric_limits<double>::quiet_NaN());
        t.caa->perspectives[0].result.details.notes = {"no CAA lookup for an IP address (BR 3.2.2.8)"};
        resp.targets.push_back(std::move(t));
        out.push_back({"caa_targets_single", std::move(resp)});
    }

    // Three DCV targets through `targets`, and a response with no target at all.
    {
        mpic_response resp;
        resp.request.kind = request_kind::dcv;
        resp.request.targets_field = true;
        resp.request.targets = {dns_name("a.test"), dns_name("b.test"), ip("192.0.2.1")};
        for (const auto& id : resp.request.targets) {
            target_outcome t;
            t.target = id;
            t.dcv = make_outcome(ct::dcv, {dns_pass(1)}, 1, 2.0);
            resp.targets.push_back(std::move(t));
        }
        out.push_back({"dcv_targets_three", resp});
        resp.targets.clear();
        resp.request.targets_field = false;
        out.push_back({"no_targets", std::move(resp)});
    }

    // Bytes that are not UTF-8 everywhere a perspective, the request or the deployment can put them.
    {
        mpic_response resp;
        resp.request.kind = request_kind::dcv;
        resp.request.targets = {dns_name(hostile("name "))};
        resp.request.trace_identifier = hostile();
        resp.request.dcv = sample_dcv_parameters().back().value;
        resp.non_compliant = true;
        resp.compliance_note = hostile("note ");
        resp.policy_table = hostile("table ");
        resp.policy_date = hostile("date ");
        target_outcome t;
        t.target = resp.request.targets.front();
        auto o = make_outcome(ct::dcv, {hostile_result(), sample_check_results().back().value}, 1, 0.5);
        o.perspectives[0].code = hostile("code ");
        o.perspectives[1].rir = hostile("rir ");
        o.quorum_result = hostile("quorum ");
        t.dcv = std::move(o);
        resp.targets.push_back(std::move(t));
        out.push_back({"hostile_open_mpic", resp});
        resp.request.kind = request_kind::dcv_with_caa;
        resp.targets[0].caa = make_outcome(ct::caa, {hostile_result()}, 1, 0.25);
        resp.targets[0].caa->perspectives[0].result.type = ct::caa;
        out.push_back({"hostile_extension", std::move(resp)});
    }
    return out;
}

inline std::vector<named<std::vector<request_issue>>> sample_issue_lists() {
    return {
        {"none", {}},
        {"two",
         {{"invalid-quorum-count", "quorum_count must be between 5 and 6"},
          {"empty-challenge-value", "challenge_value must not be empty"}}},
        {"hostile", {{"invalid-target", hostile("bad ")}, {hostile("type "), ""}}},
    };
}

inline std::vector<named<validators::check_request>> sample_check_requests() {
    std::vector<named<validators::check_request>> out;
    for (auto& params : sample_dcv_parameters()) {
        validators::check_request req;
        req.type = validators::check_type::dcv;
        // The targets a parser accepts for the method: reverse-address-lookup validates an IP address, the rest
        // (ip-address too: RFC 8738 §7) a domain name.
        const bool on_ip = params.value.method == validators::validation_method::reverse_address_lookup;
        req.target = on_ip ? ip("192.0.2.7") : dns_name("example.com");
        req.dcv = params.value;
        req.trace_id = params.name == "acme_dns_01" ? "" : "trace-" + params.name;
        out.push_back({"dcv_" + params.name, std::move(req)});
    }
    for (auto& params : sample_caa_parameters()) {
        validators::check_request req;
        req.type = validators::check_type::caa;
        req.target = dns_name("example.com", params.name == "everything");
        req.caa = params.value;
        req.trace_id = params.name == "hostile" ? hostile() : "";
        req.primary = true;
        out.push_back({"caa_" + params.name, std::move(req)});
    }
    return out;
}

inline std::vector<named<std::pair<mpic_response, audit_context>>> sample_audit_cases() {
    std::vector<named<std::pair<mpic_response, audit_context>>> out;
    audit_context context{"br", "2026-03-15", "client-a", 1'796'000'000'123};
    for (auto& r : sample_responses()) {
        // The audit record names the DCV method and nothing else of the parameters: a few methods suffice.
        if (r.name.rfind("dcv_", 0) == 0 && r.name != "dcv_acme_http_01_headers" && r.name != "dcv_acme_tls_alpn_01" &&
            r.name != "dcv_dns_persistent" && r.name != "dcv_retries" && r.name != "dcv_with_caa_two_targets" &&
            r.name != "dcv_targets_three") {
            continue;
        }
        audit_context c = context;
        if (r.name.rfind("hostile", 0) == 0) {
            c.client = hostile("client ");
            c.policy_table = hostile();
            c.policy_date = hostile();
            c.received_unix_ms = -1;
        }
        out.push_back({r.name, {std::move(r.value), std::move(c)}});
    }
    return out;
}

} // namespace mpic::quorum::test
