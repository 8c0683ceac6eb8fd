#pragma once
// The SSRF guard of RFC 8555 §10.4 and BR §3.2.2.4: which addresses and ports a validation may connect to.
// Applicant-controlled names resolve to applicant-controlled addresses, so every address a check is about to
// connect to passes through here first (the validators filter resolved addresses and every redirect hop; the HTTP
// client checks again right before connect, as defence in depth). Pure functions, no I/O.

#include <cstdint>
#include <string_view>

#include "core/result.hh"
#include "net/addr/ip_address.hh"

namespace mpic::net::addr {

/// Why an address is or is not a public unicast destination. Every non-public class names an entry of the IANA
/// IPv4/IPv6 Special-Purpose Address Registries (RFC 6890) or an address-space registry block that is not global
/// unicast.
enum class address_class : std::uint8_t {
    public_unicast,    ///< none of the below: an ordinary Internet destination
    unspecified,       ///< 0.0.0.0/32, ::/128
    this_network,      ///< 0.0.0.0/8 (RFC 791)
    private_use,       ///< 10/8, 172.16/12, 192.168/16 (RFC 1918)
    shared_address,    ///< 100.64.0.0/10, carrier-grade NAT (RFC 6598)
    loopback,          ///< 127/8 (RFC 1122), ::1/128 (RFC 4291)
    link_local,        ///< 169.254/16 (RFC 3927), fe80::/10 (RFC 4291)
    ietf_protocol,     ///< 192.0.0.0/24 (RFC 6890), 2001::/23 outside the more specific entries (RFC 2928)
    documentation,     ///< 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737), 2001:db8::/32 (RFC 3849), 3fff::/20 (RFC
                       ///< 9637)
    benchmarking,      ///< 198.18.0.0/15 (RFC 2544), 2001:2::/48 (RFC 5180)
    multicast,         ///< 224/4 (RFC 5771), ff00::/8 (RFC 4291)
    reserved,          ///< 240/4 (RFC 1112), and IPv6 outside 2000::/3 not listed elsewhere (RFC 4291 §2.4)
    broadcast,         ///< 255.255.255.255/32 (RFC 919)
    as112,             ///< 192.31.196/24, 192.175.48/24 (RFC 7535, 7534), 2620:4f:8000::/48
    amt,               ///< 192.52.193.0/24, 2001:3::/32 (RFC 7450)
    six_to_four_relay, ///< 192.88.99.0/24 (RFC 7526, deprecated anycast)
    ipv4_mapped,       ///< ::ffff:0:0/96 (RFC 4291 §2.5.5.2): an IPv4 address in IPv6 clothing
    ipv4_compatible,   ///< ::/96 (RFC 4291 §2.5.5.1, deprecated)
    ipv4_translation,  ///< 64:ff9b::/96 (RFC 6052), 64:ff9b:1::/48 (RFC 8215): NAT64 reaches embedded IPv4
    discard_only,      ///< 100::/64 (RFC 6666)
    teredo,            ///< 2001::/32 (RFC 4380): embeds a server and client IPv4 address
    six_to_four,       ///< 2002::/16 (RFC 3056): embeds an IPv4 address
    orchid,            ///< 2001:10::/28 (RFC 4843), 2001:20::/28 (RFC 7343)
    srv6_sid,          ///< 5f00::/16 (RFC 9602)
    unique_local,      ///< fc00::/7 (RFC 4193)
    site_local,        ///< fec0::/10 (RFC 3879, deprecated)
};

/// The class name as used in error messages and logs ("private_use", ...).
std::string_view to_string(address_class c) noexcept;

/// The result of classifying an address: its class, the registry prefix that matched and the defining document.
/// Invariant: `kind == public_unicast` iff `prefix` and `reference` are empty.
struct classification {
    address_class kind = address_class::public_unicast;
    std::string_view prefix;    ///< e.g. "100.64.0.0/10"; empty for public_unicast
    std::string_view reference; ///< e.g. "RFC 6598"; empty for public_unicast
    bool is_public() const noexcept { return kind == address_class::public_unicast; }
};

/// Classifies an address against the special-purpose registries, most specific prefix first. For 6to4 and Teredo
/// the whole prefix is refused (as Boulder does), whatever the embedded IPv4 address is; for IPv4-mapped,
/// IPv4-compatible and NAT64 addresses the class is that of the IPv6 prefix, never of the embedded IPv4 address.
classification classify(const ip_address& address) noexcept;

/// What a connection is for; selects the allowed URL ports and, in lab mode, the port mapping.
enum class connect_purpose : std::uint8_t {
    http,     ///< http-01, website-change and their redirects: URL port 80 or 443 (standards §7.5)
    tls_alpn, ///< tls-alpn-01: port 443 only (RFC 8737 §3)
};

/// The lab's stand-ins for the well-known ports. Invariant when used: all three are non-zero.
struct lab_ports {
    std::uint16_t http = 0;     ///< replaces URL port 80
    std::uint16_t https = 0;    ///< replaces URL port 443 for connect_purpose::http
    std::uint16_t tls_alpn = 0; ///< replaces port 443 for connect_purpose::tls_alpn
};

/// The policy's mode. `lab` exists for tests and demos on loopback; `unrestricted` is for destinations the CA itself
/// configured (perspective agents over mTLS), never for anything derived from an applicant's input.
enum class policy_mode : std::uint8_t { production, lab, unrestricted };
std::string_view to_string(policy_mode m) noexcept;

/// An address and port that passed the policy. `lab_mode` is carried in every result so the caller can say in the
/// response that the check ran under the lab's relaxed rules (design.md "Rules that shape the code").
struct admitted_endpoint {
    ip_address address;
    std::uint16_t port = 0;     ///< the port to connect to (mapped in lab mode)
    std::uint16_t url_port = 0; ///< the port the URL or the method named (80 or 443)
    bool lab_mode = false;
};

/// Address and port policy. Production (the default) admits only public_unicast addresses and URL ports 80/443
/// (443 only for tls_alpn), connecting to the port unchanged. Lab mode admits every address except unspecified,
/// multicast and broadcast (which cannot be connected to) and maps 80/443 to the lab ports. Unrestricted admits the
/// same addresses as lab mode and any port, unmapped. Value type; cheap to copy.
class address_policy {
public:
    /// The production policy.
    address_policy() noexcept = default;
    static address_policy production() noexcept { return {}; }
    /// Lab mode with the given port map. Precondition: all three ports are non-zero.
    static address_policy lab(lab_ports ports) noexcept;
    /// For CA-configured infrastructure endpoints only. `why` is kept for logs (must outlive the policy).
    static address_policy unrestricted(std::string_view why) noexcept;

