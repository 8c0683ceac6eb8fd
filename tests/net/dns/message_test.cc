// net/dns/message: the reader on hand-built packets, good and hostile.

#include <gtest/gtest.h>

#include "net/dns/message.hh"
#include "tests/net/dns/dns_packet.hh"

namespace mpic::net::dns {
namespace {

namespace t = mpic::test::dns;

/// The decoded rdata of `rr` as T; a test failure (and an empty T) if it decoded to something else.
template <class T>
const T& data_of(const record& rr) {
    static const T empty{};
    const T* p = rr.as<T>();
    if (p == nullptr) {
        ADD_FAILURE() << "record of type " << rr.type << " does not hold the expected rdata";
        return empty;
    }
    return *p;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// A response exercising every decoded type plus EDNS with an EDE option.
t::packet rich_packet() {
    t::packet p;
    p.id = 0x1234;
    p.ad = true;
    p.aa = true;
    p.questions = {{"Example.COM", 257}};
    p.answers = {
        t::a("example.com", "192.0.2.1"),
        t::aaaa("example.com", "2001:db8::1"),
        t::cname("www.example.com", "example.com"),
        t::dname("old.example.com", "example.net"),
        t::txt("example.com", {"v=1", "second"}),
        t::caa("example.com", 0, "issue", "ca.example"),
        t::ptr("1.2.0.192.in-addr.arpa", "example.com"),
        t::rr{"example.com", 15, std::string("\0\x0a\4mail\0", 8)}, // MX: kept raw
    };
    p.authority = {t::rr{"example.com", 6, std::string(22, '\0')}};
    p.edns = true;
    p.do_bit = true;
    p.options = {t::ede(6, "signature expired")};
    return p;
}

TEST(DnsMessage, ParsesHeaderQuestionAndEveryDecodedType) {
    const std::string wire = rich_packet().build();
    auto m = parse_message(bytes(wire));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->hdr.id, 0x1234);
    EXPECT_TRUE(m->hdr.qr);
    EXPECT_TRUE(m->hdr.aa);
    EXPECT_TRUE(m->hdr.ad);
    EXPECT_TRUE(m->hdr.rd);
    EXPECT_TRUE(m->hdr.ra);
    EXPECT_FALSE(m->hdr.tc);
    EXPECT_FALSE(m->hdr.cd);
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, "example.com"); // RFC 4343: case folded
    EXPECT_EQ(m->questions[0].type, 257);
    ASSERT_EQ(m->answers.size(), 8u);
    EXPECT_EQ(rdata_to_string(m->answers[0]), "192.0.2.1");
    EXPECT_EQ(rdata_to_string(m->answers[1]), "2001:db8::1");
    EXPECT_EQ(data_of<name_rdata>(m->answers[2]).target, "example.com");
    EXPECT_EQ(rdata_to_string(m->answers[2]), "example.com.");
    EXPECT_TRUE(m->answers[3].is(rr_type::dname));
    EXPECT_EQ(data_of<name_rdata>(m->answers[3]).target, "example.net");
    const auto* txt = m->answers[4].as<txt_rdata>();
    ASSERT_NE(txt, nullptr);
    EXPECT_EQ(txt->strings, (std::vector<std::string>{"v=1", "second"}));
    EXPECT_EQ(txt->joined(), "v=1second");
    EXPECT_EQ(rdata_to_string(m->answers[4]), "\"v=1\" \"second\"");
    const auto* caa = m->answers[5].as<caa_rdata>();
    ASSERT_NE(caa, nullptr);
    EXPECT_EQ(caa->flags, 0);
    EXPECT_EQ(caa->tag, "issue");
    EXPECT_EQ(caa->value, "ca.example");
    EXPECT_FALSE(caa->critical());
    EXPECT_EQ(rdata_to_string(m->answers[5]), "0 issue \"ca.example\"");
    EXPECT_EQ(data_of<name_rdata>(m->answers[6]).target, "example.com");
    EXPECT_NE(m->answers[7].as<raw_rdata>(), nullptr);
    EXPECT_EQ(rdata_to_string(m->answers[7]), "\\# 8 000a046d61696c00");
    EXPECT_EQ(to_string(m->answers[0]), "example.com. 60 IN A 192.0.2.1");
    ASSERT_EQ(m->authority.size(), 1u);
    EXPECT_TRUE(m->additional.empty()); // the OPT RR lives in m->opt
    ASSERT_TRUE(m->opt);
    EXPECT_TRUE(m->opt->dnssec_ok);
    EXPECT_EQ(m->opt->udp_payload_size, 1232);
    ASSERT_EQ(m->opt->extended_errors.size(), 1u);
    EXPECT_EQ(m->opt->extended_errors[0].info_code, 6);
    EXPECT_EQ(m->extended_error_text(), "DNSSEC Bogus (6): signature expired");
}

TEST(DnsMessage, ExtendedRcodeCombinesHeaderAndOptBits) {
    t::packet p;
    p.questions = {{"example.com", 1}};
    p.edns = true;
    p.rcode = 16; // BADVERS: 0x1 in the OPT TTL's top byte, 0 in the header (RFC 6891 §6.1.3)
    p.options = {t::ede(0, "first"), t::ede(23, "")};
    const std::string wire = p.build();
    auto m = parse_message(bytes(wire));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->hdr.rcode, 0);
    EXPECT_EQ(m->extended_rcode(), 16);
    EXPECT_EQ(rcode_name(m->extended_rcode()), "BADVERS");
    EXPECT_EQ(m->extended_error_text(), "Other Error (0): first; Network Error (23)");
    EXPECT_EQ(rcode_name(3), "NXDOMAIN");
    EXPECT_EQ(rcode_name(4000), "RCODE4000");
    EXPECT_EQ(type_name(257), "CAA");
    EXPECT_EQ(type_name(65280), "TYPE65280");
}

