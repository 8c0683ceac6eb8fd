// acme-http-01 and website-change checks against in-process HTTP(S) servers and a fake DNS responder on loopback
// (standards §6 rows H1, H4, H5, H6, H7, H8, H10, H13, H15, H17 end to end; lab-mode port mapping).
#include <mutex>

#include <gtest/gtest.h>

#include "tests/net/http/test_server.hh"
#include "tests/net/tls/test_pki.hh"
#include "tests/validators/http/check_fixture.hh"
#include "validators/http/body_match.hh"

namespace mpic::validators {
namespace {

constexpr std::string_view token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
constexpr std::string_view key_auth =
    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

std::string http_response(int status, std::string_view body, std::string_view extra_headers = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

/// A server answering each request with respond(request_head), recording every request head.
class scripted_server {
public:
    using responder = std::function<std::string(const std::string& request)>;
    explicit scripted_server(responder respond, SSL_CTX* tls = nullptr, std::string bind = "127.0.0.1")
        : _respond(std::move(respond)),
          _server([this](test::server_conn& conn) { serve(conn); }, test::test_server_options{bind, tls}) {}

    std::uint16_t port() const { return _server.port(); }
    int accepted() const { return _server.accepted(); }
    std::vector<std::string> requests() const {
        std::lock_guard lock(_mutex);
        return _requests;
    }

private:
    void serve(test::server_conn& conn) {
        const auto request = conn.read_request();
        if (request.empty()) {
            return;
        }
        {
            std::lock_guard lock(_mutex);
            _requests.push_back(request);
        }
        conn.write(_respond(request));
    }

    responder _respond;
    mutable std::mutex _mutex;
    std::vector<std::string> _requests;
    test::test_server _server; // last: its threads call serve() and must stop before the members above go
};

std::string path_of(const std::string& request) {
    const auto sp = request.find(' ');
    return request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
}

check_request http01_request(std::string_view target) {
    auto request = test::make_request(target, validation_method::acme_http_01);
    request.dcv.token = token;
    request.dcv.key_authorization = key_auth;
    return request;
}

check_request website_request(std::string_view target, std::string value = "ca-random-7f3a9c") {
    auto request = test::make_request(target, validation_method::website_change);
    request.dcv.http_token_path = "mpic.txt";
    request.dcv.challenge_value = std::move(value);
    return request;
}

/// A TLS server context with a throw-away self-signed certificate (https hops are not verified, by design).
struct https_identity {
    test::key_and_cert id = test::make_self_signed("https test", {"www.example.com"});
    test::server_observations obs;
    net::tls::ssl_ctx_ptr ctx = test::make_server_ctx(id, {"http/1.1"}, &obs);
};

const std::string challenge_path = "/.well-known/acme-challenge/" + std::string(token);

TEST(http01_check, h1_passes_on_an_ip_identifier_and_reports_details) {
    scripted_server server([](const std::string&) { return http_response(200, std::string(key_auth) + " \r\n\t"); });
    test::check_fixture f({server.port(), 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_TRUE(result.completed);
    EXPECT_TRUE(result.passed) << (result.errors.empty() ? "" : result.errors[0].type + " " + result.errors[0].message);
    EXPECT_TRUE(result.errors.empty());
    EXPECT_EQ(result.method, validation_method::acme_http_01);
    EXPECT_EQ(result.details.response_url, "http://127.0.0.1" + challenge_path);
    EXPECT_EQ(result.details.response_status_code, 200);
    EXPECT_EQ(result.details.response_page, std::string(key_auth) + " \r\n\t");
    EXPECT_EQ(result.details.resolved_ip, "127.0.0.1");
    EXPECT_TRUE(result.details.response_history.empty());
    EXPECT_EQ(result.timings.dns_us, 0u); // RFC 8738 §4: no DNS for an IP identifier
    EXPECT_TRUE(f.dns.queries().empty());
    ASSERT_EQ(server.requests().size(), 1u);
    const auto req = server.requests()[0];
    EXPECT_EQ(req.rfind("GET " + challenge_path + " HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Host: 127.0.0.1\r\n"), std::string::npos) << req; // RFC 8738 §5: Host is the IP
}

TEST(http01_check, passes_on_a_name_resolved_with_the_perspective_resolver) {
    scripted_server server([](const std::string&) { return http_response(200, key_auth); });
    test::check_fixture f({server.port(), 1, 1});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {}});
    const auto result = f.run(&make_http01_check, http01_request("WWW.Example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.response_url, "http://www.example.com" + challenge_path);
    EXPECT_EQ(result.details.resolved_ip, "127.0.0.1");
    const auto queries = f.dns.queries();
    EXPECT_NE(std::find(queries.begin(), queries.end(), "www.example.com/1"), queries.end());
    EXPECT_NE(std::find(queries.begin(), queries.end(), "www.example.com/28"), queries.end());
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_NE(server.requests()[0].find("Host: www.example.com\r\n"), std::string::npos);
}

TEST(http01_check, h15_ipv6_connect_refused_falls_back_to_ipv4) {
    scripted_server server([](const std::string&) { return http_response(200, key_auth); }); // 127.0.0.1 only
    test::check_fixture f({server.port(), 1, 1});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {"::1"}});
    const auto result = f.run(&make_http01_check, http01_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.resolved_ip, "127.0.0.1");
}

TEST(http01_check, h4_wrong_key_authorization_fails) {
    scripted_server server([](const std::string&) {
        return http_response(200, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.other-account-thumbprint");
    });
    test::check_fixture f({server.port(), 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:dcv_checker:mismatch");
    EXPECT_EQ(result.details.response_page, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.other-account-thumbprint");
}

TEST(http01_check, h1_leading_whitespace_fails) {
    scripted_server server([](const std::string&) { return http_response(200, " " + std::string(key_auth)); });
    test::check_fixture f({server.port(), 1, 1});
    EXPECT_FALSE(f.run(&make_http01_check, http01_request("127.0.0.1")).passed);
}

TEST(http01_check, h5_any_2xx_with_the_right_body_passes) {
    for (int status : {201, 206}) {
        scripted_server server([status](const std::string&) { return http_response(status, key_auth); });
        test::check_fixture f({server.port(), 1, 1});
        const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
        EXPECT_TRUE(result.passed) << status;
        EXPECT_EQ(result.details.response_status_code, status);
    }
}

TEST(http01_check, h6_error_statuses_fail_with_the_status_reported) {
    for (int status : {404, 500}) {
        scripted_server server([status](const std::string&) { return http_response(status, key_auth); });
        test::check_fixture f({server.port(), 1, 1});
        const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
        EXPECT_TRUE(result.completed);
        EXPECT_FALSE(result.passed);
        ASSERT_EQ(result.errors.size(), 1u);
        EXPECT_EQ(result.errors[0].type, "mpic_error:http");
        EXPECT_EQ(result.details.response_status_code, status);
    }
}

TEST(http01_check, h7_redirect_to_https_443_is_followed_and_every_hop_recorded) {
    https_identity identity;
    scripted_server https([](const std::string&) { return http_response(200, key_auth); }, identity.ctx.get());
    scripted_server plain([](const std::string& req) {
        return http_response(308, "", "Location: https://127.0.0.1:443/final?x=1\r\n");
        (void)req;
    });
    test::check_fixture f({plain.port(), https.port(), 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_TRUE(result.passed) << (result.errors.empty() ? "" : result.errors[0].message);
    ASSERT_EQ(result.details.response_history.size(), 1u);
    EXPECT_EQ(result.details.response_history[0].status, 308);
    EXPECT_EQ(result.details.response_history[0].url, "http://127.0.0.1" + challenge_path);
    EXPECT_EQ(result.details.response_url, "https://127.0.0.1/final?x=1");
    EXPECT_EQ(result.details.response_status_code, 200);
    ASSERT_EQ(https.requests().size(), 1u);
    EXPECT_EQ(path_of(https.requests()[0]), "/final?x=1");
    EXPECT_GT(result.timings.tls_us, 0u);
}

TEST(http01_check, h8_303_is_refused_and_its_target_never_contacted) {
    scripted_server other([](const std::string&) { return http_response(200, key_auth); });
    scripted_server plain([](const std::string& req) {
        return path_of(req) == challenge_path ? http_response(303, "", "Location: /elsewhere\r\n")
                                              : http_response(200, key_auth);
    });
    test::check_fixture f({plain.port(), other.port(), 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_TRUE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:redirect:invalid");
    EXPECT_EQ(result.details.response_status_code, 303);
    EXPECT_EQ(result.details.response_url, "http://127.0.0.1" + challenge_path);
    EXPECT_EQ(plain.requests().size(), 1u);
    EXPECT_EQ(other.accepted(), 0);
}

TEST(http01_check, h10_h13_bad_redirect_targets_are_refused_before_any_fetch) {
    for (std::string location : {"ftp://127.0.0.1/x", "file:///etc/passwd", "http://127.0.0.1:8080/x",
                                 "http://224.0.0.1/x", "http://[fe80::1%25eth0]/x", "http://user@127.0.0.1/x"}) {
        scripted_server plain(
            [location](const std::string&) { return http_response(302, "", "Location: " + location + "\r\n"); });
        test::check_fixture f({plain.port(), 1, 1});
        const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
        EXPECT_FALSE(result.passed) << location;
        ASSERT_EQ(result.errors.size(), 1u) << location;
        EXPECT_EQ(result.errors[0].type, "mpic_error:redirect:invalid") << location;
        EXPECT_EQ(plain.requests().size(), 1u) << location;
    }
}

TEST(http01_check, redirect_loop_is_refused) {
    scripted_server plain([](const std::string& req) {
        return http_response(302, "",
                             path_of(req) == "/a" ? "Location: " + challenge_path + "\r\n" : "Location: /a\r\n");
    });
    test::check_fixture f({plain.port(), 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:redirect:invalid");
    EXPECT_NE(result.errors[0].message.find("loop"), std::string::npos);
    EXPECT_EQ(result.details.response_history.size(), 1u);
    EXPECT_EQ(plain.requests().size(), 2u);
}

TEST(http01_check, ten_redirects_are_followed_the_eleventh_is_refused) {
    // Each hop redirects to the next numbered path; hop 10 would be the 11th redirect.
    scripted_server plain([](const std::string& req) {
        const auto path = path_of(req);
        const int n = path == challenge_path ? 0 : std::stoi(path.substr(5)) + 1;
        return http_response(302, "", "Location: /hop-" + std::to_string(n) + "\r\n");
    });
    test::check_fixture f({plain.port(), 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:redirect:invalid");
    EXPECT_EQ(result.details.response_history.size(), 10u);
    EXPECT_EQ(plain.requests().size(), 11u); // the start URL plus ten followed redirects; the 11th never fetched
    EXPECT_EQ(result.details.response_url, "http://127.0.0.1/hop-9");
    EXPECT_EQ(result.details.response_status_code, 302);
}

TEST(http01_check, cancel_completes_once_with_a_cancellation_error) {
    test::test_server silent([](test::server_conn& conn) { conn.drain_until_eof(); });
    test::check_fixture f({silent.port(), 1, 1});
    std::optional<check_result> out;
    int calls = 0;
    auto op = make_http01_check(f.runtime, std::make_shared<const check_request>(http01_request("127.0.0.1")),
                                [&](check_result&& r) {
                                    ++calls;
                                    out = std::move(r);
                                });
    op->start(5000);
    check_handle handle(op);
    op.reset();
    for (int i = 0; i < 5; ++i) {
        uv_run(&f.loop, UV_RUN_NOWAIT); // let the connect start
    }
    handle.cancel();
    handle.cancel(); // idempotent
    uv_run(&f.loop, UV_RUN_NOWAIT);
    EXPECT_EQ(calls, 1);
    ASSERT_TRUE(out.has_value());
    EXPECT_FALSE(out->completed);
    ASSERT_EQ(out->errors.size(), 1u);
    EXPECT_EQ(out->errors[0].type, "mpic_error:dcv_checker:cancelled");
}

TEST(http01_check, redirect_to_another_name_is_resolved_again) {
    scripted_server plain([](const std::string& req) {
        return req.find("Host: other.example.com") != std::string::npos
                   ? http_response(200, key_auth)
                   : http_response(301, "", "Location: http://other.example.com/k\r\n");
    });
    test::check_fixture f({plain.port(), 1, 1});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {}});
    f.dns.set("other.example.com", {0, {"127.0.0.1"}, {}});
    const auto result = f.run(&make_http01_check, http01_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.details.response_url, "http://other.example.com/k");
    const auto queries = f.dns.queries();
    EXPECT_NE(std::find(queries.begin(), queries.end(), "other.example.com/1"), queries.end());
}

TEST(http01_check, oversized_body_fails_and_reports_its_first_bytes) {
    scripted_server server([](const std::string&) {
        return http_response(200, std::string(key_auth) + std::string(http::body_cap_bytes, ' '));
    });
    test::check_fixture f({server.port(), 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_FALSE(result.passed);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:http");
    EXPECT_EQ(result.details.response_page.size(), http::response_page_bytes);
    EXPECT_EQ(result.details.response_page.substr(0, key_auth.size()), key_auth);
}

TEST(http01_check, dns_failures_are_lookup_errors) {
    test::check_fixture f({1, 1, 1});
    f.dns.set("servfail.example.com", {2, {}, {}});
    f.dns.set("empty.example.com", {0, {}, {}});
    f.dns.set("multicast.example.com", {0, {"224.0.0.1"}, {}});
    for (std::string name :
         {"missing.example.com", "servfail.example.com", "empty.example.com", "multicast.example.com"}) {
        const auto result = f.run(&make_http01_check, http01_request(name));
        EXPECT_FALSE(result.passed) << name;
        // SERVFAIL determines nothing about the target (as in the DNS checks); the others are definite answers.
        EXPECT_EQ(result.completed, name != "servfail.example.com") << name;
        ASSERT_EQ(result.errors.size(), 1u) << name;
        EXPECT_EQ(result.errors[0].type, "mpic_error:dcv_checker:lookup") << name;
    }
}

TEST(http01_check, connection_refused_is_an_http_error) {
    std::uint16_t closed_port = 0;
    {
        scripted_server gone([](const std::string&) { return std::string(); });
        closed_port = gone.port();
    }
    test::check_fixture f({closed_port, 1, 1});
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"));
    EXPECT_FALSE(result.passed);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:http");
}

TEST(http01_check, h17_wildcards_and_bad_parameters_are_parameter_errors) {
    test::check_fixture f({1, 1, 1});
    auto wildcard = http01_request("*.example.com");
    auto bad_token = http01_request("127.0.0.1");
    bad_token.dcv.token = "../../etc";
    auto mismatched = http01_request("127.0.0.1");
    mismatched.dcv.key_authorization = "othertoken.thumbprint";
    for (auto* req : {&wildcard, &bad_token, &mismatched}) {
        const auto result = f.run(&make_http01_check, *req);
        EXPECT_FALSE(result.passed);
        ASSERT_EQ(result.errors.size(), 1u);
        EXPECT_EQ(result.errors[0].type, "mpic_error:dcv_checker:parameter");
    }
}

TEST(http01_check, deadline_completes_an_unanswered_check_as_incomplete) {
    test::test_server silent([](test::server_conn& conn) { conn.drain_until_eof(); });
    test::check_fixture f({silent.port(), 1, 1});
    const auto started = uv_hrtime();
    const auto result = f.run(&make_http01_check, http01_request("127.0.0.1"), 300);
    EXPECT_LT(uv_hrtime() - started, 2'000'000'000ull);
    EXPECT_FALSE(result.completed);
    EXPECT_FALSE(result.passed);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].type, "mpic_error:dcv_checker:timeout");
}

TEST(website_change_check, passes_over_http_and_never_sends_the_value) {
    scripted_server server([](const std::string&) { return http_response(200, "<p>ca-random-7f3a9c</p>"); });
    test::check_fixture f({server.port(), 1, 1});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {}});
    const auto result = f.run(&make_website_change_check, website_request("www.example.com"));
    EXPECT_TRUE(result.passed);
    EXPECT_EQ(result.method, validation_method::website_change);
    EXPECT_EQ(result.details.response_url, "http://www.example.com/.well-known/pki-validation/mpic.txt");
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(path_of(server.requests()[0]), "/.well-known/pki-validation/mpic.txt");
    EXPECT_EQ(server.requests()[0].find("ca-random-7f3a9c"), std::string::npos);
}

TEST(website_change_check, passes_over_https_with_a_self_signed_certificate) {
    https_identity identity;
    scripted_server https([](const std::string&) { return http_response(200, "ca-random-7f3a9c\n"); },
                          identity.ctx.get());
    test::check_fixture f({1, https.port(), 1});
    f.dns.set("www.example.com", {0, {"127.0.0.1"}, {}});
    auto request = website_request("www.example.com");
    request.dcv.url_scheme = "https";
    const auto result = f.run(&make_website_change_check, request);
    EXPECT_TRUE(result.passed) << (result.errors.empty() ? "" : result.errors[0].message);
    EXPECT_EQ(result.details.response_url, "https://www.example.com/.well-known/pki-validation/mpic.txt");
    EXPECT_EQ(identity.obs.sni, "www.example.com");
}

TEST(website_change_check, case_and_regex_rules) {
    scripted_server server([](const std::string&) { return http_response(200, "CA-RANDOM-7F3A9C"); });
    test::check_fixture f({server.port(), 1, 1});
    EXPECT_FALSE(f.run(&make_website_change_check, website_request("127.0.0.1")).passed);
    auto insensitive = website_request("127.0.0.1");
    insensitive.dcv.require_exact_case = false;
    EXPECT_TRUE(f.run(&make_website_change_check, insensitive).passed);
    auto regex = website_request("127.0.0.1", "CA-RANDOM-7F3A9C");
    regex.dcv.match_regex = "^CA-RANDOM-[0-9A-F]+$";
    EXPECT_TRUE(f.run(&make_website_change_check, regex).passed);
    regex.dcv.match_regex = "^nomatch$";
    const auto failed = f.run(&make_website_change_check, regex);
    EXPECT_FALSE(failed.passed);
    ASSERT_EQ(failed.errors.size(), 1u);
    EXPECT_EQ(failed.errors[0].type, "mpic_error:dcv_checker:mismatch");
}

TEST(website_change_check, parameter_errors_are_raised_before_any_request) {
    scripted_server server([](const std::string&) { return http_response(200, "x"); });
    test::check_fixture f({server.port(), 1, 1});
    auto leak_path = website_request("127.0.0.1");
    leak_path.dcv.http_token_path = "ca-random-7f3a9c.txt";
    auto leak_header = website_request("127.0.0.1");
    leak_header.dcv.http_headers = {{"X-Token", "ca-random-7f3a9c"}};
    auto wildcard = website_request("*.example.com");
    auto scheme = website_request("127.0.0.1");
    scheme.dcv.url_scheme = "ftp";
    auto regex = website_request("127.0.0.1");
    regex.dcv.match_regex = "([";
    auto injected = website_request("127.0.0.1");
    injected.dcv.http_headers = {{"X-A", "b\r\nHost: evil.example"}};
    auto climb = website_request("127.0.0.1");
    climb.dcv.http_token_path = "../../secret";
    for (auto* req : {&leak_path, &leak_header, &wildcard, &scheme, &regex, &climb, &injected}) {
        const auto result = f.run(&make_website_change_check, *req);
        EXPECT_FALSE(result.passed);
        ASSERT_EQ(result.errors.size(), 1u);
        EXPECT_EQ(result.errors[0].type, "mpic_error:dcv_checker:parameter") << result.errors[0].message;
    }
    EXPECT_EQ(server.accepted(), 0);
}

} // namespace
} // namespace mpic::validators
