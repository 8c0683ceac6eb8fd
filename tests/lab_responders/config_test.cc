// Responder config TOML: round trips for every field, and strict rejection of what a scenario typo would produce.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/lab_responders/lab_process.hh"
#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab::responders {
namespace {

using ::testing::HasSubstr;

TEST(ResponderConfig, PerspectiveAddressIsLoopbackKPlusOne) {
    EXPECT_EQ(perspective_address(0), "127.0.0.1");
    EXPECT_EQ(perspective_address(1), "127.0.0.2");
    EXPECT_EQ(perspective_address(253), "127.0.0.254");
}

TEST(ResponderConfig, AlpnRoundTrip) {
    alpn_config c;
    c.listen = {"127.0.0.1", 4443};
    c.certs.push_back({"example.test", "tok.thumb", alpn_variant::valid, std::nullopt, 5000});
    c.certs.push_back({"192.0.2.7", "t2.thumb", alpn_variant::many_sans, "127.0.0.3", 42});
    auto r = parse_alpn_config(to_toml(c));
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.config->listen.address, "127.0.0.1");
    EXPECT_EQ(r.config->listen.port, 4443);
    ASSERT_EQ(r.config->certs.size(), 2u);
    EXPECT_EQ(r.config->certs[0].name, "example.test");
    EXPECT_EQ(r.config->certs[0].source, std::nullopt);
    EXPECT_EQ(r.config->certs[1].variant, alpn_variant::many_sans);
    EXPECT_EQ(r.config->certs[1].source, "127.0.0.3");
    EXPECT_EQ(r.config->certs[1].many_sans_count, 42u);
    EXPECT_EQ(r.config->certs[1].key_authorization, "t2.thumb");
}

TEST(ResponderConfig, EveryEnumNameRoundTrips) {
    for (int i = 0; i <= static_cast<int>(alpn_variant::duplicate_extension); ++i) {
        const auto v = static_cast<alpn_variant>(i);
        EXPECT_EQ(alpn_variant_from_string(to_string(v)), v);
    }
    for (int i = 0; i <= static_cast<int>(dns_behaviour::oversized_txt); ++i) {
        const auto b = static_cast<dns_behaviour>(i);
        EXPECT_EQ(dns_behaviour_from_string(to_string(b)), b);
    }
    for (int i = 0; i <= static_cast<int>(http_behaviour::redirect); ++i) {
        const auto b = static_cast<http_behaviour>(i);
        EXPECT_EQ(http_behaviour_from_string(to_string(b)), b);
    }
    EXPECT_EQ(alpn_variant_from_string("Valid"), std::nullopt);
    EXPECT_EQ(dns_behaviour_from_string(""), std::nullopt);
}

TEST(ResponderConfig, DnsRoundTrip) {
    dns_config c;
    c.fallback = dns_behaviour::refused;
    dns_rule r;
    r.qname = "_acme-challenge.example.test";
    r.qtype = "TXT";
    r.source = "127.0.0.2";
    r.behaviour = dns_behaviour::cname_chain;
    r.delay_ms = 250;
    r.cname_chain_length = 3;
    r.txt_size = 9000;
    dns_record txt;
    txt.type = "TXT";
    txt.strings = {"a", "b"};
    txt.ttl = 5;
    dns_record caa;
    caa.type = "CAA";
    caa.caa_flags = 128;
    caa.caa_tag = "issue";
    caa.value = "ca.example; accounturi=x";
    caa.name = "example.test";
    r.records = {txt, caa};
    c.rules.push_back(r);
    auto p = parse_dns_config(to_toml(c));
    ASSERT_TRUE(p) << p.error;
    EXPECT_EQ(p.config->fallback, dns_behaviour::refused);
    ASSERT_EQ(p.config->rules.size(), 1u);
    const dns_rule& q = p.config->rules[0];
    EXPECT_EQ(q.qname, r.qname);
    EXPECT_EQ(q.qtype, "TXT");
    EXPECT_EQ(q.source, "127.0.0.2");
    EXPECT_EQ(q.behaviour, dns_behaviour::cname_chain);
    EXPECT_EQ(q.delay_ms, 250u);
    EXPECT_EQ(q.cname_chain_length, 3u);
    EXPECT_EQ(q.txt_size, 9000u);
    ASSERT_EQ(q.records.size(), 2u);
    EXPECT_EQ(q.records[0].strings, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(q.records[0].ttl, 5u);
    EXPECT_EQ(q.records[1].caa_flags, 128);
    EXPECT_EQ(q.records[1].caa_tag, "issue");
    EXPECT_EQ(q.records[1].value, "ca.example; accounturi=x");
    EXPECT_EQ(q.records[1].name, "example.test");
}

TEST(ResponderConfig, HttpRoundTrip) {
    http_config c;
    http_rule r;
    r.path = "/.well-known/acme-challenge/*";
    r.host = "example.test";
    r.source = "::1";
    r.behaviour = http_behaviour::oversized;
    r.status = 201;
    r.headers = {{"Content-Type", "text/plain"}, {"X-A", "1"}};
    r.body = "body";
    r.declared_length = std::uint64_t{1} << 30;
    r.actual_length = std::uint64_t{1} << 31;
    r.chunk_size = 7;
    c.rules.push_back(r);
    auto p = parse_http_config(to_toml(c));
    ASSERT_TRUE(p) << p.error;
    const http_rule& q = p.config->rules.at(0);
    EXPECT_EQ(q.path, r.path);
    EXPECT_EQ(q.host, r.host);
    EXPECT_EQ(q.source, "::1");
    EXPECT_EQ(q.behaviour, http_behaviour::oversized);
    EXPECT_EQ(q.status, 201);
    EXPECT_EQ(q.headers, r.headers);
    EXPECT_EQ(q.declared_length, r.declared_length);
    EXPECT_EQ(q.actual_length, r.actual_length);
    EXPECT_EQ(q.chunk_size, 7u);
}

TEST(ResponderConfig, EmptyFileIsAValidConfigWithDefaults) {
    auto a = parse_alpn_config("");
    ASSERT_TRUE(a) << a.error;
    EXPECT_EQ(a.config->listen.address, "127.0.0.1");
    EXPECT_EQ(a.config->listen.port, 0);
    auto d = parse_dns_config("");
    ASSERT_TRUE(d);
    EXPECT_EQ(d.config->fallback, dns_behaviour::nxdomain);
}

TEST(ResponderConfig, PerspectiveSpellings) {
    auto r = parse_http_config(R"(
[[rule]]
path = "/a"
perspective = 2
[[rule]]
path = "/b"
perspective = "127.0.0.9"
[[rule]]
path = "/c"
perspective = "default"
)");
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.config->rules[0].source, "127.0.0.3");
    EXPECT_EQ(r.config->rules[1].source, "127.0.0.9");
    EXPECT_EQ(r.config->rules[2].source, std::nullopt);
}

