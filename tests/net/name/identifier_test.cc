// net/name/identifier: standards.md §6 N-rows, §5.10 identifier policy, RFC 8738 reverse names, and bad input.

#include <gtest/gtest.h>

#include "net/name/identifier.hh"

namespace mpic::net {
namespace {

identifier ok(std::string_view text) {
    auto r = parse_identifier(text);
    EXPECT_TRUE(r) << "'" << text << "': " << r.error().message();
    return r ? *r : identifier{};
}

std::error_code err(std::string_view text) {
    auto r = parse_identifier(text);
    EXPECT_FALSE(r) << "'" << text << "' was accepted as " << (r ? r->name : "");
    return r.error();
}

// N1: `Example.COM` submitted ⇒ normalise to lowercase before DNS/CAA/compare (RFC 4343; Boulder Normalize).
TEST(Identifier, N1_MixedCaseIsLowercased) {
    const auto id = ok("Example.COM");
    EXPECT_EQ(id.kind, identifier::kind_t::dns);
    EXPECT_EQ(id.name, "example.com");
    EXPECT_FALSE(id.wildcard);
    EXPECT_EQ(ok("WWW.EXAMPLE.CO.UK").name, "www.example.co.uk");
}

// N3: `xn--bcher-kva.example` valid A-label ⇒ pass (RFC 8555 §7.1.4; BR P-Label).
TEST(Identifier, N3_ValidALabelPasses) {
    EXPECT_EQ(ok("xn--bcher-kva.example").name, "xn--bcher-kva.example");
    EXPECT_EQ(ok("XN--BCHER-KVA.example").name, "xn--bcher-kva.example");
}

TEST(Identifier, ULabelsBecomeALabels) {
    EXPECT_EQ(ok("bücher.example").name, "xn--bcher-kva.example");
    EXPECT_EQ(ok("BÜCHER.example").name, "xn--bcher-kva.example"); // UTS #46 maps case
    // NFC input: "u" + COMBINING DIAERESIS composes to ü.
    EXPECT_EQ(ok("bu\xcc\x88"
                 "cher.example")
                  .name,
              "xn--bcher-kva.example");
    // Non-transitional: ß stays ß (xn--fa-hia), it is not mapped to "ss".
    EXPECT_EQ(ok("faß.example").name, "xn--fa-hia.example");
}

TEST(Identifier, InvalidALabelsAreRefused) {
    EXPECT_EQ(err("xn--zz.example"), identifier_error::invalid_idna);        // not Punycode of anything valid
    EXPECT_EQ(err("xn--bcher-kvb.example"), identifier_error::invalid_idna); // decodes, but to another string
    EXPECT_EQ(err("ab--cd.example"), identifier_error::invalid_idna);        // reserved "??--" (RFC 5891 §4.2.3.1)
    EXPECT_EQ(err("xn--.example"), identifier_error::invalid_idna);
    EXPECT_EQ(err("\xe2\x98\x83\xef\xb8\x8f"
                  "\xe2\x80\x8d.example"),
              identifier_error::invalid_idna); // ZWJ context
}

TEST(Identifier, TrailingDotIsRemovedOnce) {
    EXPECT_EQ(ok("example.com.").name, "example.com");
    EXPECT_EQ(err("example.com.."), identifier_error::empty_label);
}

TEST(Identifier, EmptyLabelsAreRefused) {
    EXPECT_EQ(err(""), identifier_error::empty);
    EXPECT_EQ(err("."), identifier_error::empty);
    EXPECT_EQ(err(".example.com"), identifier_error::empty_label);
    EXPECT_EQ(err("a..example.com"), identifier_error::empty_label);
    EXPECT_EQ(err("*."), identifier_error::bad_wildcard); // "*" alone, after the trailing dot goes
    EXPECT_EQ(err("bü..example"), identifier_error::empty_label);
}

TEST(Identifier, LengthLimitsAreExact) {
    const std::string l63(63, 'a');
    const std::string name253 = l63 + "." + l63 + "." + l63 + "." + std::string(57, 'b') + ".com";
    ASSERT_EQ(name253.size(), 253u);
    EXPECT_EQ(ok(name253).name, name253);
    EXPECT_EQ(ok(name253 + ".").name, name253); // 254 with the root dot is still 253
    EXPECT_EQ(err("c." + name253), identifier_error::too_long);
    EXPECT_EQ(err(std::string(64, 'a') + ".example.com"), identifier_error::label_too_long);
    EXPECT_EQ(err(std::string(300, 'a') + ".com"), identifier_error::label_too_long);
    // A U-label whose A-label is over 63 octets.
    std::string long_u;
    for (int i = 0; i < 60; ++i) {
        long_u += "ü";
    }
    EXPECT_EQ(err(long_u + "ab.example"), identifier_error::label_too_long);
}

TEST(Identifier, BadBytesAreRefused) {
    EXPECT_EQ(err(std::string("exa\0mple.com", 12)), identifier_error::invalid_character);
    EXPECT_EQ(err("exa\xffmple.com"), identifier_error::invalid_character); // not UTF-8
    EXPECT_EQ(err("\xc0\xaf"
                  "example.com"),
              identifier_error::invalid_character);                                  // overlong '/'
    EXPECT_EQ(err("\xed\xa0\x80.example.com"), identifier_error::invalid_character); // UTF-16 surrogate
    EXPECT_EQ(err("b\xc3"), identifier_error::invalid_character);                    // cut sequence
    EXPECT_EQ(err("exa mple.com"), identifier_error::invalid_character);
    EXPECT_EQ(err("under_score.example.com"), identifier_error::invalid_character);
    EXPECT_EQ(err("-lead.example.com"), identifier_error::invalid_character);
    EXPECT_EQ(err("trail-.example.com"), identifier_error::invalid_character);
    EXPECT_EQ(err("example.com/path"), identifier_error::invalid_character);
}

TEST(Identifier, WildcardsOnlyAsTheWholeLeftmostLabel) {
    const auto id = ok("*.Example.com");
    EXPECT_TRUE(id.wildcard);
    EXPECT_EQ(id.name, "example.com");
    EXPECT_EQ(id.requested(), "*.example.com");
    EXPECT_EQ(err("*"), identifier_error::bad_wildcard);
    EXPECT_EQ(err("*example.com"), identifier_error::bad_wildcard);
    EXPECT_EQ(err("w*.example.com"), identifier_error::bad_wildcard);
    EXPECT_EQ(err("www.*.example.com"), identifier_error::bad_wildcard);
    EXPECT_EQ(err("*.*.example.com"), identifier_error::bad_wildcard);
    EXPECT_EQ(err("*.bü*.example"), identifier_error::bad_wildcard);
}

TEST(Identifier, PublicSuffixesAreRefused) {
    // BR §3.2.2.6: no wildcard immediately left of a public suffix (ICANN or private section).
    EXPECT_EQ(err("*.com"), identifier_error::wildcard_on_suffix);
    EXPECT_EQ(err("*.co.uk"), identifier_error::wildcard_on_suffix);
    EXPECT_EQ(err("*.github.io"), identifier_error::wildcard_on_suffix);
    EXPECT_EQ(err("*.test"), identifier_error::wildcard_on_suffix); // unknown TLD: the PSL's implicit "*" rule
    EXPECT_TRUE(ok("*.example.co.uk").wildcard);
    // A bare ICANN suffix or single label is not a validatable domain; a private-section one (github.io) is.
    EXPECT_EQ(err("com"), identifier_error::public_suffix);
    EXPECT_EQ(err("co.uk"), identifier_error::public_suffix);
    EXPECT_EQ(err("localhost"), identifier_error::public_suffix);
    EXPECT_EQ(ok("github.io").name, "github.io");
    EXPECT_EQ(ok("example.test").name, "example.test");
}

TEST(Identifier, PublicSuffixHelpers) {
    EXPECT_TRUE(is_public_suffix("com"));
    EXPECT_TRUE(is_public_suffix("co.uk"));
    EXPECT_TRUE(is_public_suffix("github.io"));
    EXPECT_FALSE(is_public_suffix("github.io", suffix_section::icann));
    EXPECT_FALSE(is_public_suffix("example.com"));
    EXPECT_EQ(registrable_domain("www.example.co.uk"), "example.co.uk");
    EXPECT_EQ(registrable_domain("a.b.example.com"), "example.com");
    EXPECT_EQ(registrable_domain("co.uk"), "");
}

TEST(Identifier, Ipv4LiteralsAreCanonical) {
    const auto id = ok("192.0.2.1");
    EXPECT_TRUE(id.is_ip());
    EXPECT_FALSE(id.is_ipv6);
    EXPECT_EQ(id.name, "192.0.2.1");
    EXPECT_EQ(err("192.0.2.256"), identifier_error::invalid_ip);
    EXPECT_EQ(err("192.0.2"), identifier_error::invalid_ip);
    EXPECT_EQ(err("192.0.2.01"), identifier_error::invalid_ip); // leading zero: octal in some parsers
    EXPECT_EQ(err("1.2.3.4."), identifier_error::invalid_ip);
    EXPECT_EQ(err("[192.0.2.1]"), identifier_error::invalid_ip); // brackets are for IPv6 only
}

TEST(Identifier, Ipv6LiteralsAreCanonicalRfc5952) {
    EXPECT_EQ(ok("2001:DB8:0:0:0:0:0:1").name, "2001:db8::1");
    const auto id = ok("[2001:db8::0:1]");
    EXPECT_TRUE(id.is_ipv6);
    EXPECT_EQ(id.name, "2001:db8::1");
    EXPECT_EQ(ok("2001:db8:0:1:1:1:1:1").name, "2001:db8:0:1:1:1:1:1"); // a lone 0 field is not "::"
    EXPECT_EQ(ok("2001:0:0:1:0:0:0:1").name, "2001:0:0:1::1");          // the longest run is compressed
    EXPECT_EQ(err("2001:db8::g"), identifier_error::invalid_ip);
    EXPECT_EQ(err("[2001:db8::1"), identifier_error::invalid_ip);
    EXPECT_EQ(err("[]"), identifier_error::invalid_ip);
    EXPECT_EQ(err("fe80::1%eth0"), identifier_error::invalid_ip); // zone identifiers are not identifiers
}

TEST(Identifier, ReverseNamesRfc8738) {
    EXPECT_EQ(reverse_name(ok("192.0.2.1")), "1.2.0.192.in-addr.arpa");
    // RFC 8738 §6's example form: nibbles of 2001:db8::1, least significant first.
    EXPECT_EQ(reverse_name(ok("2001:db8::1")),
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST(Identifier, ErrorCodesHaveMessages) {
    const std::error_code ec = identifier_error::wildcard_on_suffix;
    EXPECT_EQ(ec.category().name(), std::string("identifier"));
    EXPECT_EQ(ec.message(), "wildcard directly on a public suffix");
}

} // namespace
} // namespace mpic::net
