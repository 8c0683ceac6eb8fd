// Table tests for net/addr: strict parsing, canonical formatting, every special-purpose range refused in
// production, public addresses admitted, the port policy and the lab map.

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "core/error.hh"
#include "net/addr/address_policy.hh"

namespace mpic::net::addr {
namespace {

ip_address ip(std::string_view text) {
    auto r = ip_address::parse(text);
    EXPECT_TRUE(r.has_value()) << text;
    return r.value_or(ip_address{});
}

TEST(IpAddress, ParsesAndFormatsCanonically) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"1.2.3.4", "1.2.3.4"},
        {"255.255.255.255", "255.255.255.255"},
        {"0.0.0.0", "0.0.0.0"},
        {"2001:DB8::1", "2001:db8::1"},
        {"[2001:db8::1]", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, // RFC 5952 §4.2.3: first of equal runs
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, // §4.2.2: a single zero group is not compressed
        {"::", "::"},
        {"::1", "::1"},
        {"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
        {"fe80::", "fe80::"},
    };
    for (const auto& [in, out] : cases) {
        auto r = ip_address::parse(in);
        ASSERT_TRUE(r.has_value()) << in;
        EXPECT_EQ(r->to_string(), out) << in;
        auto again = ip_address::parse(r->to_string());
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(*again, *r) << in;
    }
    EXPECT_EQ(ip("2001:db8::1").to_uri_host(), "[2001:db8::1]");
    EXPECT_EQ(ip("192.0.2.1").to_uri_host(), "192.0.2.1");
}

TEST(IpAddress, RefusesAmbiguousAndMalformedText) {
    // RFC 6943 §3.1.1: forms some stacks read as something else.
    for (std::string_view bad :
         {"",          "1.2.3",        "1.2.3.4.5",        "01.2.3.4",    "1.2.3.04", "0x7f.0.0.1",
          "127.1",     "256.1.1.1",    "1.2.3.4 ",         " 1.2.3.4",    "1..3.4",   "+1.2.3.4",
          "1.2.3.4/8", "fe80::1%eth0", "[fe80::1%25eth0]", "2001:db8::g", ":::",      "1:2:3:4:5:6:7:8:9",
          "[1.2.3.4]", "[::1",         "localhost"}) {
        EXPECT_FALSE(ip_address::parse(bad).has_value()) << bad;
        EXPECT_EQ(ip_address::parse(bad).error(), errc::malformed);
    }
}

TEST(IpAddress, SockaddrRoundTrip) {
    for (std::string_view text : {"203.0.113.7", "2001:db8::7"}) {
        sockaddr_storage ss{};
        ip(text).to_sockaddr(8443, ss);
        auto back = ip_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss));
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(back->to_string(), text);
    }
    sockaddr unix_sa{};
    unix_sa.sa_family = AF_UNIX;
    EXPECT_FALSE(ip_address::from_sockaddr(&unix_sa).has_value());
    EXPECT_FALSE(ip_address::from_sockaddr(nullptr).has_value());
}

TEST(IpAddress, PrefixMatch) {
    EXPECT_TRUE(ip("10.1.2.3").in_prefix(ip("10.0.0.0"), 8));
    EXPECT_FALSE(ip("11.1.2.3").in_prefix(ip("10.0.0.0"), 8));
    EXPECT_TRUE(ip("100.127.255.255").in_prefix(ip("100.64.0.0"), 10));
    EXPECT_FALSE(ip("100.128.0.0").in_prefix(ip("100.64.0.0"), 10));
    EXPECT_FALSE(ip("10.0.0.1").in_prefix(ip("::"), 0)); // families never match
    EXPECT_FALSE(ip("10.0.0.1").in_prefix(ip("10.0.0.0"), 33));
}

struct range_case {
    std::string_view address;
    address_class expected;
};