TEST(DnsMessage, EdeTextIsEscapedForLogs) {
    extended_error e{6, std::string("bad\n\x01\\", 6)};
    EXPECT_EQ(e.to_string(), "DNSSEC Bogus (6): bad\\010\\001\\092");
    EXPECT_EQ(extended_error_name(999), "Unknown");
}

TEST(DnsMessage, TruncatedAtEveryByteIsRefused) {
    const std::string wire = rich_packet().build();
    ASSERT_TRUE(parse_message(bytes(wire)));
    for (std::size_t n = 0; n < wire.size(); ++n) {
        const std::string prefix = wire.substr(0, n);
        auto m = parse_message(bytes(prefix));
        ASSERT_FALSE(m) << "prefix of " << n << " bytes parsed";
        EXPECT_EQ(m.error(), message_error::truncated) << n;
    }
}

TEST(DnsMessage, TrailingBytesAreIgnored) {
    const std::string wire = rich_packet().build() + std::string(7, '\xff');
    EXPECT_TRUE(parse_message(bytes(wire)));
}

TEST(DnsMessage, CountsLargerThanTheDataAreRefused) {
    t::packet p;
    p.questions = {{"example.com", 1}};
    p.answers = {t::a("example.com", "192.0.2.1")};
    std::string wire = p.build();
    wire[6] = '\x00';
    wire[7] = '\x02'; // ANCOUNT 2, one record present
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::truncated);
    wire[6] = '\xff';
    wire[7] = '\xff'; // 65535 claimed: refused by the record cap before anything is read
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::too_many_records);
    parse_limits roomy;
    roomy.max_records = 100000;
    EXPECT_EQ(parse_message(bytes(wire), roomy).error(), message_error::truncated);
}

TEST(DnsMessage, QueriesAreRefusedUnlessAllowed) {
    t::packet p;
    p.qr = false;
    p.questions = {{"example.com", 1}};
    const std::string wire = p.build();
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::not_a_response);
    parse_limits as_server;
    as_server.require_response = false;
    EXPECT_TRUE(parse_message(bytes(wire), as_server));
}

/// Header + one question "a" (offset 12..18) + `answer_bytes` as the whole answer section, ANCOUNT = n.
std::string with_answers(std::uint16_t n, const std::string& answer_bytes) {
    t::packet p;
    p.questions = {{"a", 1}};
    std::string wire = p.build();
    wire[6] = static_cast<char>(n >> 8);
    wire[7] = static_cast<char>(n & 0xFF);
    return wire + answer_bytes;
}

const std::string a_tail = t::u16(1) + t::u16(1) + t::u32(60) + t::u16(4) + std::string("\1\2\3\4", 4);

