// DNS wire format for the lab (RFC 1035 §4.1). Every read is bounds-checked against the datagram length: the
// responder parses whatever arrives on its port and must never crash.

#include "tools/mpic-lab/responders/dns_wire.hh"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>

namespace mpic::lab::responders::dns {
namespace {

constexpr std::array<std::pair<std::string_view, std::uint16_t>, 11> type_names{{
    {"A", 1},
    {"NS", 2},
    {"CNAME", 5},
    {"SOA", 6},
    {"PTR", 12},
    {"MX", 15},
    {"TXT", 16},
    {"AAAA", 28},
    {"OPT", 41},
    {"CAA", 257},
    {"ANY", 255},
}};

void put_u16(bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_u32(bytes& out, std::uint32_t v) {
    put_u16(out, static_cast<std::uint16_t>(v >> 16));
    put_u16(out, static_cast<std::uint16_t>(v & 0xffff));
}

// RFC 1035 §3.3: <character-string> is a length octet followed by that many octets.
void put_character_string(bytes& out, std::string_view s) {
    out.push_back(static_cast<std::uint8_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

} // namespace

std::optional<query> parse_query(const std::uint8_t* data, std::size_t len) {
    if (data == nullptr || len < header_size) {
        return std::nullopt;
    }
    query q;
    q.id = read_u16(data);
    q.flags = read_u16(data + 2);
    const std::uint16_t qdcount = read_u16(data + 4);
    const std::uint16_t arcount = read_u16(data + 10);
    if ((q.flags & flag_qr) != 0 || qdcount != 1) {
        return std::nullopt;
    }
    std::size_t i = header_size;
    std::size_t name_len = 1;
    // At most 128 labels fit in 255 octets; the bound also caps the loop.
    for (int labels = 0;; ++labels) {
        if (i >= len || labels > 128) {
            return std::nullopt;
        }
        const std::uint8_t n = data[i++];
        if (n == 0) {
            break;
        }
        if (n > 63 || i + n > len) {
            return std::nullopt; // compression pointers (0xC0) and reserved label types are refused in a query
        }
        name_len += 1 + n;
        if (name_len > 255) {
            return std::nullopt;
        }
        if (!q.qname.empty()) {
            q.qname += '.';
        }
        q.qname.append(reinterpret_cast<const char*>(data + i), n);
        i += n;
    }
    if (i + 4 > len) {
        return std::nullopt;
    }
    q.qtype = read_u16(data + i);
    q.qclass = read_u16(data + i + 2);
    i += 4;
    q.question.assign(data + header_size, data + i);
    // RFC 6891 §6.1.1: OPT has the root owner name; the lab only looks at the first additional record, which is
    // where dig, c-ares and every common stub put it (after no answer/authority records in a query).
    if (arcount >= 1 && read_u16(data + 6) == 0 && read_u16(data + 8) == 0 && i + 11 <= len && data[i] == 0 &&
        read_u16(data + i + 1) == type_opt) {
        q.edns = true;
        q.edns_udp_size = std::max<std::uint16_t>(512, read_u16(data + i + 3));
    }
    return q;
}

std::optional<std::uint16_t> type_from_string(std::string_view name) {
    for (const auto& [n, t] : type_names) {
        if (n == name) {
            return t;
        }
    }
    return std::nullopt;
}

std::string type_to_string(std::uint16_t type) {
    for (const auto& [n, t] : type_names) {
        if (t == type) {
            return std::string(n);
        }
    }
    return "TYPE" + std::to_string(type);
}

bool append_name(bytes& out, std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    bytes enc;
    while (!name.empty()) {
        const std::size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        if (label.empty() || label.size() > 63) {
            return false;
        }
        enc.push_back(static_cast<std::uint8_t>(label.size()));
        enc.insert(enc.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
        if (dot != std::string_view::npos && name.empty()) {
            return false; // "a..b" or a doubled trailing dot
        }
    }
    enc.push_back(0);
    if (enc.size() > 255) {
        return false;
    }
    out.insert(out.end(), enc.begin(), enc.end());
    return true;
}

std::optional<bytes> rdata_for(const dns_record& r) {
    bytes out;
    if (r.type == "A" || r.type == "AAAA") {
        std::array<std::uint8_t, 16> buf{};
        const bool v4 = r.type == "A";
        if (inet_pton(v4 ? AF_INET : AF_INET6, r.value.c_str(), buf.data()) != 1) {
            return std::nullopt;
        }
        out.assign(buf.begin(), buf.begin() + (v4 ? 4 : 16));
    } else if (r.type == "CNAME" || r.type == "NS" || r.type == "PTR") {
        if (!append_name(out, r.value)) {
            return std::nullopt;
        }
    } else if (r.type == "MX") {
        put_u16(out, r.mx_preference);
        if (!append_name(out, r.value)) {
            return std::nullopt;
        }
    } else if (r.type == "TXT") {
        if (!r.strings.empty()) {
            for (const auto& s : r.strings) {
                if (s.size() > 255) {
                    return std::nullopt;
                }
                put_character_string(out, s);
            }
        } else {
            // A single long value is split into 255-octet character-strings (RFC 7208 §3.3 style); an empty value
            // is one empty character-string.
            std::string_view v = r.value;
            do {
                put_character_string(out, v.substr(0, 255));
                v.remove_prefix(std::min<std::size_t>(255, v.size()));
            } while (!v.empty());
        }
    } else if (r.type == "CAA") {
        // RFC 8659 §4.1: flags, tag length, tag, value (the rest of the RDATA).
        if (r.caa_tag.empty() || r.caa_tag.size() > 255) {
            return std::nullopt;
        }
        out.push_back(r.caa_flags);
        put_character_string(out, r.caa_tag);
        out.insert(out.end(), r.value.begin(), r.value.end());
    } else {
        return std::nullopt;
    }
    if (out.size() > 65535) {
        return std::nullopt;
    }
    return out;
}

message_builder::message_builder(std::uint16_t id, std::uint16_t flags) {
    _buf.reserve(512);
    put_u16(_buf, id);
    put_u16(_buf, flags);
    _buf.resize(header_size, 0);
}

void message_builder::bump(int section) {
    const std::size_t at = 4 + 2 * static_cast<std::size_t>(section);
    const std::uint16_t v = read_u16(_buf.data() + at);
    _buf[at] = static_cast<std::uint8_t>((v + 1) >> 8);
    _buf[at + 1] = static_cast<std::uint8_t>((v + 1) & 0xff);
}

void message_builder::set_count(int section, std::uint16_t value) {
    if (section < 0 || section > 3) {
        return;
    }
    const std::size_t at = 4 + 2 * static_cast<std::size_t>(section);
    _buf[at] = static_cast<std::uint8_t>(value >> 8);
    _buf[at + 1] = static_cast<std::uint8_t>(value & 0xff);
}

bool message_builder::add_question(std::string_view name, std::uint16_t type, std::uint16_t qclass) {
    if (!append_name(_buf, name)) {
        return false;
    }
    put_u16(_buf, type);
    put_u16(_buf, qclass);
    bump(0);
    return true;
}

void message_builder::add_raw_question(const bytes& question) {
    _buf.insert(_buf.end(), question.begin(), question.end());
    bump(0);
}

bool message_builder::add_record(int section, std::string_view name, std::uint16_t type, std::uint32_t ttl,
                                 const bytes& rdata, std::uint16_t rclass) {
    if (section < 1 || section > 3 || rdata.size() > 65535) {
        return false;
    }
    const std::size_t mark = _buf.size();
    if (!append_name(_buf, name) || _buf.size() + 10 + rdata.size() > max_message_size) {
        _buf.resize(mark);
        return false;
    }
    put_u16(_buf, type);
    put_u16(_buf, rclass);
    put_u32(_buf, ttl);
    put_u16(_buf, static_cast<std::uint16_t>(rdata.size()));
    _buf.insert(_buf.end(), rdata.begin(), rdata.end());
    bump(section);
    return true;
}

bool message_builder::add_opt(std::uint16_t udp_size) {
    if (_buf.size() + 11 > max_message_size) {
        return false;
    }
    _buf.push_back(0); // root owner
    put_u16(_buf, type_opt);
    put_u16(_buf, udp_size); // CLASS = requestor's UDP payload size
    put_u32(_buf, 0);        // extended RCODE, version 0, flags
    put_u16(_buf, 0);        // no options
    bump(3);
    return true;
}

} // namespace mpic::lab::responders::dns