// One address at the start, inside and at the end of every special-purpose range.
const range_case special_cases[] = {
    {"0.0.0.0", address_class::unspecified},
    {"0.1.2.3", address_class::this_network},
    {"10.0.0.0", address_class::private_use},
    {"10.255.255.255", address_class::private_use},
    {"100.64.0.1", address_class::shared_address},
    {"100.127.255.254", address_class::shared_address},
    {"127.0.0.1", address_class::loopback},
    {"127.255.255.255", address_class::loopback},
    {"169.254.169.254", address_class::link_local}, // cloud metadata: the classic SSRF target
    {"172.16.0.1", address_class::private_use},
    {"172.31.255.255", address_class::private_use},
    {"192.0.0.8", address_class::ietf_protocol},
    {"192.0.2.55", address_class::documentation},
    {"192.31.196.1", address_class::as112},
    {"192.52.193.1", address_class::amt},
    {"192.88.99.1", address_class::six_to_four_relay},
    {"192.168.1.1", address_class::private_use},
    {"192.175.48.6", address_class::as112},
    {"198.18.0.1", address_class::benchmarking},
    {"198.19.255.255", address_class::benchmarking},
    {"198.51.100.1", address_class::documentation},
    {"203.0.113.254", address_class::documentation},
    {"224.0.0.1", address_class::multicast},
    {"239.255.255.255", address_class::multicast},
    {"240.0.0.1", address_class::reserved},
    {"255.255.255.254", address_class::reserved},
    {"255.255.255.255", address_class::broadcast},
    {"::", address_class::unspecified},
    {"::1", address_class::loopback},
    {"::ffff:8.8.8.8", address_class::ipv4_mapped}, // mapped public is still refused: no IPv4 in IPv6 clothing
    {"::ffff:127.0.0.1", address_class::ipv4_mapped},
    {"::10.0.0.1", address_class::ipv4_compatible},
    {"64:ff9b::a00:1", address_class::ipv4_translation},
    {"64:ff9b:1::1", address_class::ipv4_translation},
    {"100::1", address_class::discard_only},
    {"2001::1", address_class::teredo},
    {"2001:0:4136:e378:8000:63bf:f5ff:fffe", address_class::teredo}, // embeds 10.0.0.1 as the client
    {"2001:1::1", address_class::ietf_protocol},
    {"2001:2::1", address_class::benchmarking},
    {"2001:3::1", address_class::amt},
    {"2001:4:112::1", address_class::as112},
    {"2001:10::1", address_class::orchid},
    {"2001:20::1", address_class::orchid},
    {"2001:1ff::1", address_class::ietf_protocol},
    {"2001:db8::1", address_class::documentation},
    {"2001:db8:ffff::1", address_class::documentation},
    {"2002:a00:1::1", address_class::six_to_four}, // 6to4 of 10.0.0.1
    {"2002:808:808::1", address_class::six_to_four},
    {"2620:4f:8000::1", address_class::as112},
    {"3fff::1", address_class::documentation},
    {"5f00::1", address_class::srv6_sid},
    {"fc00::1", address_class::unique_local},
    {"fdff:ffff::1", address_class::unique_local},
    {"fe80::1", address_class::link_local},
    {"febf::1", address_class::link_local},
    {"fec0::1", address_class::site_local},
    {"ff02::1", address_class::multicast},
    {"1::1", address_class::reserved}, // outside 2000::/3
    {"4000::1", address_class::reserved},
    {"e000::1", address_class::reserved},
};

TEST(AddressPolicy, ClassifiesEverySpecialRange) {
    for (const auto& c : special_cases) {
        const classification got = classify(ip(c.address));
        EXPECT_EQ(got.kind, c.expected) << c.address << " got " << to_string(got.kind);
        EXPECT_FALSE(got.is_public()) << c.address;
        EXPECT_FALSE(got.prefix.empty()) << c.address;
        EXPECT_FALSE(got.reference.empty()) << c.address;
    }
}

TEST(AddressPolicy, ProductionRefusesEverySpecialRange) {
    const address_policy policy;
    for (const auto& c : special_cases) {
        auto r = policy.check_address(ip(c.address));
        EXPECT_FALSE(r.has_value()) << c.address;
        EXPECT_EQ(r.error(), errc::refused_by_policy) << c.address;
        EXPECT_FALSE(policy.admit(ip(c.address), 80, connect_purpose::http).has_value()) << c.address;
    }
}

TEST(AddressPolicy, PublicAddressesAdmitted) {
    const address_policy policy;
    for (std::string_view a : {"1.1.1.1",
                               "8.8.8.8",
                               "9.255.255.255",
                               "11.0.0.0",
                               "100.63.255.255",
                               "100.128.0.0",
                               "126.255.255.255",
                               "128.0.0.0",
                               "169.253.255.255",
                               "172.15.255.255",
                               "172.32.0.0",
                               "192.0.1.255",
                               "192.0.3.0",
                               "192.167.255.255",
                               "192.169.0.0",
                               "198.17.255.255",
                               "198.20.0.0",
                               "223.255.255.255",
                               "2001:200::1",
                               "2001:4860:4860::8888",
                               "2606:4700:4700::1111",
                               "2a00:1450:4001:80b::200e",
                               "2001:db7:ffff::1",
                               "2001:db9::1",
                               "3ffe::1",
                               "2003::1"}) {
        EXPECT_TRUE(classify(ip(a)).is_public()) << a << " " << to_string(classify(ip(a)).kind);
        auto r = policy.admit(ip(a), 80, connect_purpose::http);
        ASSERT_TRUE(r.has_value()) << a;
        EXPECT_EQ(r->port, 80);
        EXPECT_EQ(r->url_port, 80);
        EXPECT_FALSE(r->lab_mode);
    }
}

