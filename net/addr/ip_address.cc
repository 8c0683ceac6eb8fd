#include "net/addr/ip_address.hh"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

namespace mpic::net::addr {
namespace {

// Strict dotted-quad: exactly four decimal parts 0..255, no sign, no leading zero. RFC 6943 §3.1.1 warns that the
// "loose" forms inet_aton accepts (0x7f.1, 017.0.0.1, 127.1) are read differently by different stacks; an address
// that one component reads as public and another as loopback is an SSRF bypass, so they are refused outright.
bool parse_v4(std::string_view text, std::array<std::uint8_t, 4>& out) noexcept {
    std::size_t part = 0;
    std::size_t i = 0;
    while (part < 4) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') {
            return false;
        }
        unsigned value = 0;
        std::size_t digits = 0;
        const std::size_t first = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            value = value * 10 + static_cast<unsigned>(text[i] - '0');
            ++digits;
            ++i;
            if (digits > 3) {
                return false;
            }
        }
        if (value > 255 || (digits > 1 && text[first] == '0')) {
            return false;
        }
        out[part++] = static_cast<std::uint8_t>(value);
        if (part < 4) {
            if (i >= text.size() || text[i] != '.') {
                return false;
            }
            ++i;
        }
    }
    return i == text.size();
}

// RFC 4291 §2.2 text forms via inet_pton, after refusing what inet_pton would not know about: zones (RFC 6874
// "%eth0": a zone names a local interface, never a destination we would validate) and anything that is not hex,
// ':' or '.'.
bool parse_v6(std::string_view text, std::array<std::uint8_t, 16>& out) noexcept {
    if (text.empty() || text.size() > 45) { // INET6_ADDRSTRLEN - 1
        return false;
    }
    char buf[46];
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
        if (!ok) {
            return false;
        }
        buf[i] = c;
    }
    buf[text.size()] = '\0';
    return inet_pton(AF_INET6, buf, out.data()) == 1;
}

} // namespace

ip_address ip_address::v4(std::array<std::uint8_t, 4> bytes) noexcept {
    ip_address a;
    a._family = family_t::v4;
    std::memcpy(a._bytes.data(), bytes.data(), 4);
    return a;
}

ip_address ip_address::v6(std::array<std::uint8_t, 16> bytes) noexcept {
    ip_address a;
    a._family = family_t::v6;
    a._bytes = bytes;
    return a;
}

result<ip_address> ip_address::parse(std::string_view text) noexcept {
    std::array<std::uint8_t, 4> b4{};
    if (parse_v4(text, b4)) {
        return v4(b4);
    }
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    std::array<std::uint8_t, 16> b6{};
    if (text.find(':') != std::string_view::npos && parse_v6(text, b6)) {
        return v6(b6);
    }
    return errc::malformed;
}

std::optional<ip_address> ip_address::from_sockaddr(const sockaddr* sa) noexcept {
    if (sa == nullptr) {
        return std::nullopt;
    }
    if (sa->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, sa, sizeof in);
        std::array<std::uint8_t, 4> b{};
        std::memcpy(b.data(), &in.sin_addr, 4);
        return v4(b);
    }
    if (sa->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, sa, sizeof in6);
        std::array<std::uint8_t, 16> b{};
        std::memcpy(b.data(), &in6.sin6_addr, 16);
        return v6(b);
    }
    return std::nullopt;
}

std::string ip_address::to_string() const {
    if (is_v4()) {
        std::string s;
        s.reserve(15);
        for (int i = 0; i < 4; ++i) {
            if (i != 0) {
                s.push_back('.');
            }
            s += std::to_string(_bytes[static_cast<std::size_t>(i)]);
        }
        return s;
    }
    // RFC 5952 §5: IPv4-mapped addresses keep the dotted-quad tail.
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(_bytes.data(), mapped, 12) == 0) {
        // Built by append: g++ 12 -O3 raises a false -Wrestrict on `"literal" + std::string` (GCC PR 105329).
        std::string mapped_text("::ffff:");
        mapped_text += v4({_bytes[12], _bytes[13], _bytes[14], _bytes[15]}).to_string();
        return mapped_text;
    }
    std::uint16_t groups[8];
    for (std::size_t i = 0; i < 8; ++i) {
        groups[i] = static_cast<std::uint16_t>((_bytes[2 * i] << 8) | _bytes[2 * i + 1]);
    }
    // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
    int best_start = -1;
    int best_len = 0;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && groups[j] == 0) {
            ++j;
        }
        if (j - i > best_len && j - i >= 2) {
            best_start = i;
            best_len = j - i;
        }
        i = j;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(39);
    for (int i = 0; i < 8; ++i) {
        if (i == best_start) {
            s += "::";
            i += best_len - 1;
            continue;
        }
        if (!s.empty() && s.back() != ':') {
            s.push_back(':');
        }
        // RFC 5952 §4.1: no leading zeros, §4.3: lowercase.
        const unsigned g = groups[i];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (g >> shift) & 0xfu;
            if (nibble != 0 || started || shift == 0) {
                s.push_back(hex[nibble]);
                started = true;
            }
        }
    }
    return s;
}

std::string ip_address::to_uri_host() const {
    if (is_v4()) {
        return to_string();
    }
    // Not "[" + s + "]": g++ 12 -O3 raises a false -Wrestrict on it (GCC PR 105329).
    const std::string inner = to_string();
    std::string text;
    text.reserve(inner.size() + 2);
    text.push_back('[');
    text.append(inner);
    text.push_back(']');
    return text;
}

void ip_address::to_sockaddr(std::uint16_t port, sockaddr_storage& out) const noexcept {
    std::memset(&out, 0, sizeof out);
    if (is_v4()) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        std::memcpy(&in.sin_addr, _bytes.data(), 4);
        std::memcpy(&out, &in, sizeof in);
    } else {
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        std::memcpy(&in6.sin6_addr, _bytes.data(), 16);
        std::memcpy(&out, &in6, sizeof in6);
    }
}

bool ip_address::in_prefix(const ip_address& network, unsigned prefix_len) const noexcept {
    if (network._family != _family) {
        return false;
    }
    const unsigned max_bits = is_v4() ? 32u : 128u;
    if (prefix_len > max_bits) {
        return false;
    }
    const unsigned whole = prefix_len / 8;
    if (std::memcmp(_bytes.data(), network._bytes.data(), whole) != 0) {
        return false;
    }
    const unsigned rest = prefix_len % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
    return (_bytes[whole] & mask) == (network._bytes[whole] & mask);
}

} // namespace mpic::net::addr
