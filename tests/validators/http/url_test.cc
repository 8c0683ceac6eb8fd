// RFC 3986 §5.4 reference-resolution examples plus the refusals the validator relies on.
#include <gtest/gtest.h>

#include "validators/http/url.hh"

namespace mpic::validators::http {
namespace {

url base() {
    auto parsed = parse_url("http://a/b/c/d;p?q");
    EXPECT_TRUE(parsed);
    return *parsed.value;
}

std::string resolve(std::string_view reference) {
    auto out = resolve_reference(base(), reference);
    return out ? out.value->to_string() : "ERROR:" + std::string(to_string(out.error));
}

TEST(url, rfc3986_normal_examples) {
    EXPECT_EQ(resolve("g"), "http://a/b/c/g");
    EXPECT_EQ(resolve("./g"), "http://a/b/c/g");
    EXPECT_EQ(resolve("g/"), "http://a/b/c/g/");
    EXPECT_EQ(resolve("/g"), "http://a/g");
    EXPECT_EQ(resolve("//g"), "http://g/"); // RFC 9110 §4.2.1: empty path is "/"
    EXPECT_EQ(resolve("?y"), "http://a/b/c/d;p?y");
    EXPECT_EQ(resolve("g?y"), "http://a/b/c/g?y");
    EXPECT_EQ(resolve("#s"), "http://a/b/c/d;p?q"); // fragment never sent
    EXPECT_EQ(resolve("g#s"), "http://a/b/c/g");
    EXPECT_EQ(resolve("g?y#s"), "http://a/b/c/g?y");
    EXPECT_EQ(resolve(";x"), "http://a/b/c/;x");
    EXPECT_EQ(resolve("g;x"), "http://a/b/c/g;x");
    EXPECT_EQ(resolve(""), "http://a/b/c/d;p?q");
    EXPECT_EQ(resolve("."), "http://a/b/c/");
    EXPECT_EQ(resolve("./"), "http://a/b/c/");
    EXPECT_EQ(resolve(".."), "http://a/b/");
    EXPECT_EQ(resolve("../"), "http://a/b/");
    EXPECT_EQ(resolve("../g"), "http://a/b/g");
    EXPECT_EQ(resolve("../.."), "http://a/");
    EXPECT_EQ(resolve("../../"), "http://a/");
    EXPECT_EQ(resolve("../../g"), "http://a/g");
}

TEST(url, rfc3986_abnormal_examples) {
    EXPECT_EQ(resolve("../../../g"), "http://a/g");
    EXPECT_EQ(resolve("../../../../g"), "http://a/g");
    EXPECT_EQ(resolve("/./g"), "http://a/g");
    EXPECT_EQ(resolve("/../g"), "http://a/g");
    EXPECT_EQ(resolve("g."), "http://a/b/c/g.");
    EXPECT_EQ(resolve(".g"), "http://a/b/c/.g");
    EXPECT_EQ(resolve("g.."), "http://a/b/c/g..");
    EXPECT_EQ(resolve("..g"), "http://a/b/c/..g");
    EXPECT_EQ(resolve("./../g"), "http://a/b/g");
    EXPECT_EQ(resolve("./g/."), "http://a/b/c/g/");
    EXPECT_EQ(resolve("g/./h"), "http://a/b/c/g/h");
    EXPECT_EQ(resolve("g/../h"), "http://a/b/c/h");
    EXPECT_EQ(resolve("g;x=1/./y"), "http://a/b/c/g;x=1/y");
    EXPECT_EQ(resolve("g;x=1/../y"), "http://a/b/c/y");
    EXPECT_EQ(resolve("g?y/./x"), "http://a/b/c/g?y/./x");
    EXPECT_EQ(resolve("g#s/../x"), "http://a/b/c/g");
    // Strict parser (RFC 3986 §5.2.2): "http:g" is absolute and has no authority, so no host.
    EXPECT_EQ(resolve("http:g"), "ERROR:empty_host");
}

TEST(url, absolute_references_and_normalisation) {
    EXPECT_EQ(resolve("HTTPS://Example.COM/X?Y"), "https://example.com/X?Y");
    EXPECT_EQ(resolve("http://example.com:80/a"), "http://example.com/a"); // default port dropped
    EXPECT_EQ(resolve("https://example.com:443/a"), "https://example.com/a");
    EXPECT_EQ(resolve("https://example.com:80/a"), "https://example.com:80/a");
    EXPECT_EQ(resolve("http://example.com:/a"), "http://example.com/a"); // empty port = default
    EXPECT_EQ(resolve("http://example.com./a"), "http://example.com/a"); // one trailing dot removed
    EXPECT_EQ(resolve("  /padded\t"), "http://a/padded");                // OWS around the field value
    EXPECT_EQ(resolve("http://[2001:DB8:0:0::1]/"), "http://[2001:db8::1]/");
    EXPECT_EQ(resolve("http://192.0.2.1:443/"), "http://192.0.2.1:443/");
}

TEST(url, refusals) {
    EXPECT_EQ(resolve("ftp://example.com/"), "ERROR:bad_scheme");
    EXPECT_EQ(resolve("file:///etc/passwd"), "ERROR:bad_scheme");
    EXPECT_EQ(resolve("javascript:alert(1)"), "ERROR:bad_scheme");
    EXPECT_EQ(resolve("http://user:pw@example.com/"), "ERROR:userinfo");
    EXPECT_EQ(resolve("http://@example.com/"), "ERROR:userinfo");
    EXPECT_EQ(resolve("http:///x"), "ERROR:empty_host");
    EXPECT_EQ(resolve("http://:80/x"), "ERROR:empty_host");
    EXPECT_EQ(resolve("http://[fe80::1%25eth0]/"), "ERROR:ipv6_zone");
    EXPECT_EQ(resolve("http://[fe80::1%eth0]/"), "ERROR:malformed"); // "%et" is not an escape
    EXPECT_EQ(resolve("http://[v1.x]/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://[::1/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://[::1]x/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://exa_mple.com/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://ex%41mple.com/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://a..b/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://" + std::string(64, 'a') + ".com/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://example.com:99999/"), "ERROR:bad_port");
    EXPECT_EQ(resolve("http://example.com:8o/"), "ERROR:bad_port");
    EXPECT_EQ(resolve("http://exa mple.com/"), "ERROR:malformed");
    EXPECT_EQ(resolve("/a\\b"), "ERROR:malformed");
    EXPECT_EQ(resolve("/caf\xc3\xa9"), "ERROR:malformed");
    EXPECT_EQ(resolve(std::string("/a\0b", 4)), "ERROR:malformed");
    EXPECT_EQ(resolve("/a%zz"), "ERROR:malformed");
    EXPECT_EQ(resolve("/a%2"), "ERROR:malformed");
}

TEST(url, numeric_hosts_only_as_strict_dotted_quads) {
    // inet_aton would read these as 127.0.0.1; a numeric TLD does not exist, so they are refused outright.
    EXPECT_EQ(resolve("http://2130706433/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://0x7f.0.0.1/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://127.1/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://127.000.0.1/"), "ERROR:bad_host");
    EXPECT_EQ(resolve("http://a.0x10/"), "ERROR:bad_host");
    auto v4 = resolve_reference(base(), "http://198.51.100.7/");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4.value->host_kind, url::host_kind_t::ipv4);
    auto name = resolve_reference(base(), "http://1.example/");
    ASSERT_TRUE(name);
    EXPECT_EQ(name.value->host_kind, url::host_kind_t::name);
}

TEST(url, make_url_brackets_ipv6_and_builds_host_header) {
    auto v6 = make_url("http", "2001:db8::1", true, "/.well-known/acme-challenge/t");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6.value->to_string(), "http://[2001:db8::1]/.well-known/acme-challenge/t");
    EXPECT_EQ(v6.value->authority(), "[2001:db8::1]");
    EXPECT_EQ(v6.value->request_target(), "/.well-known/acme-challenge/t");
    auto v4 = make_url("http", "192.0.2.1", true, "/x?y");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4.value->authority(), "192.0.2.1");
    EXPECT_EQ(v4.value->request_target(), "/x?y");
    auto name = make_url("https", "example.com", false, "/p");
    ASSERT_TRUE(name);
    EXPECT_EQ(name.value->effective_port(), 443);
    EXPECT_FALSE(make_url("http", "example.com", true, "/p")); // claimed IP but is a name
    EXPECT_FALSE(make_url("http", "bad host", false, "/p"));
}

TEST(url, parse_url_requires_an_absolute_url) {
    EXPECT_EQ(parse_url("/relative").error, url_error::no_scheme);
    EXPECT_EQ(parse_url("gopher://x/").error, url_error::bad_scheme);
    auto ok = parse_url("http://Example.com/a/./b/../c?q=1#frag");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value->to_string(), "http://example.com/a/c?q=1");
}

} // namespace
} // namespace mpic::validators::http
