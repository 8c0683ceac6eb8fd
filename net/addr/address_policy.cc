#include "net/addr/address_policy.hh"

#include <array>

namespace mpic::net::addr {
namespace {

// One row of the special-purpose tables. The text prefix doubles as the data: it is parsed once, at first use,
// so the table cannot disagree with what it prints.
struct special_range {
    std::string_view prefix;
    unsigned length;
    address_class kind;
    std::string_view reference;
};

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates), plus multicast and the class E block.
// Ordered most specific first where prefixes nest (0.0.0.0/32 before 0.0.0.0/8, broadcast before 240/4).
// Entries the registry marks "globally reachable" (AS112, AMT, 192.0.0.9/32) are refused as well: a CA has no
// business validating a name that resolves to anycast infrastructure, and Boulder refuses them too.
constexpr special_range v4_ranges[] = {
    {"0.0.0.0", 32, address_class::unspecified, "RFC 1122"},
    {"0.0.0.0", 8, address_class::this_network, "RFC 791"},
    {"10.0.0.0", 8, address_class::private_use, "RFC 1918"},
    {"100.64.0.0", 10, address_class::shared_address, "RFC 6598"},
    {"127.0.0.0", 8, address_class::loopback, "RFC 1122"},
    {"169.254.0.0", 16, address_class::link_local, "RFC 3927"},
    {"172.16.0.0", 12, address_class::private_use, "RFC 1918"},
    {"192.0.0.0", 24, address_class::ietf_protocol, "RFC 6890"},
    {"192.0.2.0", 24, address_class::documentation, "RFC 5737"},
    {"192.31.196.0", 24, address_class::as112, "RFC 7535"},
    {"192.52.193.0", 24, address_class::amt, "RFC 7450"},
    {"192.88.99.0", 24, address_class::six_to_four_relay, "RFC 7526"},
    {"192.168.0.0", 16, address_class::private_use, "RFC 1918"},
    {"192.175.48.0", 24, address_class::as112, "RFC 7534"},
    {"198.18.0.0", 15, address_class::benchmarking, "RFC 2544"},
    {"198.51.100.0", 24, address_class::documentation, "RFC 5737"},
    {"203.0.113.0", 24, address_class::documentation, "RFC 5737"},
    {"224.0.0.0", 4, address_class::multicast, "RFC 5771"},
    {"255.255.255.255", 32, address_class::broadcast, "RFC 919"},
    {"240.0.0.0", 4, address_class::reserved, "RFC 1112"},
};

// IANA IPv6 Special-Purpose Address Registry, plus the blocks of the IPv6 Address Space registry that are not
// global unicast. Most specific first. 6to4 and Teredo are refused whole (they embed an IPv4 address that may be
// private: 2002:0a00:0001:: reaches 10.0.0.1 through a relay), as are IPv4-mapped/-compatible and NAT64 prefixes,
// whose embedded IPv4 address would otherwise slip past the IPv4 table.
constexpr special_range v6_ranges[] = {
    {"::", 128, address_class::unspecified, "RFC 4291"},
    {"::1", 128, address_class::loopback, "RFC 4291"},
    {"::ffff:0:0", 96, address_class::ipv4_mapped, "RFC 4291"},
    {"::", 96, address_class::ipv4_compatible, "RFC 4291"},
    {"64:ff9b::", 96, address_class::ipv4_translation, "RFC 6052"},
    {"64:ff9b:1::", 48, address_class::ipv4_translation, "RFC 8215"},
    {"100::", 64, address_class::discard_only, "RFC 6666"},
    {"100:0:0:1::", 64, address_class::reserved, "RFC 9780"},
    {"2001::", 32, address_class::teredo, "RFC 4380"},
    {"2001:2::", 48, address_class::benchmarking, "RFC 5180"},
    {"2001:3::", 32, address_class::amt, "RFC 7450"},
    {"2001:4:112::", 48, address_class::as112, "RFC 7535"},
    {"2001:10::", 28, address_class::orchid, "RFC 4843"},
    {"2001:20::", 28, address_class::orchid, "RFC 7343"},
    {"2001::", 23, address_class::ietf_protocol, "RFC 2928"},
    {"2001:db8::", 32, address_class::documentation, "RFC 3849"},
    {"2002::", 16, address_class::six_to_four, "RFC 3056"},
    {"2620:4f:8000::", 48, address_class::as112, "RFC 7534"},
    {"3fff::", 20, address_class::documentation, "RFC 9637"},
    {"5f00::", 16, address_class::srv6_sid, "RFC 9602"},
    {"fc00::", 7, address_class::unique_local, "RFC 4193"},
    {"fe80::", 10, address_class::link_local, "RFC 4291"},
    {"fec0::", 10, address_class::site_local, "RFC 3879"},
    {"ff00::", 8, address_class::multicast, "RFC 4291"},
};

template <std::size_t N>
std::array<ip_address, N> parse_table(const special_range (&table)[N]) {
    std::array<ip_address, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = ip_address::parse(table[i].prefix).value();
    }
    return out;
}

const ip_address& global_unicast_v6() {
    static const ip_address prefix = ip_address::parse("2000::").value();
    return prefix;
}

} // namespace