TEST(DnsMessage, BackwardPointersAreFollowed) {
    // Owner = pointer to the question name at offset 12; CNAME target = "b" + pointer to 12.
    const std::string cname_rr =
        std::string("\xc0\x0c", 2) + t::u16(5) + t::u16(1) + t::u32(60) + t::u16(4) + std::string("\1b\xc0\x0c", 4);
    const std::string wire = with_answers(1, cname_rr);
    auto m = parse_message(bytes(wire));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->answers[0].name, "a");
    EXPECT_EQ(data_of<name_rdata>(m->answers[0]).target, "b.a");
}

TEST(DnsMessage, PointerToItselfOrForwardIsRefused) {
    const std::size_t owner_at = 12 + 7; // first answer owner offset
    const std::string self = std::string(1, '\xc0') + std::string(1, static_cast<char>(owner_at)) + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(1, self))).error(), message_error::bad_pointer);
    const std::string forward = std::string(1, '\xc0') + std::string(1, static_cast<char>(owner_at + 2)) + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(1, forward))).error(), message_error::bad_pointer);
    // "x" then a pointer back to the "x" label: a loop that only a backwards-only rule (or a hop cap) stops.
    const std::string loop = std::string("\1x\xc0", 3) + std::string(1, static_cast<char>(owner_at)) + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(1, loop))).error(), message_error::bad_pointer);
    // Two pointers pointing at each other, reached from a later owner.
    const std::string pair_rdata = std::string("\xc0", 1) + std::string(1, static_cast<char>(owner_at + 13)) +
                                   std::string("\xc0", 1) + std::string(1, static_cast<char>(owner_at + 11));
    const std::string raw_rr = std::string("\0", 1) + t::u16(99) + t::u16(1) + t::u32(0) + t::u16(4) + pair_rdata;
    const std::string second = std::string("\xc0", 1) + std::string(1, static_cast<char>(owner_at + 11)) + a_tail;
    auto m = parse_message(bytes(with_answers(2, raw_rr + second)));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error(), message_error::bad_pointer);
}

TEST(DnsMessage, LongBackwardPointerChainHitsTheHopCap) {
    // An unknown-type RR whose raw rdata is a chain of 40 pointers, each to the previous one, the first to the
    // question name; a second RR's owner points at the last one: 41 hops.
    const std::size_t rdata_at = 12 + 7 + 1 + 10;
    std::string chain = std::string("\xc0\x0c", 2);
    for (std::size_t i = 1; i < 40; ++i) {
        const std::size_t prev = rdata_at + 2 * (i - 1);
        chain += std::string(1, static_cast<char>(0xC0 | (prev >> 8))) + std::string(1, static_cast<char>(prev & 0xFF));
    }
    const std::string raw_rr = std::string("\0", 1) + t::u16(99) + t::u16(1) + t::u32(0) +
                               t::u16(static_cast<std::uint16_t>(chain.size())) + chain;
    const std::size_t last = rdata_at + 2 * 39;
    const std::string owner =
        std::string(1, static_cast<char>(0xC0 | (last >> 8))) + std::string(1, static_cast<char>(last & 0xFF));
    const std::string wire = with_answers(2, raw_rr + owner + a_tail);
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::pointer_loop);
    parse_limits generous;
    generous.max_pointer_hops = 64;
    auto m = parse_message(bytes(wire), generous);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->answers[1].name, "a");
}

TEST(DnsMessage, LabelLengthsAbove63AreRefused) {
    const std::string label64 = std::string(1, '\x40') + std::string(64, 'a') + std::string(1, '\0') + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(1, label64))).error(), message_error::label_too_long);
    const std::string reserved = std::string("\x80\x01", 2) + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(1, reserved))).error(), message_error::bad_label_type);
}

TEST(DnsMessage, NamesAbove255OctetsAreRefused) {
    auto name_of = [](std::vector<std::size_t> labels) {
        std::string w;
        for (std::size_t n : labels) {
            w += std::string(1, static_cast<char>(n)) + std::string(n, 'x');
        }
        return w + std::string(1, '\0');
    };
    // 3 x 64 + 62 + 1 = 255 octets: the maximum.
    auto ok = parse_message(bytes(with_answers(1, name_of({63, 63, 63, 61}) + a_tail)));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->answers[0].name.size(), 253u);
    EXPECT_EQ(parse_message(bytes(with_answers(1, name_of({63, 63, 63, 62}) + a_tail))).error(),
              message_error::name_too_long);
    // Over the limit only through a pointer: 200 octets of labels + pointer to a 60-octet name.
    const std::string base = name_of({59}); // at owner_at: the first answer's owner
    const std::string first = base + a_tail;
    const std::string second = name_of({49, 49, 49, 49}).substr(0, 200) + std::string("\xc0\x13", 2) + a_tail;
    EXPECT_EQ(parse_message(bytes(with_answers(2, first + second))).error(), message_error::name_too_long);
}

