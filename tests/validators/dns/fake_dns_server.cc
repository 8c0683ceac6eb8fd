#include "tests/validators/dns/fake_dns_server.hh"

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <stdexcept>

#include "tests/net/dns/dns_packet.hh"

namespace mpic::test {
namespace {

// Wire encoding is shared with the net/dns tests' packet builder (tests/net/dns/dns_packet.hh): one encoder of
// names and RDATA for every test.
using dns::u16;
using dns::u32;
using dns::wire_name;

fake_rr from_packet_rr(dns::rr r) {
    return {std::move(r.name), r.type, std::move(r.rdata), r.ttl};
}

} // namespace

fake_rr txt_rr(std::string owner, const std::vector<std::string>& strings) {
    return from_packet_rr(dns::txt(std::move(owner), strings));
}

fake_rr caa_rr(std::string owner, std::uint8_t flags, std::string_view tag, std::string_view value) {
    return from_packet_rr(dns::caa(std::move(owner), flags, tag, value));
}

fake_rr cname_rr(std::string owner, std::string_view target) {
    return from_packet_rr(dns::cname(std::move(owner), target));
}
fake_rr ptr_rr(std::string owner, std::string_view target) {
    return from_packet_rr(dns::ptr(std::move(owner), target));
}

// Unlike the packet builder, refuse a malformed literal: a typo in a test must not become an arbitrary address.
fake_rr a_rr(std::string owner, std::string_view dotted_quad) {
    std::array<char, 4> bytes{};
    if (inet_pton(AF_INET, std::string(dotted_quad).c_str(), bytes.data()) != 1) {
        throw std::invalid_argument("bad IPv4 literal in test");
    }
    return from_packet_rr(dns::a(std::move(owner), dotted_quad));
}

fake_rr aaaa_rr(std::string owner, std::string_view text) {
    std::array<char, 16> bytes{};
    if (inet_pton(AF_INET6, std::string(text).c_str(), bytes.data()) != 1) {
        throw std::invalid_argument("bad IPv6 literal in test");
    }
    return from_packet_rr(dns::aaaa(std::move(owner), text));
}

fake_dns_server::fake_dns_server(uv_loop_t* loop, handler on_query) : _on_query(std::move(on_query)) {
    _udp = new uv_udp_t;
    uv_udp_init(loop, _udp);
    _udp->data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_udp_bind(_udp, reinterpret_cast<const sockaddr*>(&addr), 0) != 0) {
        throw std::runtime_error("fake_dns_server: bind failed");
    }
    sockaddr_storage bound{};
    int length = sizeof(bound);
    uv_udp_getsockname(_udp, reinterpret_cast<sockaddr*>(&bound), &length);
    _port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    uv_udp_recv_start(_udp, &fake_dns_server::on_alloc, &fake_dns_server::on_recv);
}

fake_dns_server::~fake_dns_server() {
    close();
}

void fake_dns_server::close() {
    if (_udp == nullptr) {
        return;
    }
    uv_udp_recv_stop(_udp);
    _udp->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(_udp), [](uv_handle_t* h) { delete reinterpret_cast<uv_udp_t*>(h); });
    _udp = nullptr;
}

void fake_dns_server::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
    auto* self = static_cast<fake_dns_server*>(handle->data);
    *buf = uv_buf_init(self->_buffer.data(), static_cast<unsigned>(self->_buffer.size()));
}

void fake_dns_server::on_recv(uv_udp_t* udp, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned) {
    auto* self = static_cast<fake_dns_server*>(udp->data);
    if (self == nullptr || nread <= 0 || from == nullptr) {
        return;
    }
    self->answer(std::string_view(buf->base, static_cast<std::size_t>(nread)), from);
}

void fake_dns_server::answer(std::string_view query, const sockaddr* from) {
    if (query.size() < 12) {
        return;
    }
    // Question: labels from offset 12 (queries are never compressed), then QTYPE, QCLASS.
    std::size_t pos = 12;
    std::string qname;
    while (pos < query.size() && query[pos] != '\0') {
        const auto length = static_cast<unsigned char>(query[pos]);
        if (length > 63 || pos + 1 + length > query.size()) {
            return;
        }
        if (!qname.empty()) {
            qname += '.';
        }
        for (std::size_t i = 0; i < length; ++i) {
            const char c = query[pos + 1 + i];
            qname += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
        pos += 1 + length;
    }
    if (pos + 5 > query.size()) {
        return;
    }
    const std::string_view question = query.substr(12, pos + 5 - 12);
    const auto qtype = static_cast<std::uint16_t>((static_cast<unsigned char>(query[pos + 1]) << 8) |
                                                  static_cast<unsigned char>(query[pos + 2]));
    _questions.emplace_back(qname, qtype);
    const fake_reply reply = _on_query(qname, qtype);
    if (reply.drop) {
        return;
    }

    std::string out;
    out += query.substr(0, 2); // ID
    const bool rd = (static_cast<unsigned char>(query[2]) & 0x01) != 0;
    out += static_cast<char>(0x80 | (rd ? 0x01 : 0));                              // QR, RD
    out += static_cast<char>(0x80 | (reply.ad ? 0x20 : 0) | (reply.rcode & 0x0F)); // RA, AD, RCODE
    out += u16(1);
    out += u16(static_cast<std::uint16_t>(reply.answers.size()));
    out += u16(0);
    out += u16(1); // the OPT RR
    out += question;
    for (const auto& rr : reply.answers) {
        out += wire_name(rr.owner);
        out += u16(rr.type) + u16(1) + u32(rr.ttl) + u16(static_cast<std::uint16_t>(rr.rdata.size()));
        out += rr.rdata;
    }
    std::string options;
    if (reply.ede_code) {
        const std::string body = u16(*reply.ede_code) + reply.ede_text;
        options = u16(15) + u16(static_cast<std::uint16_t>(body.size())) + body;
    }
    out += '\0'; // root owner
    out += u16(41) + u16(1232) + u32(0x00008000U) + u16(static_cast<std::uint16_t>(options.size())) + options;

    uv_buf_t send_buf = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
    uv_udp_try_send(_udp, &send_buf, 1, from);
}

} // namespace mpic::test