struct bad_case {
    const char* text;
    const char* message_part;
};

TEST(ResponderConfig, StrictParsingRejectsMistakesWithAClearMessage) {
    const bad_case http_cases[] = {
        {"[[rule]]\npath = \"/a\"\nbehavior = \"dribble\"\n", "unknown key 'behavior'"},
        {"[[rule]]\npath = \"/a\"\nbehaviour = \"drible\"\n", "is not one of"},
        {"[[rule]]\nbody = \"x\"\n", "'path' is required"},
        {"[[rule]]\npath = \"/a\"\nstatus = 99\n", "outside [100, 999]"},
        {"[[rule]]\npath = \"/a\"\nperspective = \"nowhere\"\n", "perspective 'nowhere'"},
        {"[[rule]]\npath = \"/a\"\nperspective = 300\n", "outside [0, 253]"},
        {"[[rule]]\npath = \"/a\"\nbehaviour = \"redirect\"\n", "needs a location"},
        {"[[rule]]\npath = \"/a\"\nheaders = [[\"X-A\", \"1\\r\\nInjected: yes\"]]\n", "bad header"},
        {"[listen]\naddress = \"localhost\"\n", "not an IP literal"},
        {"[listen]\nport = 70000\n", "outside [0, 65535]"},
        {"rule = 5\n", "must be an array"},
        {"[[rule]]\npath = \"/a\"\ndelay_ms = \"5\"\n", "must be an integer"},
        {"[[rule\npath = 1\n", "TOML syntax error at line 1"},
    };
    for (const auto& c : http_cases) {
        auto r = parse_http_config(c.text);
        EXPECT_FALSE(r) << c.text;
        EXPECT_THAT(r.error, HasSubstr(c.message_part)) << c.text;
    }
    const bad_case dns_cases[] = {
        {"fallback = \"answer\"\n", "fallback must be"},
        {"[[rule]]\nqname = \"a\"\n[[rule.record]]\ntype = \"A\"\nvalue = \"1.2.3\"\n", "bad A record"},
        {"[[rule]]\nqname = \"a\"\n[[rule.record]]\ntype = \"SRV\"\nvalue = \"x\"\n", "bad SRV record"},
        {"[[rule]]\nqname = \"a\"\n[[rule.record]]\ntype = \"CAA\"\nvalue = \"x\"\n", "bad CAA record"},
        {"[[rule]]\nqname = \"a\"\ntxt_size = 70000\n", "outside [1, 65000]"},
        {"[[rule]]\nqname = \"a\"\ncname_chain_length = 0\n", "outside [1, 1000]"},
    };
    for (const auto& c : dns_cases) {
        auto r = parse_dns_config(c.text);
        EXPECT_FALSE(r) << c.text;
        EXPECT_THAT(r.error, HasSubstr(c.message_part)) << c.text;
    }
    const bad_case alpn_cases[] = {
        {"[[cert]]\nname = \"a\"\nvariant = \"bogus\"\n", "is not one of"},
        {"[[cert]]\nkey_authorization = \"a\"\n", "'name' is required"},
        {"[[cert]]\nname = \"a\"\nmany_sans_count = 200000\n", "outside [1, 100000]"},
        {"extra = 1\n", "unknown key 'extra'"},
    };
    for (const auto& c : alpn_cases) {
        auto r = parse_alpn_config(c.text);
        EXPECT_FALSE(r) << c.text;
        EXPECT_THAT(r.error, HasSubstr(c.message_part)) << c.text;
    }
}

TEST(ResponderConfig, ReadAndWriteFiles) {
    test::temp_dir dir;
    http_config c;
    c.rules.push_back(http_rule{});
    c.rules[0].path = "/x";
    EXPECT_EQ(write_config(dir.path() / "h.toml", c), "");
    auto r = read_http_config(dir.path() / "h.toml");
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.config->rules.at(0).path, "/x");

    auto missing = read_dns_config(dir.path() / "missing.toml");
    EXPECT_FALSE(missing);
    EXPECT_THAT(missing.error, HasSubstr("missing.toml: cannot open"));

    auto bad = read_alpn_config(dir.write("bad.toml", "[[cert]\n"));
    EXPECT_FALSE(bad);
    EXPECT_THAT(bad.error, HasSubstr("bad.toml: TOML syntax error"));

    EXPECT_NE(write_config(dir.path() / "no-such-dir" / "x.toml", c), "");
}

} // namespace
} // namespace mpic::lab::responders