TEST(DnsMessage, RdataThatDoesNotFitItsTypeIsRefused) {
    auto one = [](std::uint16_t type, const std::string& rdata) {
        return with_answers(1, std::string("\0", 1) + t::u16(type) + t::u16(1) + t::u32(0) +
                                   t::u16(static_cast<std::uint16_t>(rdata.size())) + rdata);
    };
    EXPECT_EQ(parse_message(bytes(one(1, "12345"))).error(), message_error::bad_rdata);  // A of 5
    EXPECT_EQ(parse_message(bytes(one(28, "1234"))).error(), message_error::bad_rdata);  // AAAA of 4
    EXPECT_EQ(parse_message(bytes(one(16, ""))).error(), message_error::bad_rdata);      // TXT empty
    EXPECT_EQ(parse_message(bytes(one(16, "\5abc"))).error(), message_error::bad_rdata); // string overruns
    EXPECT_EQ(parse_message(bytes(one(257, std::string("\0\0", 2)))).error(), message_error::bad_rdata); // tag 0
    EXPECT_EQ(parse_message(bytes(one(257, std::string("\0\11iss", 5)))).error(), message_error::bad_rdata);
    EXPECT_EQ(parse_message(bytes(one(5, std::string("\1b\0junk", 7)))).error(), message_error::bad_rdata);
    EXPECT_EQ(parse_message(bytes(one(5, std::string("\3abc", 4)))).error(), message_error::bad_rdata);
    // A CAA with an empty value is legal (RFC 8659 §4.1: the value may be empty).
    auto m = parse_message(bytes(one(257, std::string("\x80\5issue", 7))));
    ASSERT_TRUE(m);
    EXPECT_TRUE(data_of<caa_rdata>(m->answers[0]).critical());
    EXPECT_EQ(rdata_to_string(m->answers[0]), "128 issue \"\"");
}

TEST(DnsMessage, MisplacedOrDuplicateOptIsRefused) {
    const std::string opt = std::string("\0", 1) + t::u16(41) + t::u16(1232) + t::u32(0) + t::u16(0);
    EXPECT_EQ(parse_message(bytes(with_answers(1, opt))).error(), message_error::bad_opt);
    t::packet p;
    p.questions = {{"a", 1}};
    p.edns = true;
    std::string wire = p.build() + opt;
    wire[11] = 2; // ARCOUNT 2: two OPT RRs
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::bad_opt);
    t::packet q;
    q.questions = {{"a", 1}};
    q.edns = true;
    q.options = {{15, std::string("\0", 1)}}; // EDE shorter than its INFO-CODE
    EXPECT_EQ(parse_message(bytes(q.build())).error(), message_error::bad_opt);
}

TEST(DnsMessage, OddOctetsInNamesAreEscapedInjectively) {
    // Label "A.b" (a dot inside a label) and a label with a space and a high byte.
    const std::string owner = std::string("\3A.b\3x y\1\xff\0", 11);
    auto m = parse_message(bytes(with_answers(1, owner + a_tail)));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->answers[0].name, "a\\046b.x\\032y.\\255");
    EXPECT_EQ(canonical_name("WWW.Example.COM."), "www.example.com");
}

TEST(DnsMessage, PresentationFormEscapesBytes) {
    EXPECT_EQ(quote_string("plain"), "\"plain\"");
    EXPECT_EQ(quote_string(std::string("a\"b\\c\xff\0", 7)), "\"a\\\"b\\\\c\\255\\000\"");
    record r;
    r.type = 257;
    r.data = caa_rdata{0, "issue", "ca.example; accounturi=https://x/1"};
    EXPECT_EQ(rdata_to_string(r), "0 issue \"ca.example; accounturi=https://x/1\"");
    r.data = caa_rdata{128, "t b", "x"};
    EXPECT_EQ(rdata_to_string(r), "128 t\\032b \"x\"");
    record tx;
    tx.type = 16;
    tx.data = txt_rdata{{std::string("\xc3\x28", 2), ""}}; // invalid UTF-8 and an empty string
    EXPECT_EQ(rdata_to_string(tx), "\"\\195(\" \"\"");
}

