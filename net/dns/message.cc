// The DNS message reader. Every read goes through `cursor`, which checks the bound before touching a byte; no
// count taken from the wire is used to size an allocation before the bytes it claims have been seen.

#include "net/dns/message.hh"

#include <cstdint>
#include <string>

namespace mpic::net::dns {
namespace {

class message_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "dns-message"; }
    std::string message(int code) const override {
        switch (static_cast<message_error>(code)) {
        case message_error::truncated:
            return "DNS message truncated";
        case message_error::bad_label_type:
            return "DNS name uses a reserved label type";
        case message_error::bad_pointer:
            return "DNS compression pointer does not point backwards";
        case message_error::pointer_loop:
            return "DNS name follows too many compression pointers";
        case message_error::label_too_long:
            return "DNS label longer than 63 octets";
        case message_error::name_too_long:
            return "DNS name longer than 255 octets";
        case message_error::bad_rdata:
            return "DNS record data does not match its type";
        case message_error::too_many_records:
            return "DNS message has too many records";
        case message_error::not_a_response:
            return "DNS message is not a response (QR=0)";
        case message_error::bad_opt:
            return "DNS message has a malformed or misplaced OPT record";
        }
        return "unknown DNS message error " + std::to_string(code);
    }
};

constexpr std::size_t header_size = 12;
constexpr std::size_t max_name_octets = 255;  // RFC 1035 §2.3.4, wire form including length bytes and the root
constexpr std::uint16_t edns_option_ede = 15; // RFC 8914 §2

/// A bounds-checked view of the message. Reads either succeed completely or leave `ok` false.
class cursor {
public:
    explicit cursor(std::span<const std::uint8_t> wire) : _wire(wire) {}

    std::size_t pos() const noexcept { return _pos; }
    std::size_t size() const noexcept { return _wire.size(); }
    std::span<const std::uint8_t> wire() const noexcept { return _wire; }
    void seek(std::size_t p) noexcept { _pos = p; }
    bool has(std::size_t n) const noexcept { return n <= _wire.size() - _pos; }

    bool u8(std::uint8_t& out) noexcept {
        if (!has(1)) {
            return false;
        }
        out = _wire[_pos++];
        return true;
    }
    bool u16(std::uint16_t& out) noexcept {
        if (!has(2)) {
            return false;
        }
        out = static_cast<std::uint16_t>((_wire[_pos] << 8) | _wire[_pos + 1]);
        _pos += 2;
        return true;
    }
    bool u32(std::uint32_t& out) noexcept {
        if (!has(4)) {
            return false;
        }
        out = (std::uint32_t{_wire[_pos]} << 24) | (std::uint32_t{_wire[_pos + 1]} << 16) |
              (std::uint32_t{_wire[_pos + 2]} << 8) | std::uint32_t{_wire[_pos + 3]};
        _pos += 4;
        return true;
    }
    bool bytes(std::size_t n, std::string& out) {
        if (!has(n)) {
            return false;
        }
        out.assign(reinterpret_cast<const char*>(_wire.data() + _pos), n);
        _pos += n;
        return true;
    }

private:
    std::span<const std::uint8_t> _wire;
    std::size_t _pos = 0;
};

/// Appends one label in text-name form (message.hh): lowercase letters, digits, '-', '_' and '*' as themselves,
/// every other octet as \DDD, so the mapping from wire labels to text is injective.
void append_label(std::string& out, const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z') {
            out.push_back(static_cast<char>(c - 'A' + 'a')); // RFC 4343 §2: ASCII case folding only
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('\\');
            out.push_back(static_cast<char>('0' + c / 100));
            out.push_back(static_cast<char>('0' + (c / 10) % 10));
            out.push_back(static_cast<char>('0' + c % 10));
        }
    }
}

