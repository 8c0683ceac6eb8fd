// libFuzzer target: arbitrary bytes as the DER certificate a TLS-ALPN-01 responder presents (RFC 8737 §3 checks).
// The first byte picks the identifier (DNS name, IPv4, IPv6) so the SAN branches are all reached; the next 64 bytes
// are also fed to the key_authorization_hash decoder. Any crash, leak or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "validators/tls/acme_identifier.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mpic;
    if (size < 1) {
        return 0;
    }
    net::identifier id;
    switch (data[0] % 3) {
    case 0:
        id.name = "example.com";
        break;
    case 1:
        id.kind = net::identifier::kind_t::ip;
        id.name = "192.0.2.1";
        break;
    default:
        id.kind = net::identifier::kind_t::ip;
        id.name = "2001:db8::1";
        id.is_ipv6 = true;
        break;
    }
    const auto rest = std::span<const std::uint8_t>(data + 1, size - 1);
    const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size() < 64 ? rest.size() : 64);
    (void)validators::tls::decode_key_authorization_hash(text);
    static const auto digest = validators::tls::digest_of("token.thumbprint");
    const auto verdict = validators::tls::check_acme_certificate_der(rest, id, digest);
    if (!verdict.passed()) {
        (void)validators::tls::to_problem(verdict);
    }
    return 0;
}
