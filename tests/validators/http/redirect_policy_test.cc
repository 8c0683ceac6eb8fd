// Redirect judgement table (standards §7.5, BR 3.2.2.4.18/.19; rows H7, H8, H10, H13).
#include <gtest/gtest.h>

#include "validators/http/redirect_policy.hh"

namespace mpic::validators::http {
namespace {

url start_url() {
    auto u = parse_url("http://example.com/.well-known/acme-challenge/tok");
    EXPECT_TRUE(u);
    return *u.value;
}

redirect_rules rules_refusing_private() {
    redirect_rules rules;
    rules.address_refused = [](std::string_view ip) {
        return ip.starts_with("10.") || ip.starts_with("127.") || ip.starts_with("fe80:") || ip == "::1";
    };
    return rules;
}

redirect_judgement judge_one(int status, std::optional<std::string_view> location) {
    redirect_chain chain(start_url(), rules_refusing_private());
    return chain.judge(status, location);
}

TEST(redirect_policy, h7_followable_statuses_to_https_443_are_followed_and_recorded) {
    for (int status : {301, 302, 307, 308}) {
        redirect_chain chain(start_url(), rules_refusing_private());
        const auto j = chain.judge(status, "https://example.com:443/.well-known/acme-challenge/tok");
        EXPECT_EQ(j.action, redirect_action::follow) << status;
        EXPECT_TRUE(j.reason.empty());
        ASSERT_EQ(chain.history().size(), 1u);
        EXPECT_EQ(chain.history()[0].status, status);
        EXPECT_EQ(chain.history()[0].url, "http://example.com/.well-known/acme-challenge/tok"); // URL that returned it
        EXPECT_EQ(chain.current().to_string(), "https://example.com/.well-known/acme-challenge/tok");
    }
}

TEST(redirect_policy, h8_other_3xx_statuses_are_refused) {
    for (int status : {300, 303, 304, 305, 306, 309, 399}) {
        const auto j = judge_one(status, "http://example.com/other");
        EXPECT_EQ(j.action, redirect_action::refuse) << status;
        EXPECT_NE(j.reason.find(std::to_string(status)), std::string::npos);
    }
}

TEST(redirect_policy, non_redirect_statuses_are_final) {
    for (int status : {200, 204, 206, 299, 400, 404, 500, 100}) {
        redirect_chain chain(start_url(), rules_refusing_private());
        EXPECT_EQ(chain.judge(status, "http://example.com/x").action, redirect_action::final_response) << status;
        EXPECT_TRUE(chain.history().empty());
    }
}

TEST(redirect_policy, h10_non_http_schemes_are_refused) {
    for (auto loc : {"ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "data:text/plain,x",
                     "javascript:alert(1)", "ws://example.com/"}) {
        EXPECT_EQ(judge_one(302, loc).action, redirect_action::refuse) << loc;
    }
}

TEST(redirect_policy, h13_reserved_addresses_and_zone_ids_are_refused) {
    EXPECT_EQ(judge_one(302, "http://10.0.0.1/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://127.0.0.1/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://[::1]/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://[fe80::1%25eth0]/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://[fe80::1%eth0]/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://[FE80::1]/").action, redirect_action::refuse);  // canonicalised first
    EXPECT_EQ(judge_one(302, "http://2130706433/").action, redirect_action::refuse); // 127.0.0.1 in disguise
    EXPECT_EQ(judge_one(302, "http://198.51.100.7/").action, redirect_action::follow);
}

TEST(redirect_policy, only_authorized_ports) {
    EXPECT_EQ(judge_one(301, "http://example.com:8080/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(301, "https://example.com:8443/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(301, "http://example.com:22/").action, redirect_action::refuse); // authorized, not HTTP
    EXPECT_EQ(judge_one(301, "http://example.com:443/").action, redirect_action::follow);
    EXPECT_EQ(judge_one(301, "https://example.com:80/").action, redirect_action::follow);
    redirect_rules lab;
    lab.allowed_ports = {80, 443, 18080};
    redirect_chain chain(start_url(), lab);
    EXPECT_EQ(chain.judge(301, "http://example.com:18080/").action, redirect_action::follow);
}

TEST(redirect_policy, malformed_locations_are_refused) {
    EXPECT_EQ(judge_one(302, std::nullopt).action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://user@example.com/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http:///nohost").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "http://exa mple.com/").action, redirect_action::refuse);
    EXPECT_EQ(judge_one(302, "/a\r\nSet-Cookie: x").action, redirect_action::refuse);
}

TEST(redirect_policy, relative_locations_resolve_against_the_current_url_and_keep_the_query) {
    redirect_chain chain(start_url(), rules_refusing_private());
    ASSERT_EQ(chain.judge(302, "../moved?x=1").action, redirect_action::follow);
    EXPECT_EQ(chain.current().to_string(), "http://example.com/.well-known/moved?x=1");
    ASSERT_EQ(chain.judge(307, "//Other.Example/p").action, redirect_action::follow);
    EXPECT_EQ(chain.current().to_string(), "http://other.example/p");
    ASSERT_EQ(chain.judge(308, "q?y").action, redirect_action::follow);
    EXPECT_EQ(chain.current().to_string(), "http://other.example/q?y");
    ASSERT_EQ(chain.history().size(), 3u);
    EXPECT_EQ(chain.history()[1].url, "http://example.com/.well-known/moved?x=1");
    EXPECT_EQ(chain.history()[2].url, "http://other.example/p");
}

TEST(redirect_policy, loops_are_refused) {
    redirect_chain self(start_url(), {});
    EXPECT_EQ(self.judge(302, "/.well-known/acme-challenge/tok").action, redirect_action::refuse);
    redirect_chain back(start_url(), {});
    ASSERT_EQ(back.judge(302, "http://b.example/").action, redirect_action::follow);
    const auto j = back.judge(302, "http://EXAMPLE.com:80/.well-known/acme-challenge/tok"); // same URL, other spelling
    EXPECT_EQ(j.action, redirect_action::refuse);
    EXPECT_NE(j.reason.find("loop"), std::string::npos);
    EXPECT_EQ(back.history().size(), 1u); // refused hop not recorded; its response is the final one
}

TEST(redirect_policy, at_most_ten_redirects) {
    redirect_chain chain(start_url(), {});
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(chain.judge(302, "/hop" + std::to_string(i)).action, redirect_action::follow) << i;
    }
    EXPECT_EQ(chain.redirects(), 10u);
    const auto j = chain.judge(302, "/hop10");
    EXPECT_EQ(j.action, redirect_action::refuse);
    EXPECT_EQ(chain.current().path, "/hop9");
}

TEST(redirect_policy, path_length_cap) {
    const std::string ok = "/" + std::string(1999, 'a');
    const std::string too_long = "/" + std::string(2000, 'a');
    EXPECT_EQ(judge_one(302, ok).action, redirect_action::follow);
    EXPECT_EQ(judge_one(302, too_long).action, redirect_action::refuse);
}

} // namespace
} // namespace mpic::validators::http
