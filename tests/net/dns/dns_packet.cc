#include "tests/net/dns/dns_packet.hh"

#include <arpa/inet.h>

namespace mpic::test::dns {

std::string u16(std::uint16_t v) {
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
}

std::string u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)) + u16(static_cast<std::uint16_t>(v));
}

std::string wire_name(std::string_view dotted) {
    if (!dotted.empty() && dotted.back() == '.') {
        dotted.remove_suffix(1);
    }
    std::string out;
    std::size_t start = 0;
    while (start < dotted.size()) {
        std::size_t dot = dotted.find('.', start);
        if (dot == std::string_view::npos) {
            dot = dotted.size();
        }
        out.push_back(static_cast<char>(dot - start));
        out.append(dotted.substr(start, dot - start));
        start = dot + 1;
    }
    out.push_back('\0');
    return out;
}

rr a(std::string name, std::string_view dotted_quad) {
    unsigned char b[4];
    inet_pton(AF_INET, std::string(dotted_quad).c_str(), b);
    return {std::move(name), 1, std::string(reinterpret_cast<char*>(b), 4)};
}

rr aaaa(std::string name, std::string_view text) {
    unsigned char b[16];
    inet_pton(AF_INET6, std::string(text).c_str(), b);
    return {std::move(name), 28, std::string(reinterpret_cast<char*>(b), 16)};
}

rr cname(std::string name, std::string_view target) {
    return {std::move(name), 5, wire_name(target)};
}
rr dname(std::string name, std::string_view target) {
    return {std::move(name), 39, wire_name(target)};
}
rr ptr(std::string name, std::string_view target) {
    return {std::move(name), 12, wire_name(target)};
}

rr txt(std::string name, const std::vector<std::string>& strings) {
    std::string rdata;
    for (const auto& s : strings) {
        rdata.push_back(static_cast<char>(s.size()));
        rdata += s;
    }
    return {std::move(name), 16, rdata};
}

rr caa(std::string name, std::uint8_t flags, std::string_view tag, std::string_view value) {
    std::string rdata;
    rdata.push_back(static_cast<char>(flags));
    rdata.push_back(static_cast<char>(tag.size()));
    rdata.append(tag);
    rdata.append(value);
    return {std::move(name), 257, rdata};
}

std::pair<std::uint16_t, std::string> ede(std::uint16_t info_code, std::string_view text) {
    return {15, u16(info_code) + std::string(text)};
}

namespace {
std::string encode(const rr& r) {
    return wire_name(r.name) + u16(r.type) + u16(r.klass) + u32(r.ttl) +
           u16(static_cast<std::uint16_t>(r.rdata.size())) + r.rdata;
}
} // namespace

std::string packet::build() const {
    std::uint16_t flags = 0;
    flags |= qr ? 0x8000 : 0;
    flags |= static_cast<std::uint16_t>((opcode & 0x0F) << 11);
    flags |= aa ? 0x0400 : 0;
    flags |= tc ? 0x0200 : 0;
    flags |= rd ? 0x0100 : 0;
    flags |= ra ? 0x0080 : 0;
    flags |= ad ? 0x0020 : 0;
    flags |= cd ? 0x0010 : 0;
    flags |= rcode & 0x0F;
    const std::size_t arcount = additional.size() + (edns ? 1 : 0);
    std::string out = u16(id) + u16(flags) + u16(static_cast<std::uint16_t>(questions.size())) +
                      u16(static_cast<std::uint16_t>(answers.size())) +
                      u16(static_cast<std::uint16_t>(authority.size())) + u16(static_cast<std::uint16_t>(arcount));
    for (const auto& q : questions) {
        out += wire_name(q.name) + u16(q.type) + u16(q.klass);
    }
    for (const auto* section : {&answers, &authority, &additional}) {
        for (const auto& r : *section) {
            out += encode(r);
        }
    }
    if (edns) {
        std::string rdata;
        for (const auto& [code, data] : options) {
            rdata += u16(code) + u16(static_cast<std::uint16_t>(data.size())) + data;
        }
        const std::uint32_t ttl = (static_cast<std::uint32_t>(rcode >> 4) << 24) | (do_bit ? 0x8000u : 0u);
        out += std::string(1, '\0') + u16(41) + u16(udp_size) + u32(ttl) +
               u16(static_cast<std::uint16_t>(rdata.size())) + rdata;
    }
    return out;
}

} // namespace mpic::test::dns
