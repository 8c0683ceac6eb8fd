// acme-http-01 and website-change (validators/http/*) through validators::start_check against the lab's real nginx
// (issue #5): standards §6 H-rows, redirects judged before they are fetched (proved with nginx's access log),
// IPv6 -> IPv4 fallback, the address policy's lab and production modes, per-perspective answers.
// Scenario: tools/mpic-lab/scenarios/checks-http.toml.

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/integration/lab_perspective.hh"
#include "tools/mpic-lab/lab_environment.hh"

namespace mpic::test {
namespace {

using namespace std::chrono_literals;
using validators::check_result;
using validators::validation_method;

struct http_scenario {
    static std::string file() { return lab::scenario_file("checks-http.toml"); }
};

class checks_http : public lab::lab_fixture<http_scenario> {
protected:
    check_result run_from(int k, const validators::check_request& request) {
        lab_perspective p(lab(), at(k));
        return p.run(request);
    }
    check_result run(const validators::check_request& request) { return run_from(1, request); }

    /// The access log has a GET of exactly this path (nginx logs `"GET <path> HTTP/1.1"`).
    bool fetched(std::string_view path, std::chrono::milliseconds wait = 1000ms) {
        return access_log_has(lab(), "\"GET " + std::string(path) + " HTTP/1.1\"", wait);
    }
};

constexpr std::string_view challenge = "/.well-known/acme-challenge/";

std::string url(std::string_view scheme_host, std::string_view token) {
    return std::string(scheme_host) + std::string(challenge) + std::string(token);
}

void expect_passed(const check_result& r) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_TRUE(r.passed) << first_error(r);
    EXPECT_TRUE(r.errors.empty()) << first_error(r);
}

/// A definite failure with exactly one problem `key` whose message contains `text`.
void expect_failed(const check_result& r, std::string_view key, std::string_view text = {}) {
    EXPECT_TRUE(r.completed) << first_error(r);
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, key) << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find(text), std::string::npos) << r.errors[0].message;
}

TEST_F(checks_http, http01_passes_with_details) {
    auto r = run(http01_request("ok.chk", "tok-ok"));
    expect_passed(r);
    EXPECT_EQ(r.details.response_url, url("http://ok.chk", "tok-ok"));
    EXPECT_EQ(r.details.response_status_code, 200);
    EXPECT_EQ(r.details.response_page, "tok-ok.thumb");
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
    EXPECT_TRUE(r.details.response_history.empty());
    EXPECT_GT(r.timings.connect_us + r.timings.first_byte_us, 0U);
}

TEST_F(checks_http, h1_trailing_whitespace_is_ignored_leading_is_not) {
    expect_passed(run(http01_request("ws.chk", "tok-ws-lf")));
    expect_passed(run(http01_request("ws.chk", "tok-ws-mix")));
    expect_failed(run(http01_request("ws.chk", "tok-ws-lead")), "mpic_error:dcv_checker:mismatch");
}

TEST_F(checks_http, h4_wrong_key_authorization_is_a_mismatch) {
    auto r = run(http01_request("h4.chk", "tok-h4"));
    expect_failed(r, "mpic_error:dcv_checker:mismatch", "RFC 8555");
    EXPECT_EQ(r.details.response_page, "tok-h4.OTHER-ACCOUNT-THUMBPRINT");
    EXPECT_EQ(r.details.response_status_code, 200);
}

TEST_F(checks_http, h5_any_2xx_status_is_accepted) {
    // standards §7.3: any 2xx. 204 cannot carry the body, so it fails on the body, not on the status.
    auto r204 = run(http01_request("h5.chk", "tok-h5-204"));
    expect_failed(r204, "mpic_error:dcv_checker:mismatch");
    EXPECT_EQ(r204.details.response_status_code, 204);
    auto r206 = run(http01_request("h5.chk", "tok-h5-206"));
    expect_passed(r206);
    EXPECT_EQ(r206.details.response_status_code, 206);
}