    policy_mode mode() const noexcept { return _mode; }
    bool lab_mode() const noexcept { return _mode == policy_mode::lab; }
    const lab_ports& ports() const noexcept { return _ports; }
    std::string_view unrestricted_reason() const noexcept { return _why; }

    /// Ok when the address may be connected to under this mode; errc::refused_by_policy otherwise.
    result<void> check_address(const ip_address& address) const noexcept;

    /// Maps a URL port to the port to connect to. errc::refused_by_policy for any port the purpose does not allow
    /// (production and lab: 80/443 for http, 443 for tls_alpn).
    result<std::uint16_t> map_port(std::uint16_t url_port, connect_purpose purpose) const noexcept;

    /// check_address + map_port in one step: the normal entry point for a validator about to connect.
    result<admitted_endpoint> admit(const ip_address& address, std::uint16_t url_port,
                                    connect_purpose purpose) const noexcept;

    /// The transport's last-moment check on an already-mapped port: the address must pass check_address and the
    /// port must be one this mode can produce (production: 80/443; lab: the three lab ports; unrestricted: any).
    result<void> check_connect(const ip_address& address, std::uint16_t port) const noexcept;

private:
    policy_mode _mode = policy_mode::production;
    lab_ports _ports{};
    std::string_view _why;
};

} // namespace mpic::net::addr
