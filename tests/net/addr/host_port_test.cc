#include "net/addr/host_port.hh"

#include <gtest/gtest.h>

namespace mpic::net::addr {
namespace {

TEST(HostPort, NameOrAddressWithoutPort) {
    auto v4 = parse_host_port("192.0.2.1");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "192.0.2.1");
    EXPECT_FALSE(v4->port);
    auto v6 = parse_host_port("2001:db8::1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "2001:db8::1");
    EXPECT_FALSE(v6->port);
}

TEST(HostPort, WithPort) {
    auto v4 = parse_host_port("127.0.0.1:5353");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 5353);
    auto v6 = parse_host_port("[::1]:0");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 0);
    auto bracketed = parse_host_port("[2001:db8::1]");
    ASSERT_TRUE(bracketed);
    EXPECT_FALSE(bracketed->port);
}

TEST(HostPort, RefusesMalformed) {
    for (const char* bad : {"", ":53", "[::1", "[::1]53", "[]:53", "host:", "host:65536", "host:-1", "host:5x",
                            "host:123456", "[::1]:"}) {
        EXPECT_FALSE(parse_host_port(bad)) << bad;
    }
}

} // namespace
} // namespace mpic::net::addr
