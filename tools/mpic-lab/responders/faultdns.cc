// Behaviours of mpic-lab-faultdns (responder_config.hh dns_behaviour). Each case builds its reply from scratch so
// that the hostile ones are exactly as described and nothing "helpfully" repairs them.

#include "tools/mpic-lab/responders/faultdns.hh"

#include <algorithm>
#include <cctype>

namespace mpic::lab::responders::dns {
namespace {

// Lab replies advertise the RFC 6891 / DNS Flag Day 2020 default payload size.
constexpr std::uint16_t our_edns_size = 1232;

std::string normalise(std::string_view name) {
    std::string s(name);
    if (!s.empty() && s.back() == '.') {
        s.pop_back();
    }
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool rule_matches(const dns_rule& r, const std::string& qname, const std::string& qtype) {
    if (r.qname != "*" && normalise(r.qname) != qname) {
        return false;
    }
    return !r.qtype || *r.qtype == "ANY" || *r.qtype == qtype;
}

bool wanted(const dns_record& rec, std::uint16_t qtype) {
    return qtype == type_any || rec.type == "CNAME" || type_from_string(rec.type) == qtype;
}

// Adds the configured records that answer `qtype`; owner defaults to `owner`.
void add_records(message_builder& m, const std::vector<dns_record>& records, std::string_view owner,
                 std::uint16_t qtype) {
    for (const auto& rec : records) {
        if (!wanted(rec, qtype)) {
            continue;
        }
        auto rdata = rdata_for(rec);
        auto type = type_from_string(rec.type);
        if (rdata && type) {
            m.add_record(1, rec.name ? std::string_view(*rec.name) : owner, *type, rec.ttl, *rdata);
        }
    }
}

// Header + the question as received (+ OPT if the query had one).
message_builder start(const query& q, std::uint16_t flags) {
    message_builder m(q.id, flags);
    m.add_raw_question(q.question);
    return m;
}

bytes finish(message_builder m, const query& q) {
    if (q.edns) {
        m.add_opt(our_edns_size);
    }
    return std::move(m).take();
}

bytes rcode_only(const query& q, std::uint16_t base, rcode rc) {
    return finish(start(q, base | rc), q);
}

bytes answer(const query& q, const dns_rule* rule, std::uint16_t base) {
    message_builder m = start(q, base);
    if (rule != nullptr) {
        add_records(m, rule->records, q.qname, q.qtype);
    }
    return finish(std::move(m), q);
}

// RFC 1034 §3.6.2: qname CNAME c1.qname, c1 CNAME c2, ..., then the records at cN.qname.
bytes cname_chain(const query& q, const dns_rule& rule, std::uint16_t base) {
    message_builder m = start(q, base);
    std::string owner = q.qname;
    for (std::uint32_t i = 1; i <= rule.cname_chain_length; ++i) {
        const std::string target = "c" + std::to_string(i) + "." + q.qname;
        bytes rdata;
        if (!append_name(rdata, target) || !m.add_record(1, owner, 5, 60, rdata)) {
            break; // the name got too long: the chain simply ends here
        }
        owner = target;
    }
    add_records(m, rule.records, owner, q.qtype);
    return finish(std::move(m), q);
}

bytes oversized_txt(const query& q, const dns_rule& rule, std::uint16_t base) {
    message_builder m = start(q, base);
    // Keep the whole message within 65000 octets: sendable as one UDP datagram and as one TCP message.
    const std::size_t room = 65000 - std::min<std::size_t>(65000, m.data().size() + 64);
    std::size_t want = std::min<std::size_t>(rule.txt_size, room);
    bytes rdata;
    while (want > 1) {
        const std::size_t n = std::min<std::size_t>(255, want - 1);
        rdata.push_back(static_cast<std::uint8_t>(n));
        rdata.insert(rdata.end(), n, static_cast<std::uint8_t>('x'));
        want -= n + 1;
    }
    m.add_record(1, q.qname, 16, 60, rdata);
    return finish(std::move(m), q);
}

bytes pointer_loop(const query& q, std::uint16_t base) {
    bytes out = start(q, base).take();
    // RFC 1035 §4.1.4: a pointer to the offset where the pointer itself sits, so a naive decompressor loops.
    const std::size_t at = out.size();
    out.push_back(static_cast<std::uint8_t>(0xC0 | ((at >> 8) & 0x3F)));
    out.push_back(static_cast<std::uint8_t>(at & 0xFF));
    const std::uint8_t rest[] = {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1}; // A IN TTL 60 127.0.0.1
    out.insert(out.end(), std::begin(rest), std::end(rest));
    out[7] = 1; // ANCOUNT = 1
    return out;
}

bytes garbage(const query& q) {
    // ID echoed and QR set so a client matches it to its query; QDCOUNT = ANCOUNT = 1; then a label byte of the
    // reserved type 01 (RFC 6891 §5 deprecates it), so no name decodes, followed by deterministic noise (xorshift32
    // seeded by the ID) so a failing test is reproducible.
    bytes out{static_cast<std::uint8_t>(q.id >> 8),
              static_cast<std::uint8_t>(q.id & 0xff),
              0x81,
              0x80,
              0,
              1,
              0,
              1,
              0,
              0,
              0,
              0,
              0x7F};
    std::uint32_t x = 0x9E3779B9u ^ q.id;
    while (out.size() < 40) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push_back(static_cast<std::uint8_t>(x & 0xff));
    }
    return out;
}

} // namespace

const dns_rule* match_rule(const dns_config& config, const query& q, const std::string& peer) {
    const std::string qname = normalise(q.qname);
    const std::string qtype = type_to_string(q.qtype);
    for (const auto& r : config.rules) {
        if (r.source && *r.source == peer && rule_matches(r, qname, qtype)) {
            return &r;
        }
    }
    for (const auto& r : config.rules) {
        if (!r.source && rule_matches(r, qname, qtype)) {
            return &r;
        }
    }
    return nullptr;
}

reply respond(const dns_config& config, const std::uint8_t* data, std::size_t len, const std::string& peer, bool tcp) {
    reply out;
    const auto q = parse_query(data, len);
    if (!q) {
        // RFC 1035 §4.1.1 FORMERR for a query we cannot read; never answer something that claims to be a reply.
        if (len >= header_size && (data[2] & 0x80) == 0) {
            message_builder m(read_u16(data), flag_qr | formerr);
            out.message = std::move(m).take();
        } else {
            out.drop = true;
        }
        return out;
    }
    const dns_rule* rule = match_rule(config, *q, peer);
    const dns_behaviour b = rule != nullptr ? rule->behaviour : config.fallback;
    out.delay_ms = rule != nullptr ? rule->delay_ms : 0;
    const std::uint16_t base = flag_qr | flag_aa | (q->flags & flag_rd);
    switch (b) {
    case dns_behaviour::drop:
        out.drop = true;
        return out;
    case dns_behaviour::servfail:
        out.message = rcode_only(*q, flag_qr | (q->flags & flag_rd), servfail);
        return out;
    case dns_behaviour::refused:
        out.message = rcode_only(*q, flag_qr | (q->flags & flag_rd), refused);
        return out;
    case dns_behaviour::nxdomain:
        out.message = rcode_only(*q, base, nxdomain);
        return out;
    case dns_behaviour::truncate_tcp:
        out.message = rcode_only(*q, base | flag_tc, noerror);
        return out;
    case dns_behaviour::truncate:
        out.message = tcp ? answer(*q, rule, base) : rcode_only(*q, base | flag_tc, noerror);
        return out;
    case dns_behaviour::malformed_garbage:
        out.message = garbage(*q);
        return out;
    case dns_behaviour::malformed_short:
        out.message = {
            static_cast<std::uint8_t>(q->id >> 8), static_cast<std::uint8_t>(q->id & 0xff), 0x81, 0x80, 0, 1};
        return out;
    case dns_behaviour::malformed_counts: {
        message_builder m = start(*q, base);
        m.set_count(1, 50); // 50 answers announced, none present
        out.message = std::move(m).take();
        return out;
    }
    case dns_behaviour::pointer_loop:
        out.message = pointer_loop(*q, base);
        return out;
    case dns_behaviour::oversized_txt:
        out.message = oversized_txt(*q, *rule, base);
        return out; // deliberately not truncated, whatever the transport
    case dns_behaviour::cname_chain:
        out.message = cname_chain(*q, *rule, base);
        break;
    case dns_behaviour::wrong_id:
        out.message = answer(*q, rule, base);
        out.message[0] ^= 0x5A; // RFC 5452 §4.3: a reply whose ID does not match must be discarded
        out.message[1] ^= 0x5A;
        return out;
    case dns_behaviour::answer:
    case dns_behaviour::delay:
        out.message = answer(*q, rule, base);
        break;
    }
    // RFC 1035 §4.2.1 / RFC 6891 §7: too big for the client's UDP limit => TC=1 and let it retry over TCP.
    // 65507 = the largest IPv4 UDP payload: an EDNS size above it cannot be honoured in one datagram.
    const std::size_t limit = std::min<std::size_t>(q->edns ? q->edns_udp_size : 512, 65507);
    if (!tcp && out.message.size() > limit) {
        out.message = rcode_only(*q, base | flag_tc, noerror);
    }
    return out;
}

} // namespace mpic::lab::responders::dns