/// Reads a possibly compressed name at the cursor and leaves the cursor after it (after the first pointer when the
/// name is compressed). RFC 1035 §4.1.4 allows a pointer to any "prior occurance"; we require every pointer to
/// target an offset strictly before the start of the label run that contains it, so offsets strictly decrease and
/// the walk terminates even without the hop cap; the cap bounds the work on long pointer chains.
/// `end` bounds the name's first run of labels (before any pointer): an rdata name must not run past its rdata, and
/// doing so is bad_rdata rather than truncation.
result<std::string> read_name(cursor& c, const parse_limits& limits, std::size_t end = SIZE_MAX) {
    const auto wire = c.wire();
    std::size_t p = c.pos();
    std::size_t run_start = p;
    std::size_t resume = 0; // where the cursor continues once a pointer was taken (0 = no pointer yet)
    std::size_t hops = 0;
    std::size_t octets = 0;
    std::string out;
    for (;;) {
        if (resume == 0 && p >= end) {
            return message_error::bad_rdata;
        }
        if (p >= wire.size()) {
            return message_error::truncated;
        }
        const std::uint8_t len = wire[p];
        const std::uint8_t kind = len & 0xC0;
        if (kind == 0xC0) {
            if (resume == 0 && p + 1 >= end) {
                return message_error::bad_rdata;
            }
            if (p + 1 >= wire.size()) {
                return message_error::truncated;
            }
            const std::size_t target = (std::size_t{len & 0x3Fu} << 8) | wire[p + 1];
            if (target >= run_start) {
                return message_error::bad_pointer;
            }
            if (++hops > limits.max_pointer_hops) {
                return message_error::pointer_loop;
            }
            if (resume == 0) {
                resume = p + 2;
            }
            p = target;
            run_start = target;
            continue;
        }
        if (kind == 0x40) {
            return message_error::label_too_long; // 64..127: RFC 6891 §5 retired the 0b01 extended label type
        }
        if (kind == 0x80) {
            return message_error::bad_label_type; // 0b10 is reserved (RFC 1035 §4.1.4)
        }
        if (len == 0) {
            if (octets + 1 > max_name_octets) {
                return message_error::name_too_long;
            }
            c.seek(resume != 0 ? resume : p + 1);
            return out;
        }
        if (resume == 0 && p + 1 + len > end) {
            return message_error::bad_rdata;
        }
        if (p + 1 + len > wire.size()) {
            return message_error::truncated;
        }
        octets += 1 + len;
        if (octets + 1 > max_name_octets) { // +1: the root label still has to follow
            return message_error::name_too_long;
        }
        if (octets != 1u + len) { // not the first label
            out.push_back('.');
        }
        append_label(out, wire.data() + p + 1, len);
        p += 1 + len;
    }
}

/// Decodes the rdata in [start, end) of a record whose type the reader knows. `c` is positioned at `start`.
result<rdata_variant> decode_rdata(cursor& c, std::uint16_t type, std::size_t end, const parse_limits& limits) {
    const std::size_t length = end - c.pos();
    switch (static_cast<rr_type>(type)) {
    case rr_type::a: {
        if (length != 4) {
            return message_error::bad_rdata;
        }
        a_rdata a;
        for (auto& b : a.address) {
            (void)c.u8(b); // in bounds: the caller checked [start, end) lies within the message
        }
        return rdata_variant{a};
    }
    case rr_type::aaaa: {
        if (length != 16) {
            return message_error::bad_rdata;
        }
        aaaa_rdata a;
        for (auto& b : a.address) {
            (void)c.u8(b);
        }
        return rdata_variant{a};
    }
    case rr_type::cname:
    case rr_type::dname:
    case rr_type::ptr:
    case rr_type::ns: {
        auto target = read_name(c, limits, end);
        if (!target) {
            return target.error();
        }
        if (c.pos() != end) { // the name must fill the rdata exactly: no overrun into the next record, no slack
            return message_error::bad_rdata;
        }
        return rdata_variant{name_rdata{std::move(*target)}};
    }
    case rr_type::txt: {
        if (length == 0) {
            return message_error::bad_rdata; // RFC 1035 §3.3.14: "One or more <character-string>s"
        }
        txt_rdata t;
        while (c.pos() < end) {
            std::uint8_t n = 0;
            (void)c.u8(n);
            if (n > end - c.pos()) {
                return message_error::bad_rdata;
            }
            (void)c.bytes(n, t.strings.emplace_back());
        }
        return rdata_variant{std::move(t)};
    }
    case rr_type::caa: {
        // RFC 8659 §4.1: Flags (1 octet), Tag Length (1 octet, >= 1), Tag, Value (the rest, may be empty).
        caa_rdata r;
        std::uint8_t tag_length = 0;
        if (length < 2 || !c.u8(r.flags) || !c.u8(tag_length) || tag_length == 0 || tag_length > end - c.pos()) {
            return message_error::bad_rdata;
        }
        (void)c.bytes(tag_length, r.tag);
        (void)c.bytes(end - c.pos(), r.value);
        return rdata_variant{std::move(r)};
    }
    default:
        return rdata_variant{raw_rdata{}};
    }
}

/// Reads the OPT pseudo-RR's fixed part and options (RFC 6891 §6.1.2, §6.1.3; RFC 8914 §2 for EDE).
result<edns> read_opt(const std::string& owner, std::uint16_t rr_class, std::uint32_t ttl, const std::string& rdata) {
    if (!owner.empty()) {
        return message_error::bad_opt; // RFC 6891 §6.1.2: NAME MUST be 0 (root domain)
    }
    edns e;
    e.udp_payload_size = rr_class;
    e.extended_rcode_high = static_cast<std::uint8_t>(ttl >> 24);
    e.version = static_cast<std::uint8_t>((ttl >> 16) & 0xFF);
    e.dnssec_ok = (ttl & 0x8000u) != 0;
    cursor c(std::span(reinterpret_cast<const std::uint8_t*>(rdata.data()), rdata.size()));
    while (c.pos() < c.size()) {
        std::uint16_t code = 0, length = 0;
        if (!c.u16(code) || !c.u16(length) || !c.has(length)) {
            return message_error::bad_opt;
        }
        if (code == edns_option_ede) {
            extended_error ede;
            if (length < 2) {
                return message_error::bad_opt; // RFC 8914 §2: INFO-CODE is 16 bits, EXTRA-TEXT may be empty
            }
            (void)c.u16(ede.info_code);
            (void)c.bytes(length - 2u, ede.extra_text);
            e.extended_errors.push_back(std::move(ede));
        } else {
            c.seek(c.pos() + length);
        }
    }
    return e;
}

} // namespace

