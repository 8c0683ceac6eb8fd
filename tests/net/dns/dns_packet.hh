#pragma once
// A DNS packet builder for tests (c-ares test/dns-proto.h in spirit): hand-built wire messages, no compression unless
// a test writes the pointer bytes itself. Deliberately independent of net/dns/message.cc, so the reader is tested
// against bytes it did not produce.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpic::test::dns {

/// "www.example.com" -> "\3www\7example\3com\0" (a trailing dot is accepted; "" is the root).
std::string wire_name(std::string_view dotted);

/// Big-endian 16/32-bit fields.
std::string u16(std::uint16_t v);
std::string u32(std::uint32_t v);

/// One resource record with ready-made rdata bytes.
struct rr {
    std::string name;
    std::uint16_t type = 1;
    std::string rdata;
    std::uint32_t ttl = 60;
    std::uint16_t klass = 1;
};
rr a(std::string name, std::string_view dotted_quad);
rr aaaa(std::string name, std::string_view text);
rr cname(std::string name, std::string_view target);
rr dname(std::string name, std::string_view target);
rr ptr(std::string name, std::string_view target);
rr txt(std::string name, const std::vector<std::string>& strings);
rr caa(std::string name, std::uint8_t flags, std::string_view tag, std::string_view value);

struct question {
    std::string name;
    std::uint16_t type = 1;
    std::uint16_t klass = 1;
};

/// A whole message. `rcode` may exceed 15: the upper bits then go to the OPT RR (which `edns` must enable).
struct packet {
    std::uint16_t id = 0;
    bool qr = true, aa = false, tc = false, rd = true, ra = true, ad = false, cd = false;
    std::uint8_t opcode = 0;
    std::uint16_t rcode = 0;
    std::vector<question> questions;
    std::vector<rr> answers, authority, additional;
    bool edns = false;
    std::uint16_t udp_size = 1232;
    bool do_bit = false;
    std::vector<std::pair<std::uint16_t, std::string>> options; ///< EDNS options (code, data)

    std::string build() const;
};

/// An RFC 8914 EDE option body: INFO-CODE then EXTRA-TEXT.
std::pair<std::uint16_t, std::string> ede(std::uint16_t info_code, std::string_view text);

} // namespace mpic::test::dns
