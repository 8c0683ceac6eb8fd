// net/http request_wire: exact request bytes, the validation table (header injection, smuggling headers, bad
// targets) and the IPv6-first candidate choice.

#include <gtest/gtest.h>

#include "core/error.hh"
#include "net/http/request_wire.hh"

namespace mpic::net::http::detail {
namespace {

using namespace std::chrono_literals;

addr::ip_address ip(std::string_view s) {
    return addr::ip_address::parse(s).value();
}

request base() {
    request r;
    r.addresses = {ip("192.0.2.1")};
    r.port = 80;
    r.host = "example.com";
    r.target = "/.well-known/acme-challenge/tok";
    r.headers = {{"User-Agent", "mpic"}, {"Accept", "*/*"}};
    return r;
}

TEST(RequestWire, GetBytesExactly) {
    EXPECT_EQ(serialize_request(base()), "GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: example.com\r\n"
                                         "User-Agent: mpic\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    auto keep = base();
    keep.keep_alive = true;
    EXPECT_EQ(serialize_request(keep).find("Connection:"), std::string::npos);
}

TEST(RequestWire, PostCarriesContentLength) {
    auto r = base();
    r.method = "POST";
    r.target = "/dcv";
    r.body = "{}";
    EXPECT_EQ(serialize_request(r), "POST /dcv HTTP/1.1\r\nHost: example.com\r\nUser-Agent: mpic\r\nAccept: */*\r\n"
                                    "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    r.body.clear();
    EXPECT_NE(serialize_request(r).find("Content-Length: 0\r\n"), std::string::npos); // RFC 9110 §8.6
}

TEST(RequestWire, ValidationTable) {
    EXPECT_FALSE(validate_request(base(), false, false));
    const auto bad = [](auto mutate) {
        auto r = base();
        mutate(r);
        return validate_request(r, false, true) == errc::invalid_argument;
    };
    EXPECT_TRUE(bad([](request& r) { r.addresses.clear(); }));
    EXPECT_TRUE(bad([](request& r) { r.port = 0; }));
    EXPECT_TRUE(bad([](request& r) { r.deadlines.head = 0ms; }));
    EXPECT_TRUE(bad([](request& r) { r.method = ""; }));
    EXPECT_TRUE(bad([](request& r) { r.method = "G T"; }));
    EXPECT_TRUE(bad([](request& r) { r.target = "relative"; }));
    EXPECT_TRUE(bad([](request& r) { r.target = "/a\r\nX: y"; }));
    EXPECT_TRUE(bad([](request& r) { r.target = "/caf\xc3\xa9"; })); // must arrive percent-encoded
    EXPECT_TRUE(bad([](request& r) { r.host = ""; }));
    EXPECT_TRUE(bad([](request& r) { r.host = "a b"; }));
    EXPECT_TRUE(bad([](request& r) { r.headers.push_back({"X", "v\nInjected: 1"}); }));
    EXPECT_TRUE(bad([](request& r) { r.headers.push_back({"X", std::string("v\0w", 3)}); }));
    EXPECT_TRUE(bad([](request& r) { r.headers.push_back({"Bad Name", "v"}); }));
    EXPECT_TRUE(bad([](request& r) { r.headers.push_back({"", "v"}); }));
    for (const char* owned : {"Host", "content-length", "CONNECTION", "Transfer-Encoding"}) {
        EXPECT_TRUE(bad([&](request& r) { r.headers.push_back({owned, "x"}); })) << owned;
    }
    EXPECT_FALSE(bad([](request& r) { r.headers.push_back({"X-Tab", "a\tb \x80"}); })); // HTAB and obs-text are fine
    auto tls = base();
    tls.tls = tls_options{};
    EXPECT_EQ(validate_request(tls, false, false), errc::invalid_argument); // no TLS context
    EXPECT_FALSE(validate_request(tls, false, true));
    auto hs = base();
    EXPECT_EQ(validate_request(hs, true, true), errc::invalid_argument); // handshake() needs TLS options
    hs.tls = tls_options{};
    hs.method = "not a token"; // ignored for a handshake-only exchange
    EXPECT_FALSE(validate_request(hs, true, true));
}

TEST(RequestWire, CandidatesAreFirstV6ThenFirstV4) {
    EXPECT_EQ(pick_candidates({ip("192.0.2.1"), ip("192.0.2.2"), ip("2001:db8::1"), ip("2001:db8::2")}),
              (std::vector<addr::ip_address>{ip("2001:db8::1"), ip("192.0.2.1")}));
    EXPECT_EQ(pick_candidates({ip("192.0.2.7")}), std::vector<addr::ip_address>{ip("192.0.2.7")});
    EXPECT_EQ(pick_candidates({ip("2001:db8::7")}), std::vector<addr::ip_address>{ip("2001:db8::7")});
    EXPECT_TRUE(pick_candidates({}).empty());
}

} // namespace
} // namespace mpic::net::http::detail