TEST_F(checks_http, h6_404_and_500_fail_even_with_the_right_body) {
    auto r404 = run(http01_request("h6.chk", "tok-h6-404"));
    expect_failed(r404, "mpic_error:http", "HTTP status 404");
    EXPECT_EQ(r404.details.response_status_code, 404);
    auto r500 = run(http01_request("h6.chk", "tok-h6-500"));
    expect_failed(r500, "mpic_error:http", "HTTP status 500");
    EXPECT_EQ(r500.details.response_status_code, 500);
    EXPECT_EQ(r500.details.response_page, "tok-h6-500.thumb");
}

TEST_F(checks_http, h7_301_302_307_308_to_https_are_followed) {
    for (int status : {301, 302, 307, 308}) {
        SCOPED_TRACE(status);
        const std::string token = "tok-h7-" + std::to_string(status);
        auto r = run(http01_request("h7.chk", token));
        expect_passed(r);
        ASSERT_EQ(r.details.response_history.size(), 1U);
        EXPECT_EQ(r.details.response_history[0].status, status);
        EXPECT_EQ(r.details.response_history[0].url, url("http://h7.chk", token));
        EXPECT_EQ(r.details.response_url.rfind("https://h7final.chk", 0), 0U) << r.details.response_url;
        EXPECT_NE(r.details.response_url.find(token), std::string::npos);
        EXPECT_EQ(r.details.response_status_code, 200);
        EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
        EXPECT_GT(r.timings.tls_us, 0U); // the final hop was https
    }
}

TEST_F(checks_http, h8_303_is_refused_and_its_target_never_fetched) {
    auto r = run(http01_request("h8.chk", "tok-h8"));
    expect_failed(r, "mpic_error:redirect:invalid", "303");
    EXPECT_EQ(r.details.response_status_code, 303);
    EXPECT_EQ(r.details.response_url, url("http://h8.chk", "tok-h8"));
    EXPECT_TRUE(r.details.response_history.empty());
    EXPECT_TRUE(fetched(std::string(challenge) + "tok-h8"));
    EXPECT_FALSE(fetched(std::string(challenge) + "tok-h8-target-303", 300ms));
}

TEST_F(checks_http, h10_ftp_and_file_redirects_are_refused) {
    expect_failed(run(http01_request("h10.chk", "tok-h10-ftp")), "mpic_error:redirect:invalid");
    expect_failed(run(http01_request("h10.chk", "tok-h10-file")), "mpic_error:redirect:invalid");
}

TEST_F(checks_http, h13_lab_mode_still_refuses_unconnectable_addresses_and_zones) {
    // address_policy::lab admits loopback and private space (the lab lives there) but never unspecified,
    // multicast or broadcast; an IPv6 zone identifier is refused by the URL rules in every mode.
    for (std::string_view token : {"tok-h13-unspecified", "tok-h13-multicast", "tok-h13-broadcast"}) {
        SCOPED_TRACE(token);
        auto r = run(http01_request("h13.chk", token));
        expect_failed(r, "mpic_error:redirect:invalid", "reserved address");
        EXPECT_EQ(r.details.response_status_code, 302);
    }
    expect_failed(run(http01_request("h13.chk", "tok-h13-zone")), "mpic_error:redirect:invalid");
}

TEST_F(checks_http, h13_production_policy_refuses_private_and_loopback_targets_before_connecting) {
    lab_perspective p(lab(), at(1).with_policy(net::addr::address_policy::production()));
    auto r = p.run(http01_request("private.chk", "tok-private"));
    expect_failed(r, "mpic_error:dcv_checker:lookup", "10.0.0.1");
    EXPECT_TRUE(r.details.resolved_ip.empty());
    auto loopback = p.run(http01_request("ok.chk", "tok-ok"));
    expect_failed(loopback, "mpic_error:dcv_checker:lookup", "127.0.0.1");
    auto literal = p.run(http01_request("10.0.0.1", "tok-private"));
    expect_failed(literal, "mpic_error:dcv_checker:lookup", "refused by the address policy");
}