const std::error_category& message_category() noexcept {
    static const message_error_category category;
    return category;
}

std::uint16_t message::extended_rcode() const noexcept {
    const std::uint16_t high = opt ? opt->extended_rcode_high : 0;
    return static_cast<std::uint16_t>((high << 4) | hdr.rcode);
}

std::string message::extended_error_text() const {
    std::string out;
    if (opt) {
        for (const auto& e : opt->extended_errors) {
            if (!out.empty()) {
                out += "; ";
            }
            out += e.to_string();
        }
    }
    return out;
}

std::string txt_rdata::joined() const {
    std::string out;
    for (const auto& s : strings) {
        out += s;
    }
    return out;
}

result<message> parse_message(std::span<const std::uint8_t> wire, const parse_limits& limits) {
    cursor c(wire);
    message m;
    std::uint16_t flags = 0;
    if (wire.size() < header_size) {
        return message_error::truncated;
    }
    (void)c.u16(m.hdr.id);
    (void)c.u16(flags);
    (void)c.u16(m.hdr.qdcount);
    (void)c.u16(m.hdr.ancount);
    (void)c.u16(m.hdr.nscount);
    (void)c.u16(m.hdr.arcount);
    // RFC 1035 §4.1.1 plus RFC 4035 §3.2 (AD = bit 5, CD = bit 4 of the second flags octet).
    m.hdr.qr = (flags & 0x8000u) != 0;
    m.hdr.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0F);
    m.hdr.aa = (flags & 0x0400u) != 0;
    m.hdr.tc = (flags & 0x0200u) != 0;
    m.hdr.rd = (flags & 0x0100u) != 0;
    m.hdr.ra = (flags & 0x0080u) != 0;
    m.hdr.ad = (flags & 0x0020u) != 0;
    m.hdr.cd = (flags & 0x0010u) != 0;
    m.hdr.rcode = static_cast<std::uint8_t>(flags & 0x0F);
    if (limits.require_response && !m.hdr.qr) {
        return message_error::not_a_response;
    }
    if (std::size_t{m.hdr.ancount} + m.hdr.nscount + m.hdr.arcount + m.hdr.qdcount > limits.max_records) {
        return message_error::too_many_records;
    }

    // Counts are claims: each entry is read against the remaining bytes, and vectors grow only as entries are
    // actually read (no reserve(count)), so a header claiming 65535 records costs nothing.
    for (std::uint16_t i = 0; i < m.hdr.qdcount; ++i) {
        auto name = read_name(c, limits);
        if (!name) {
            return name.error();
        }
        question q{std::move(*name), 0, 0};
        if (!c.u16(q.type) || !c.u16(q.qclass)) {
            return message_error::truncated;
        }
        m.questions.push_back(std::move(q));
    }

    const std::uint16_t counts[3] = {m.hdr.ancount, m.hdr.nscount, m.hdr.arcount};
    std::vector<record>* sections[3] = {&m.answers, &m.authority, &m.additional};
    for (int s = 0; s < 3; ++s) {
        for (std::uint16_t i = 0; i < counts[s]; ++i) {
            auto owner = read_name(c, limits);
            if (!owner) {
                return owner.error();
            }
            record rr;
            rr.name = std::move(*owner);
            std::uint16_t rdlength = 0;
            if (!c.u16(rr.type) || !c.u16(rr.rr_class) || !c.u32(rr.ttl) || !c.u16(rdlength)) {
                return message_error::truncated;
            }
            if (!c.has(rdlength)) {
                return message_error::truncated;
            }
            const std::size_t start = c.pos();
            const std::size_t end = start + rdlength;
            (void)c.bytes(rdlength, rr.rdata);
            if (rr.is(rr_type::opt)) {
                // RFC 6891 §6.1.1: at most one OPT, only in the additional section.
                if (s != 2 || m.opt) {
                    return message_error::bad_opt;
                }
                auto e = read_opt(rr.name, rr.rr_class, rr.ttl, rr.rdata);
                if (!e) {
                    return e.error();
                }
                m.opt = std::move(*e);
                continue;
            }
            c.seek(start);
            auto data = decode_rdata(c, rr.type, end, limits);
            if (!data) {
                return data.error();
            }
            rr.data = std::move(*data);
            c.seek(end);
            sections[s]->push_back(std::move(rr));
        }
    }
    return m;
}

} // namespace mpic::net::dns
