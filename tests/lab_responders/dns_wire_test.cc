// DNS wire builder/reader and the fault responder's decision function, byte by byte (no sockets).

#include <random>

#include <gtest/gtest.h>

#include "tools/mpic-lab/responders/dns_wire.hh"
#include "tools/mpic-lab/responders/faultdns.hh"

namespace mpic::lab::responders::dns {
namespace {

bytes make_query(std::string_view name, std::uint16_t type, std::uint16_t id = 0x1234, bool edns = false,
                 std::uint16_t edns_size = 1232) {
    message_builder m(id, flag_rd);
    EXPECT_TRUE(m.add_question(name, type));
    if (edns) {
        m.add_opt(edns_size);
    }
    return std::move(m).take();
}

std::uint16_t flags_of(const bytes& m) {
    return read_u16(m.data() + 2);
}
std::uint16_t count(const bytes& m, int section) {
    return read_u16(m.data() + 4 + 2 * section);
}

dns_config config_with(dns_rule rule) {
    dns_config c;
    c.rules.push_back(std::move(rule));
    return c;
}

dns_record rec(std::string type, std::string value) {
    dns_record r;
    r.type = std::move(type);
    r.value = std::move(value);
    return r;
}

TEST(DnsWire, NamesEncodeAsLabels) {
    bytes out;
    ASSERT_TRUE(append_name(out, "ab.c."));
    EXPECT_EQ(out, (bytes{2, 'a', 'b', 1, 'c', 0}));
    out.clear();
    ASSERT_TRUE(append_name(out, ""));
    EXPECT_EQ(out, (bytes{0}));
    EXPECT_FALSE(append_name(out, "a..b"));
    EXPECT_FALSE(append_name(out, std::string(64, 'a')));
    std::string long_name;
    for (int i = 0; i < 64; ++i) {
        long_name += "abc.";
    }
    EXPECT_FALSE(append_name(out, long_name)); // 257 octets
    EXPECT_EQ(out, (bytes{0}));
}

TEST(DnsWire, BuilderNeverExceedsTheTcpMessageLimit) {
    message_builder m(1, flag_qr);
    ASSERT_TRUE(m.add_question("a.test", 16));
    const bytes rdata(60000, 'x');
    EXPECT_TRUE(m.add_record(1, "a.test", 16, 60, rdata));
    const std::size_t before = m.data().size();
    EXPECT_FALSE(m.add_record(1, "a.test", 16, 60, bytes(6000, 'y')));
    EXPECT_EQ(m.data().size(), before);
    EXPECT_EQ(count(m.data(), 1), 1);
    while (m.add_record(1, "a.test", 1, 60, bytes{1, 2, 3, 4})) {
    }
    EXPECT_LE(m.data().size(), max_message_size);
    EXPECT_GT(m.data().size(), max_message_size - 30);
    while (m.add_opt(512)) {
    }
    EXPECT_LE(m.data().size(), max_message_size);
}

TEST(DnsWire, QueryRoundTrip) {
    const bytes q = make_query("Example.Test", 16, 0xBEEF, true, 4096);
    auto p = parse_query(q.data(), q.size());
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, 0xBEEF);
    EXPECT_EQ(p->qname, "Example.Test");
    EXPECT_EQ(p->qtype, 16);
    EXPECT_EQ(p->qclass, 1);
    EXPECT_TRUE(p->edns);
    EXPECT_EQ(p->edns_udp_size, 4096);
    EXPECT_EQ(p->question.size(), q.size() - header_size - 11);
}

TEST(DnsWire, RdataEncodings) {
    EXPECT_EQ(rdata_for(rec("A", "127.0.0.5")), (bytes{127, 0, 0, 5}));
    EXPECT_EQ(rdata_for(rec("AAAA", "::1"))->size(), 16u);
    EXPECT_EQ(rdata_for(rec("A", "::1")), std::nullopt);
    auto caa = rec("CAA", "ca.example");
    caa.caa_tag = "issue";
    caa.caa_flags = 128;
    const bytes c = *rdata_for(caa);
    EXPECT_EQ(c[0], 128);
    EXPECT_EQ(c[1], 5);
    EXPECT_EQ(std::string(c.begin() + 7, c.end()), "ca.example");
    // A 600-octet TXT value becomes 255 + 255 + 90.
    const bytes t = *rdata_for(rec("TXT", std::string(600, 'v')));
    EXPECT_EQ(t.size(), 603u);
    EXPECT_EQ(t[0], 255);
    EXPECT_EQ(t[256], 255);
    EXPECT_EQ(t[512], 90);
    EXPECT_EQ(rdata_for(rec("TXT", "")), (bytes{0}));
    auto mx = rec("MX", "mail.test");
    EXPECT_EQ(rdata_for(mx)->at(1), 10);
}

TEST(DnsWire, ParserNeverReadsOutOfBounds) {
    // Every prefix of a valid query, and random bytes: parse_query must return cleanly (ASan/UBSan builds check
    // the "never reads out of bounds" half of this).
    const bytes q = make_query("a.example.test", 1, 7, true);
    for (std::size_t n = 0; n < q.size(); ++n) {
        auto p = parse_query(q.data(), n);
        if (n < q.size() - 11) {
            EXPECT_FALSE(p) << n;
        }
    }
    std::mt19937 rng(42);
    bytes junk;
    for (int i = 0; i < 20000; ++i) {
        junk.resize(rng() % 80);
        for (auto& b : junk) {
            b = static_cast<std::uint8_t>(rng());
        }
        if (junk.size() > 5 && i % 2 == 0) {
            junk[2] &= 0x7f; // QR = 0
            junk[4] = 0;
            junk[5] = 1; // QDCOUNT = 1, so the name parser runs
        }
        auto p = parse_query(junk.data(), junk.size());
        (void)p;
        reply r = respond(dns_config{}, junk.data(), junk.size(), "127.0.0.1", false);
        EXPECT_TRUE(r.drop || r.message.size() >= header_size);
    }
    EXPECT_FALSE(parse_query(nullptr, 0));
}

TEST(DnsWire, CompressedQueryNameIsRejected) {
    bytes q = make_query("a.test", 1);
    q[header_size] = 0xC0;
    EXPECT_FALSE(parse_query(q.data(), q.size()));
    reply r = respond(dns_config{}, q.data(), q.size(), "127.0.0.1", false);
    ASSERT_FALSE(r.drop);
    EXPECT_EQ(flags_of(r.message) & 0xF, formerr);
}

TEST(FaultDns, AnswerFiltersByTypeAndPerspective) {
    dns_rule d;
    d.qname = "example.test.";
    d.records = {rec("A", "127.0.0.5"), rec("TXT", "hello")};
    dns_rule p = d;
    p.source = "127.0.0.2";
    p.records = {rec("A", "10.0.0.1")};
    dns_config c;
    c.rules = {d, p};
    const bytes q = make_query("EXAMPLE.test", 1);
    reply def = respond(c, q.data(), q.size(), "127.0.0.1", false);
    ASSERT_FALSE(def.drop);
    EXPECT_EQ(flags_of(def.message) & (flag_qr | flag_aa), flag_qr | flag_aa);
    EXPECT_EQ(count(def.message, 1), 1);
    EXPECT_EQ(std::vector<std::uint8_t>(def.message.end() - 4, def.message.end()), (bytes{127, 0, 0, 5}));
    reply per = respond(c, q.data(), q.size(), "127.0.0.2", false);
    EXPECT_EQ(std::vector<std::uint8_t>(per.message.end() - 4, per.message.end()), (bytes{10, 0, 0, 1}));
    const bytes aaaa = make_query("example.test", 28);
    reply nodata = respond(c, aaaa.data(), aaaa.size(), "127.0.0.1", false);
    EXPECT_EQ(flags_of(nodata.message) & 0xF, noerror);
    EXPECT_EQ(count(nodata.message, 1), 0);
    const bytes other = make_query("other.test", 1);
    reply nx = respond(c, other.data(), other.size(), "127.0.0.1", false);
    EXPECT_EQ(flags_of(nx.message) & 0xF, nxdomain);
}

TEST(FaultDns, UdpAnswerLargerThanLimitIsTruncated) {
    dns_rule r;
    r.qname = "big.test";
    r.records = {rec("TXT", std::string(1000, 'x'))};
    const dns_config c = config_with(r);
    const bytes plain = make_query("big.test", 16);
    reply udp = respond(c, plain.data(), plain.size(), "127.0.0.1", false);
    EXPECT_NE(flags_of(udp.message) & flag_tc, 0);
    EXPECT_EQ(count(udp.message, 1), 0);
    reply tcp = respond(c, plain.data(), plain.size(), "127.0.0.1", true);
    EXPECT_EQ(flags_of(tcp.message) & flag_tc, 0);
    EXPECT_EQ(count(tcp.message, 1), 1);
    const bytes edns = make_query("big.test", 16, 9, true, 4096);
    reply big = respond(c, edns.data(), edns.size(), "127.0.0.1", false);
    EXPECT_EQ(flags_of(big.message) & flag_tc, 0);
}

TEST(FaultDns, HostileBehaviours) {
    const bytes q = make_query("h.test", 1, 0x4242);
    auto run = [&](dns_behaviour b, bool tcp = false) {
        dns_rule r;
        r.qname = "h.test";
        r.behaviour = b;
        r.records = {rec("A", "127.0.0.9")};
        r.cname_chain_length = 4;
        r.txt_size = 3000;
        r.delay_ms = 20;
        return respond(config_with(r), q.data(), q.size(), "127.0.0.1", tcp);
    };
    EXPECT_TRUE(run(dns_behaviour::drop).drop);
    EXPECT_EQ(run(dns_behaviour::delay).delay_ms, 20u);
    EXPECT_EQ(flags_of(run(dns_behaviour::servfail).message) & 0xF, servfail);
    EXPECT_EQ(flags_of(run(dns_behaviour::refused).message) & 0xF, refused);
    EXPECT_NE(flags_of(run(dns_behaviour::truncate, false).message) & flag_tc, 0);
    EXPECT_EQ(flags_of(run(dns_behaviour::truncate, true).message) & flag_tc, 0);
    EXPECT_NE(flags_of(run(dns_behaviour::truncate_tcp, true).message) & flag_tc, 0);
    EXPECT_NE(read_u16(run(dns_behaviour::wrong_id).message.data()), 0x4242);
    EXPECT_EQ(run(dns_behaviour::malformed_short).message.size(), 6u);
    const reply garbage = run(dns_behaviour::malformed_garbage);
    EXPECT_EQ(read_u16(garbage.message.data()), 0x4242);
    EXPECT_FALSE(parse_query(garbage.message.data(), garbage.message.size()));
    const reply counts = run(dns_behaviour::malformed_counts);
    EXPECT_EQ(count(counts.message, 1), 50);
    EXPECT_EQ(counts.message.size(), header_size + q.size() - header_size);
    const reply loop = run(dns_behaviour::pointer_loop);
    const std::size_t at = q.size(); // the answer starts right after the question
    EXPECT_EQ(loop.message[at], 0xC0 | (at >> 8));
    EXPECT_EQ(loop.message[at + 1], at & 0xFF);
    const reply chain = run(dns_behaviour::cname_chain);
    EXPECT_EQ(count(chain.message, 1), 5); // 4 CNAMEs + the A record at c4.h.test
    const reply txt = run(dns_behaviour::oversized_txt);
    EXPECT_GT(txt.message.size(), 3000u);
    EXPECT_EQ(flags_of(txt.message) & flag_tc, 0);
}

TEST(FaultDns, LongCnameChainStopsAtTheMessageLimit) {
    const std::string qname = std::string(60, 'a') + "." + std::string(60, 'b') + ".test";
    const bytes q = make_query(qname, 1, 1, true, 4096);
    dns_rule r;
    r.qname = qname;
    r.behaviour = dns_behaviour::cname_chain;
    r.cname_chain_length = 1000;
    const reply tcp = respond(config_with(r), q.data(), q.size(), "127.0.0.1", true);
    EXPECT_LE(tcp.message.size(), max_message_size);
    EXPECT_GT(count(tcp.message, 1), 100);
    const reply udp = respond(config_with(r), q.data(), q.size(), "127.0.0.1", false);
    EXPECT_NE(flags_of(udp.message) & flag_tc, 0);
}

TEST(FaultDns, FallbackAndResponsesAreIgnored) {
    dns_config c;
    c.fallback = dns_behaviour::drop;
    const bytes q = make_query("x.test", 1);
    EXPECT_TRUE(respond(c, q.data(), q.size(), "127.0.0.1", false).drop);
    bytes answer = q;
    answer[2] |= 0x80; // QR = 1: never answer a response (no reflection loops)
    EXPECT_TRUE(respond(dns_config{}, answer.data(), answer.size(), "127.0.0.1", false).drop);
}

} // namespace
} // namespace mpic::lab::responders::dns