TEST_F(checks_http, redirect_loop_is_refused) {
    auto r = run(http01_request("loop.chk", "tok-loop"));
    expect_failed(r, "mpic_error:redirect:invalid", "redirect loop");
    ASSERT_EQ(r.details.response_history.size(), 1U);
    EXPECT_EQ(r.details.response_url, url("http://loop.chk", "tok-loop-b"));
}

TEST_F(checks_http, ten_redirects_are_followed) {
    auto r = run(http01_request("many.chk", "tok-ten"));
    expect_passed(r);
    EXPECT_EQ(r.details.response_history.size(), 10U);
    EXPECT_EQ(r.details.response_url, url("http://many.chk", "tok-ten-10"));
}

TEST_F(checks_http, eleventh_redirect_is_refused_before_it_is_fetched) {
    auto r = run(http01_request("many.chk", "tok-eleven"));
    expect_failed(r, "mpic_error:redirect:invalid", "more than 10 redirects");
    EXPECT_EQ(r.details.response_history.size(), 10U);
    EXPECT_EQ(r.details.response_url, url("http://many.chk", "tok-eleven-10"));
    EXPECT_TRUE(fetched(std::string(challenge) + "tok-eleven-10"));
    EXPECT_FALSE(fetched(std::string(challenge) + "tok-eleven-11", 300ms));
}

TEST_F(checks_http, off_port_redirects_are_refused_and_not_fetched) {
    auto r = run(http01_request("offport.chk", "tok-offport"));
    expect_failed(r, "mpic_error:redirect:invalid", "port 8080");
    auto https = run(http01_request("offport.chk", "tok-offport-https"));
    expect_failed(https, "mpic_error:redirect:invalid", "port 8443");
    EXPECT_TRUE(fetched(std::string(challenge) + "tok-offport"));
    EXPECT_FALSE(fetched(std::string(challenge) + "tok-offport-target-8080", 300ms));
    EXPECT_FALSE(fetched(std::string(challenge) + "tok-offport-target-8443", 300ms));
}

TEST_F(checks_http, relative_location_is_resolved_against_the_request_url) {
    auto r = run(http01_request("rel.chk", "tok-rel"));
    expect_passed(r);
    ASSERT_EQ(r.details.response_history.size(), 1U);
    EXPECT_EQ(r.details.response_history[0].status, 307);
    EXPECT_EQ(r.details.response_url, url("http://rel.chk", "tok-rel-target"));
}

TEST_F(checks_http, h15_ipv6_connect_refused_falls_back_to_ipv4) {
    auto r = run(http01_request("v6fb.chk", "tok-v6fb"));
    expect_passed(r);
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_http, ipv6_only_name_without_a_listener_is_a_connect_failure) {
    auto r = run(http01_request("v6only.chk", "tok-v6"));
    expect_failed(r, "mpic_error:http", "connect");
    EXPECT_EQ(r.details.resolved_ip, "::1");
}

TEST_F(checks_http, redirect_to_a_name_that_does_not_exist_is_a_lookup_failure) {
    auto r = run(http01_request("tonx.chk", "tok-tonx"));
    expect_failed(r, "mpic_error:dcv_checker:lookup", "nowhere.chk");
    ASSERT_EQ(r.details.response_history.size(), 1U);
    EXPECT_EQ(r.details.response_url, url("http://nowhere.chk", "tok-tonx"));
}

TEST_F(checks_http, connection_refused_is_a_transport_failure) {
    auto r = run(http01_request("dead.chk", "tok-dead"));
    expect_failed(r, "mpic_error:http", "connect");
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.250");
    EXPECT_EQ(r.details.response_status_code, 0);
}