TEST(AddressPolicy, ProductionPorts) {
    const address_policy policy;
    const ip_address pub = ip("8.8.8.8");
    EXPECT_EQ(policy.map_port(80, connect_purpose::http).value_or(0), 80);
    EXPECT_EQ(policy.map_port(443, connect_purpose::http).value_or(0), 443);
    EXPECT_EQ(policy.map_port(443, connect_purpose::tls_alpn).value_or(0), 443);
    for (std::uint16_t bad : {0, 1, 22, 8080, 8443, 65535}) {
        EXPECT_EQ(policy.map_port(bad, connect_purpose::http).error(), errc::refused_by_policy) << bad;
    }
    EXPECT_EQ(policy.map_port(80, connect_purpose::tls_alpn).error(), errc::refused_by_policy); // RFC 8737 §3
    EXPECT_TRUE(policy.check_connect(pub, 443).has_value());
    EXPECT_FALSE(policy.check_connect(pub, 8080).has_value());
    EXPECT_FALSE(policy.check_connect(ip("127.0.0.1"), 80).has_value());
}

TEST(AddressPolicy, LabModeMapsPortsAndAdmitsLoopback) {
    const auto policy = address_policy::lab({18080, 18443, 18444});
    EXPECT_TRUE(policy.lab_mode());
    EXPECT_EQ(policy.mode(), policy_mode::lab);
    auto http = policy.admit(ip("127.0.0.1"), 80, connect_purpose::http);
    ASSERT_TRUE(http.has_value());
    EXPECT_EQ(http->port, 18080);
    EXPECT_EQ(http->url_port, 80);
    EXPECT_TRUE(http->lab_mode);
    auto https = policy.admit(ip("10.0.0.1"), 443, connect_purpose::http);
    ASSERT_TRUE(https.has_value());
    EXPECT_EQ(https->port, 18443);
    EXPECT_TRUE(https->lab_mode);
    auto alpn = policy.admit(ip("::1"), 443, connect_purpose::tls_alpn);
    ASSERT_TRUE(alpn.has_value());
    EXPECT_EQ(alpn->port, 18444);
    EXPECT_TRUE(alpn->lab_mode);
    auto pub = policy.admit(ip("8.8.8.8"), 80, connect_purpose::http);
    ASSERT_TRUE(pub.has_value());
    EXPECT_TRUE(pub->lab_mode); // every result says lab mode, public or not
    // Lab mode still refuses the ports the production rule refuses, before mapping.
    EXPECT_FALSE(policy.admit(ip("127.0.0.1"), 8080, connect_purpose::http).has_value());
    EXPECT_FALSE(policy.admit(ip("127.0.0.1"), 80, connect_purpose::tls_alpn).has_value());
    // Addresses no socket can connect to stay refused.
    for (std::string_view a : {"0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"}) {
        EXPECT_EQ(policy.check_address(ip(a)).error(), errc::refused_by_policy) << a;
    }
    EXPECT_TRUE(policy.check_connect(ip("127.0.0.1"), 18443).has_value());
    EXPECT_FALSE(policy.check_connect(ip("127.0.0.1"), 80).has_value()); // only mapped ports are connectable
}

TEST(AddressPolicy, UnrestrictedIsExplicit) {
    const auto policy = address_policy::unrestricted("perspective agents configured by the CA");
    EXPECT_EQ(policy.mode(), policy_mode::unrestricted);
    EXPECT_EQ(policy.unrestricted_reason(), "perspective agents configured by the CA");
    EXPECT_FALSE(policy.lab_mode());
    EXPECT_TRUE(policy.check_connect(ip("10.1.2.3"), 9443).has_value());
    EXPECT_FALSE(policy.check_connect(ip("10.1.2.3"), 0).has_value());
    EXPECT_FALSE(policy.check_connect(ip("224.0.0.1"), 9443).has_value());
    auto r = policy.admit(ip("10.1.2.3"), 9443, connect_purpose::http);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->port, 9443);
    EXPECT_FALSE(r->lab_mode);
}

} // namespace
} // namespace mpic::net::addr
