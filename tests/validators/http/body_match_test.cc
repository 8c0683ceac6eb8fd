// Body rules of the HTTP methods (standards §6 rows H1, H4, H5, H6; BR 3.2.2.4.18).
#include <gtest/gtest.h>

#include "validators/http/body_match.hh"

namespace mpic::validators::http {
namespace {

constexpr std::string_view key_auth =
    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

TEST(body_match, h1_trailing_whitespace_is_ignored) {
    EXPECT_TRUE(http01_body_matches(std::string(key_auth), key_auth));
    EXPECT_TRUE(http01_body_matches(std::string(key_auth) + "\n", key_auth));
    EXPECT_TRUE(http01_body_matches(std::string(key_auth) + " \r\n\t", key_auth));
    EXPECT_TRUE(http01_body_matches(std::string(key_auth) + "\v\f", key_auth));
}

TEST(body_match, h1_leading_whitespace_or_garbage_after_whitespace_fails) {
    EXPECT_FALSE(http01_body_matches(" " + std::string(key_auth), key_auth));
    EXPECT_FALSE(http01_body_matches("\n" + std::string(key_auth), key_auth));
    EXPECT_FALSE(http01_body_matches(std::string(key_auth) + "\nextra", key_auth));
    EXPECT_FALSE(http01_body_matches(std::string(key_auth) + " x", key_auth));
    EXPECT_FALSE(http01_body_matches(std::string(key_auth) + std::string("\0", 1), key_auth));
    EXPECT_FALSE(http01_body_matches(std::string(key_auth) + "\xc2\xa0", key_auth)); // NBSP is not ASCII space
}

TEST(body_match, h4_wrong_key_authorization_fails) {
    // Same token, other account thumbprint.
    EXPECT_FALSE(http01_body_matches(
        "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.AAAA46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI", key_auth));
    EXPECT_FALSE(http01_body_matches(std::string(key_auth.substr(0, key_auth.size() - 1)), key_auth)); // prefix
    EXPECT_FALSE(http01_body_matches(std::string(key_auth) + "X", key_auth));
    std::string upper(key_auth);
    upper[0] = 'l';
    EXPECT_FALSE(http01_body_matches(upper, key_auth)); // case matters
    EXPECT_FALSE(http01_body_matches("", key_auth));
    EXPECT_FALSE(http01_body_matches("", "")); // an empty key authorization never passes
    EXPECT_FALSE(http01_body_matches("\n", ""));
}

TEST(body_match, h5_h6_any_2xx_is_success_nothing_else) {
    for (int s : {200, 201, 202, 204, 206, 299}) {
        EXPECT_TRUE(is_success_status(s)) << s;
    }
    for (int s : {0, 100, 199, 300, 301, 304, 400, 404, 500, 503}) {
        EXPECT_FALSE(is_success_status(s)) << s;
    }
}

TEST(body_match, website_change_contains_with_case_rules) {
    const std::optional<std::string> none;
    EXPECT_EQ(website_change_body_matches("xx token-ABC yy", "token-ABC", none, true), website_match::matched);
    EXPECT_EQ(website_change_body_matches("xx token-abc yy", "token-ABC", none, true), website_match::not_found);
    EXPECT_EQ(website_change_body_matches("xx token-abc yy", "token-ABC", none, false), website_match::matched);
    EXPECT_EQ(website_change_body_matches("token-AB", "token-ABC", none, true), website_match::not_found);
    EXPECT_EQ(website_change_body_matches("anything", "", none, true), website_match::not_found);
    EXPECT_EQ(website_change_body_matches(std::string("a\0token", 7), "token", none, true), website_match::matched);
}

TEST(body_match, website_change_regex) {
    const std::optional<std::string> re = "^token-[A-Z]+$";
    EXPECT_EQ(website_change_body_matches("token-ABC", "token-ABC", re, true), website_match::matched);
    EXPECT_EQ(website_change_body_matches("x token-ABC", "token-ABC", re, true), website_match::not_found);
    EXPECT_EQ(website_change_body_matches("token-abc", "token-abc", re, true), website_match::not_found);
    EXPECT_EQ(website_change_body_matches("token-abc", "token-abc", re, false), website_match::matched);
    // The value must be present even when the regex matches.
    EXPECT_EQ(website_change_body_matches("token-ABC", "other", std::optional<std::string>("token"), true),
              website_match::not_found);
    EXPECT_EQ(website_change_body_matches("token-ABC", "token-ABC", std::optional<std::string>("(unclosed"), true),
              website_match::bad_regex);
    EXPECT_EQ(website_change_body_matches("token", "token", std::optional<std::string>(std::string(600, 'a')), true),
              website_match::bad_regex);
}

TEST(body_match, website_change_regex_input_is_bounded) {
    // The value sits beyond the regex window: contains() sees it, the regex does not.
    std::string body(regex_input_cap_bytes + 10, 'x');
    body += "token-ABC";
    EXPECT_EQ(website_change_body_matches(body, "token-ABC", std::nullopt, true), website_match::matched);
    EXPECT_EQ(website_change_body_matches(body, "token-ABC", std::optional<std::string>("token-ABC"), true),
              website_match::not_found);
    // A long hostile body with a recursion-heavy pattern completes (no stack exhaustion) thanks to the cap.
    const std::string hostile(body_cap_bytes, 'a');
    EXPECT_EQ(website_change_body_matches(hostile + "tok", "tok", std::optional<std::string>("(a|b)*c"), true),
              website_match::not_found);
}

TEST(body_match, website_change_request_must_not_carry_the_token) {
    const std::vector<std::pair<std::string, std::string>> none;
    EXPECT_FALSE(website_change_request_leaks("secret123", "/.well-known/pki-validation/file.txt", none));
    EXPECT_TRUE(website_change_request_leaks("secret123", "/.well-known/pki-validation/secret123.txt", none));
    EXPECT_TRUE(website_change_request_leaks("secret123", "/.well-known/pki-validation/x?SECRET123", none));
    EXPECT_TRUE(website_change_request_leaks("secret123", "/p", {{"X-Token", "secret123"}}));
    EXPECT_TRUE(website_change_request_leaks("secret123", "/p", {{"secret123", "v"}}));
    EXPECT_FALSE(website_change_request_leaks("secret123", "/p", {{"Accept", "*/*"}}));
}

TEST(body_match, request_paths) {
    EXPECT_EQ(website_change_path("file.txt"), "/.well-known/pki-validation/file.txt");
    EXPECT_EQ(website_change_path("/file.txt"), "/.well-known/pki-validation/file.txt");
    EXPECT_EQ(website_change_path("dir/file.txt"), "/.well-known/pki-validation/dir/file.txt");
    EXPECT_FALSE(website_change_path(""));
    EXPECT_FALSE(website_change_path("../secret"));
    EXPECT_FALSE(website_change_path("a/../../x"));
    EXPECT_FALSE(website_change_path("%2e%2e/x"));
    EXPECT_FALSE(website_change_path("a?b"));
    EXPECT_FALSE(website_change_path("a#b"));
    EXPECT_FALSE(website_change_path("a b"));
    EXPECT_FALSE(website_change_path("a\r\nHost: evil"));
    EXPECT_EQ(http01_path("abc_-DEF123"), "/.well-known/acme-challenge/abc_-DEF123");
    EXPECT_FALSE(http01_path(""));
    EXPECT_FALSE(http01_path("abc="));
    EXPECT_FALSE(http01_path("../x"));
    EXPECT_FALSE(http01_path("a/b"));
}

} // namespace
} // namespace mpic::validators::http