TEST_F(checks_http, ip_identifier_is_fetched_without_dns) {
    lab_perspective p(lab(), at(1).with_dns_port(1)); // any DNS query would fail
    auto r = p.run(http01_request("127.0.0.1", "tok-ip"));
    expect_passed(r);
    EXPECT_EQ(r.details.response_url, url("http://127.0.0.1", "tok-ip"));
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_http, redirect_to_an_ip_literal_uses_it_as_host) {
    auto r = run(http01_request("iplit.chk", "tok-ip"));
    expect_passed(r);
    ASSERT_EQ(r.details.response_history.size(), 1U);
    EXPECT_EQ(r.details.response_url, url("http://127.0.0.1", "tok-ip"));
    EXPECT_EQ(r.details.resolved_ip, "127.0.0.1");
}

TEST_F(checks_http, http_to_https_on_the_same_host) {
    auto r = run(http01_request("same.chk", "tok-same"));
    expect_passed(r);
    ASSERT_EQ(r.details.response_history.size(), 1U);
    EXPECT_EQ(r.details.response_history[0].status, 301);
    EXPECT_EQ(r.details.response_url, url("https://same.chk", "tok-same-final"));
    EXPECT_GT(r.timings.tls_us, 0U);
}

TEST_F(checks_http, redirect_keeps_the_query_string) {
    auto r = run(http01_request("query.chk", "tok-query"));
    expect_passed(r);
    EXPECT_EQ(r.details.response_url, url("http://query.chk", "tok-query-final?from=redirect&n=1"));
    EXPECT_TRUE(fetched(std::string(challenge) + "tok-query-final?from=redirect&n=1"));
}

TEST_F(checks_http, too_many_response_headers_are_refused) {
    auto r = run(http01_request("hdrs.chk", "tok-hdrs"));
    expect_failed(r, "mpic_error:http", "head");
}

TEST_F(checks_http, per_perspective_answers_hijacked_and_unreachable) {
    expect_passed(run_from(1, http01_request("hijack.chk", "tok-hijack")));
    auto r2 = run_from(2, http01_request("hijack.chk", "tok-hijack"));
    expect_failed(r2, "mpic_error:dcv_checker:mismatch");
    EXPECT_EQ(r2.details.response_page, "tok-hijack.ATTACKER");
    auto r3 = run_from(3, http01_request("hijack.chk", "tok-hijack"));
    expect_failed(r3, "mpic_error:http");
    EXPECT_EQ(r3.details.response_status_code, 0);
}

TEST_F(checks_http, h17_wildcard_is_refused_for_http01) {
    auto r = run(http01_request("*.ok.chk", "tok-ok"));
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].type, "mpic_error:dcv_checker:parameter");
    EXPECT_FALSE(r.passed);
}

validators::check_request website_change(std::string_view scheme, std::string_view value) {
    auto request = dcv_request("wc.chk", validation_method::website_change);
    request.dcv.url_scheme = std::string(scheme);
    request.dcv.http_token_path = "wc.txt";
    request.dcv.challenge_value = std::string(value);
    return request;
}

TEST_F(checks_http, website_change_over_http_and_https) {
    auto plain = run(website_change("http", "random-value-8472"));
    expect_passed(plain);
    EXPECT_EQ(plain.details.response_url, "http://wc.chk/.well-known/pki-validation/wc.txt");
    auto tls = run(website_change("https", "random-value-8472"));
    expect_passed(tls);
    EXPECT_EQ(tls.details.response_url, "https://wc.chk/.well-known/pki-validation/wc.txt");
    EXPECT_GT(tls.timings.tls_us, 0U);
}

TEST_F(checks_http, website_change_case_regex_and_mismatch) {
    auto upper = website_change("http", "RANDOM-VALUE-8472");
    expect_failed(run(upper), "mpic_error:dcv_checker:mismatch");
    upper.dcv.require_exact_case = false;
    expect_passed(run(upper));
    auto regex = website_change("https", "random-value-8472");
    regex.dcv.match_regex = "random-value-[0-9]+ on a line";
    expect_passed(run(regex));
    regex.dcv.match_regex = "^never$";
    expect_failed(run(regex), "mpic_error:dcv_checker:mismatch");
    expect_failed(run(website_change("http", "random-value-0000")), "mpic_error:dcv_checker:mismatch");
}

} // namespace
} // namespace mpic::test
