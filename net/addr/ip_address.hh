#pragma once
// IP addresses as values: parsed from text, formatted canonically, converted to and from sockaddr. No DNS, no
// zones: an address that reaches the transport is always a literal the policy has classified.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hh"

struct sockaddr;
struct sockaddr_storage;

namespace mpic::net::addr {

/// An IPv4 or IPv6 address, stored in network byte order. Invariant: a v4 address uses bytes [0, 4) of the
/// storage and the other 12 bytes are zero, so comparison and hashing can look at the whole array. IPv6 scope/zone
/// identifiers are never represented (RFC 6874 zones are refused at parse time, Boulder "IPv6 zone" rule).
class ip_address {
public:
    enum class family_t : std::uint8_t { v4, v6 };

    /// The IPv4 unspecified address 0.0.0.0.
    ip_address() noexcept = default;
    /// An IPv4 address from its 4 bytes in network order (a.b.c.d = bytes {a, b, c, d}).
    static ip_address v4(std::array<std::uint8_t, 4> bytes) noexcept;
    /// An IPv6 address from its 16 bytes in network order.
    static ip_address v6(std::array<std::uint8_t, 16> bytes) noexcept;

    /// Parses dotted-quad IPv4 (exactly four decimal parts, no leading zeros other than "0", RFC 6943 §3.1.1: the
    /// octal/hex/short forms inet_aton accepts are refused) or IPv6 text (RFC 4291 §2.2, including the embedded
    /// IPv4 form); one pair of surrounding brackets is accepted for IPv6. A zone ("%eth0") is refused.
    /// Error: errc::malformed.
    static result<ip_address> parse(std::string_view text) noexcept;

    /// Reads the address of an AF_INET / AF_INET6 sockaddr; nullopt for any other family.
    static std::optional<ip_address> from_sockaddr(const sockaddr* sa) noexcept;

    family_t family() const noexcept { return _family; }
    bool is_v4() const noexcept { return _family == family_t::v4; }
    bool is_v6() const noexcept { return _family == family_t::v6; }

    /// The address bytes in network order: 4 for v4, 16 for v6.
    std::span<const std::uint8_t> bytes() const noexcept { return {_bytes.data(), is_v4() ? 4u : 16u}; }

    /// Canonical text: dotted quad for v4 (RFC 1123 §2.1), RFC 5952 §4 for v6 (lowercase, longest zero run
    /// compressed, "::ffff:1.2.3.4" for IPv4-mapped). No brackets.
    std::string to_string() const;
    /// Text usable in a URL authority or Host header: to_string(), bracketed for v6 (RFC 3986 §3.2.2).
    std::string to_uri_host() const;

    /// Fills `out` with an AF_INET/AF_INET6 sockaddr for this address and `port` (host byte order).
    void to_sockaddr(std::uint16_t port, sockaddr_storage& out) const noexcept;

    /// True when the first `prefix_len` bits equal those of `network` (which must be the same family).
    bool in_prefix(const ip_address& network, unsigned prefix_len) const noexcept;

    friend bool operator==(const ip_address&, const ip_address&) noexcept = default;
    friend auto operator<=>(const ip_address&, const ip_address&) noexcept = default;

private:
    family_t _family = family_t::v4;
    std::array<std::uint8_t, 16> _bytes{};
};

} // namespace mpic::net::addr
