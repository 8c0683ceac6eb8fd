// The fault HTTP responder's request parsing, rule matching and response heads (no sockets).

#include <gtest/gtest.h>

#include "tools/mpic-lab/responders/faulthttp.hh"

namespace mpic::lab::responders::http {
namespace {

TEST(FaultHttp, ParsesOriginAndAbsoluteForm) {
    auto r = parse_request_head("GET /.well-known/acme-challenge/t?x=1 HTTP/1.1\r\nHost: Example.TEST:8080\r\n"
                                "User-Agent: t\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "GET");
    EXPECT_EQ(r->target, "/.well-known/acme-challenge/t?x=1");
    EXPECT_EQ(r->host, "example.test");
    r = parse_request_head("GET http://a.test HTTP/1.0\r\nHost: [2001:DB8::1]:80\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->target, "/");
    EXPECT_EQ(r->host, "2001:db8::1");
    r = parse_request_head("GET https://a.test/p/q HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->target, "/p/q");
    EXPECT_EQ(r->host, "");
}

TEST(FaultHttp, RejectsMalformedHeads) {
    for (const char* bad : {"", "GET\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/2\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
                            "GET x HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                            "GET / HTTP/1.1\r\n: empty\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"}) {
        EXPECT_FALSE(parse_request_head(bad)) << bad;
    }
}

TEST(FaultHttp, MatchingPrefersPerspectiveThenDefaultThenFileOrder) {
    http_config c;
    http_rule a;
    a.path = "/x";
    a.body = "default";
    http_rule b;
    b.path = "/x";
    b.source = "127.0.0.3";
    b.body = "p2";
    http_rule star;
    star.path = "/pre*";
    star.body = "prefix";
    http_rule hosted;
    hosted.path = "/h";
    hosted.host = "Example.Test";
    c.rules = {a, b, star, hosted};
    request req{"GET", "/x", ""};
    EXPECT_EQ(match_rule(c, req, "127.0.0.1")->body, "default");
    EXPECT_EQ(match_rule(c, req, "127.0.0.3")->body, "p2");
    req.target = "/prefix/and/more";
    EXPECT_EQ(match_rule(c, req, "127.0.0.1")->body, "prefix");
    req.target = "/pr";
    EXPECT_EQ(match_rule(c, req, "127.0.0.1"), nullptr);
    req.target = "/h";
    EXPECT_EQ(match_rule(c, req, "127.0.0.1"), nullptr);
    req.host = "example.test";
    EXPECT_NE(match_rule(c, req, "127.0.0.1"), nullptr);
}

TEST(FaultHttp, ResponseHeads) {
    http_rule r;
    r.headers = {{"Content-Type", "text/plain"}};
    EXPECT_EQ(response_head(200, &r, 5, false),
              "HTTP/1.1 200 OK\r\nServer: mpic-lab-faulthttp\r\nConnection: close\r\nContent-Type: text/plain\r\n"
              "Content-Length: 5\r\n\r\n");
    EXPECT_NE(response_head(200, &r, std::nullopt, true).find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    EXPECT_EQ(response_head(200, &r, std::nullopt, false).find("Content-Length"), std::string::npos);
    EXPECT_NE(response_head(302, nullptr, 0, false, "http://x/").find("Location: http://x/\r\n"), std::string::npos);
    // Scenario-supplied framing headers replace ours (to build conflicting or lying framing on purpose).
    r.headers = {{"Content-Length", "999"}};
    const std::string h = response_head(200, &r, 5, false);
    EXPECT_NE(h.find("Content-Length: 999\r\n"), std::string::npos);
    EXPECT_EQ(h.find("Content-Length: 5"), std::string::npos);
    EXPECT_EQ(reason_phrase(418), "Status");
}

} // namespace
} // namespace mpic::lab::responders::http