// ---- alias chains ------------------------------------------------------------------------------------------------

message answers_of(std::vector<t::rr> rrs, parse_limits limits = {}) {
    t::packet p;
    p.questions = {{"q.example", 1}};
    p.answers = std::move(rrs);
    const std::string wire = p.build();
    auto m = parse_message(bytes(wire), limits);
    EXPECT_TRUE(m) << m.error().message();
    return m ? std::move(*m) : message{};
}

TEST(DnsAlias, FollowsCnamesAndReportsTheChain) {
    const auto m =
        answers_of({t::cname("www.example.com", "cdn.provider.net"), t::cname("cdn.provider.net", "edge.provider.net"),
                    t::a("edge.provider.net", "192.0.2.7")});
    auto chain = follow_aliases(m, "WWW.example.com.");
    ASSERT_TRUE(chain);
    EXPECT_EQ(chain->final_name, "edge.provider.net");
    ASSERT_EQ(chain->steps.size(), 2u);
    EXPECT_EQ(chain->names("www.example.com"),
              (std::vector<std::string>{"www.example.com", "cdn.provider.net", "edge.provider.net"}));
    const auto rrs = records_at(m, chain->final_name, 1);
    ASSERT_EQ(rrs.size(), 1u);
    EXPECT_EQ(rdata_to_string(*rrs[0]), "192.0.2.7");
    auto none = follow_aliases(m, "other.example");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->steps.empty());
    EXPECT_EQ(none->final_name, "other.example");
}

TEST(DnsAlias, AppliesDnameToTheClosestAncestor) {
    const auto m = answers_of({t::dname("example.com", "example.net"), t::dname("sub.example.com", "other.org"),
                               t::a("a.b.other.org", "192.0.2.1")});
    auto chain = follow_aliases(m, "a.b.sub.example.com");
    ASSERT_TRUE(chain);
    ASSERT_EQ(chain->steps.size(), 1u);
    EXPECT_EQ(chain->steps[0].via, rr_type::dname);
    EXPECT_EQ(chain->final_name, "a.b.other.org");
    // The DNAME owner itself is not redirected (RFC 6672 §2.3).
    auto owner = follow_aliases(m, "example.com");
    ASSERT_TRUE(owner);
    EXPECT_TRUE(owner->steps.empty());
}

TEST(DnsAlias, DnameSubstitutionOverflowIsAnError) {
    const std::string long_target =
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(50, 'd');
    const auto m = answers_of({t::dname("x.example", long_target)});
    auto chain = follow_aliases(m, std::string(20, 'z') + ".x.example");
    EXPECT_EQ(chain.error(), alias_error::name_too_long);
}

TEST(DnsAlias, LoopsAreDetected) {
    const auto m = answers_of({t::cname("a.example", "b.example"), t::cname("b.example", "a.example")});
    EXPECT_EQ(follow_aliases(m, "a.example").error(), alias_error::loop);
    const auto self = answers_of({t::cname("a.example", "a.example")});
    EXPECT_EQ(follow_aliases(self, "a.example").error(), alias_error::loop);
}

TEST(DnsAlias, TenThousandCnameChainIsCapped) {
    std::vector<t::rr> rrs;
    for (int i = 0; i < 10000; ++i) {
        rrs.push_back(t::cname("c" + std::to_string(i) + ".x", "c" + std::to_string(i + 1) + ".x"));
    }
    t::packet p;
    p.questions = {{"c0.x", 1}};
    p.answers = rrs;
    const std::string wire = p.build();
    ASSERT_GT(wire.size(), 65535u); // more than any real message: the reader must not care
    EXPECT_EQ(parse_message(bytes(wire)).error(), message_error::too_many_records);
    parse_limits big;
    big.max_records = 20000;
    auto m = parse_message(bytes(wire), big);
    ASSERT_TRUE(m);
    EXPECT_EQ(follow_aliases(*m, "c0.x", 16).error(), alias_error::too_long);
    auto all = follow_aliases(*m, "c0.x", 10000);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->final_name, "c10000.x");
}

} // namespace
} // namespace mpic::net::dns