std::string_view to_string(address_class c) noexcept {
    switch (c) {
    case address_class::public_unicast:
        return "public_unicast";
    case address_class::unspecified:
        return "unspecified";
    case address_class::this_network:
        return "this_network";
    case address_class::private_use:
        return "private_use";
    case address_class::shared_address:
        return "shared_address";
    case address_class::loopback:
        return "loopback";
    case address_class::link_local:
        return "link_local";
    case address_class::ietf_protocol:
        return "ietf_protocol";
    case address_class::documentation:
        return "documentation";
    case address_class::benchmarking:
        return "benchmarking";
    case address_class::multicast:
        return "multicast";
    case address_class::reserved:
        return "reserved";
    case address_class::broadcast:
        return "broadcast";
    case address_class::as112:
        return "as112";
    case address_class::amt:
        return "amt";
    case address_class::six_to_four_relay:
        return "six_to_four_relay";
    case address_class::ipv4_mapped:
        return "ipv4_mapped";
    case address_class::ipv4_compatible:
        return "ipv4_compatible";
    case address_class::ipv4_translation:
        return "ipv4_translation";
    case address_class::discard_only:
        return "discard_only";
    case address_class::teredo:
        return "teredo";
    case address_class::six_to_four:
        return "six_to_four";
    case address_class::orchid:
        return "orchid";
    case address_class::srv6_sid:
        return "srv6_sid";
    case address_class::unique_local:
        return "unique_local";
    case address_class::site_local:
        return "site_local";
    }
    return "unknown"; // LCOV_EXCL_LINE: DefensiveCoding
}

std::string_view to_string(policy_mode m) noexcept {
    switch (m) {
    case policy_mode::production:
        return "production";
    case policy_mode::lab:
        return "lab";
    case policy_mode::unrestricted:
        return "unrestricted";
    }
    return "unknown"; // LCOV_EXCL_LINE: DefensiveCoding
}

classification classify(const ip_address& address) noexcept {
    // Parsed once per process; the tables are constant so concurrent first use from several reactors is safe
    // (function-local statics are initialised exactly once, [stmt.dcl]/4).
    static const auto v4_networks = parse_table(v4_ranges);
    static const auto v6_networks = parse_table(v6_ranges);
    if (address.is_v4()) {
        for (std::size_t i = 0; i < v4_networks.size(); ++i) {
            if (address.in_prefix(v4_networks[i], v4_ranges[i].length)) {
                return {v4_ranges[i].kind, v4_ranges[i].prefix, v4_ranges[i].reference};
            }
        }
        return {};
    }
    for (std::size_t i = 0; i < v6_networks.size(); ++i) {
        if (address.in_prefix(v6_networks[i], v6_ranges[i].length)) {
            return {v6_ranges[i].kind, v6_ranges[i].prefix, v6_ranges[i].reference};
        }
    }
    // RFC 4291 §2.4 / IANA IPv6 Address Space: only 2000::/3 is allocated as global unicast. Anything else not
    // listed above is reserved by the IETF and is not a destination.
    if (!address.in_prefix(global_unicast_v6(), 3)) {
        return {address_class::reserved, "outside 2000::/3", "RFC 4291"};
    }
    return {};
}

address_policy address_policy::lab(lab_ports ports) noexcept {
    address_policy p;
    p._mode = policy_mode::lab;
    p._ports = ports;
    return p;
}

address_policy address_policy::unrestricted(std::string_view why) noexcept {
    address_policy p;
    p._mode = policy_mode::unrestricted;
    p._why = why;
    return p;
}

result<void> address_policy::check_address(const ip_address& address) const noexcept {
    const classification c = classify(address);
    if (c.is_public()) {
        return {};
    }
    if (_mode == policy_mode::production) {
        // RFC 8555 §10.4: the server must not be usable to reach internal networks (SSRF).
        return errc::refused_by_policy;
    }
    // Lab and unrestricted modes reach loopback/private services, but a socket can never connect to these.
    switch (c.kind) {
    case address_class::unspecified:
    case address_class::multicast:
    case address_class::broadcast:
        return errc::refused_by_policy;
    default:
        return {};
    }
}

result<std::uint16_t> address_policy::map_port(std::uint16_t url_port, connect_purpose purpose) const noexcept {
    if (_mode == policy_mode::unrestricted) {
        if (url_port == 0) {
            return errc::refused_by_policy;
        }
        return url_port;
    }
    // standards §7.5 and BR 3.2.2.4.18/19: only the well-known ports; RFC 8737 §3: tls-alpn-01 is port 443 only.
    const bool allowed = purpose == connect_purpose::tls_alpn ? url_port == 443 : (url_port == 80 || url_port == 443);
    if (!allowed) {
        return errc::refused_by_policy;
    }
    if (_mode == policy_mode::production) {
        return url_port;
    }
    if (purpose == connect_purpose::tls_alpn) {
        return _ports.tls_alpn;
    }
    return url_port == 80 ? _ports.http : _ports.https;
}

result<admitted_endpoint> address_policy::admit(const ip_address& address, std::uint16_t url_port,
                                                connect_purpose purpose) const noexcept {
    if (auto ok = check_address(address); !ok) {
        return ok.error();
    }
    auto port = map_port(url_port, purpose);
    if (!port) {
        return port.error();
    }
    return admitted_endpoint{address, *port, url_port, lab_mode()};
}

result<void> address_policy::check_connect(const ip_address& address, std::uint16_t port) const noexcept {
    if (auto ok = check_address(address); !ok) {
        return ok;
    }
    bool allowed = false;
    switch (_mode) {
    case policy_mode::production:
        allowed = port == 80 || port == 443;
        break;
    case policy_mode::lab:
        allowed = port != 0 && (port == _ports.http || port == _ports.https || port == _ports.tls_alpn);
        break;
    case policy_mode::unrestricted:
        allowed = port != 0;
        break;
    }
    if (!allowed) {
        return errc::refused_by_policy;
    }
    return {};
}

} // namespace mpic::net::addr
