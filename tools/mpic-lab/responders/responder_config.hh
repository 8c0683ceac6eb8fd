#pragma once
// Configuration of the lab's programmable responders (mpic-lab-alpn, mpic-lab-faultdns, mpic-lab-faulthttp) and the
// TOML files that carry it. The lab (tools/mpic-lab) writes these files from a scenario and spawns the binaries.
//
// CLI contract, identical for the three binaries:
//   <binary> --config FILE
//   - reads FILE (TOML, format below and in README.md); on a missing/unreadable file, a TOML syntax error, an
//     unknown key or a bad value it prints "error: <file>: <what>" on stderr and exits 2 without binding anything;
//   - binds what [listen] says (address default "127.0.0.1", port default 0 = an ephemeral port);
//   - once listening prints exactly one line on stdout and flushes it:
//       mpic-lab-alpn, mpic-lab-faulthttp:  "ready <port>\n"
//       mpic-lab-faultdns:                  "ready udp=<port> tcp=<port>\n"   (same number: UDP and TCP share it)
//     nothing else is ever written to stdout (diagnostics go to stderr);
//   - exits 0 on SIGTERM or SIGINT (in-flight connections are dropped), non-zero on a fatal start-up error.
//
// Perspectives: every rule may be restricted to one client source address. Perspective k connects from
// 127.0.0.(k+1) (perspective_address(k)); a rule with no source applies to every client ("default"). For a given
// request the responder first looks for a rule matching the key (SNI / qname+qtype / path) AND the client's source
// address, then for a matching default rule; first match in file order wins within each pass.
//
// In TOML, "perspective" may be an integer k (=> perspective_address(k)), an IPv4/IPv6 literal, or "default".
// Keys are the struct field names below, except `source` which is spelled `perspective`. Layout:
//   [listen]  address = "127.0.0.1"  port = 0
//   alpn:  [[cert]] name = "example.test"  key_authorization = "tok.thumb"  variant = "valid"  perspective = 1
//   dns:   fallback = "nxdomain"
//          [[rule]] qname = "_acme-challenge.example.test"  qtype = "TXT"  behaviour = "answer"  delay_ms = 0
//          [[rule.record]] type = "TXT"  ttl = 60  value = "digest"       (or strings = ["a", "b"])
//          [[rule.record]] type = "CAA"  caa_flags = 0  caa_tag = "issue"  value = "ca.example"
//   http:  [[rule]] path = "/.well-known/acme-challenge/tok"  behaviour = "respond"  status = 200  body = "..."
//          headers = [["Content-Type", "text/plain"]]  host = "example.test"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpic::lab::responders {

/// Source address of lab perspective k: "127.0.0.(k+1)". Precondition: k <= 253.
std::string perspective_address(unsigned k);

/// Where a responder listens. Invariant after parsing: address is an IPv4 or IPv6 literal.
struct listen_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0 = ephemeral; the bound port is reported by the "ready" line.
};

/// Outcome of reading a config: either a config or a one-line human-readable error (never both).
template <class Config>
struct config_result {
    std::optional<Config> config;
    std::string error; ///< non-empty iff !config
    explicit operator bool() const noexcept { return config.has_value(); }
};

// ---------------------------------------------------------------------------------------------------------------
// mpic-lab-alpn: TLS-ALPN-01 responder (RFC 8737, RFC 8738 §6)
// ---------------------------------------------------------------------------------------------------------------

/// How the served certificate / handshake deviates from RFC 8737 §3. TOML names are the enumerator names.
enum class alpn_variant {
    valid,               ///< self-signed, single SAN, critical acmeIdentifier = SHA-256(key authorization)
    wrong_digest,        ///< digest of a different key authorization
    not_critical,        ///< acmeIdentifier present but not marked critical
    extra_san,           ///< SAN holds the name plus "extra.<name>" (or a second IP for IPs)
    no_alpn,             ///< valid certificate, but the server does not negotiate acme-tls/1 (no ALPN selected)
    missing_extension,   ///< no acmeIdentifier extension
    wrong_san,           ///< SAN holds "other.<name>" (IP: a different address) instead of the name
    not_self_signed,     ///< issued by a separate CA key (issuer != subject, signature by the CA)
    uppercase_san,       ///< dNSName upper-cased (RFC 8737 says compare case-insensitively; Boulder rejects)
    digest_wrong_length, ///< extnValue is a DER OCTET STRING of 31 bytes
    many_sans,           ///< SAN with many_sans_count dNSNames (hostile size); the name is the first
    expired,             ///< valid but notAfter in the past (RFC 8737 does not require validity checks)
    duplicate_extension, ///< acmeIdentifier appears twice (RFC 5280 §4.2: MUST NOT)
};

/// One certificate the responder serves. Invariant after parsing: name non-empty; if name is an IP literal the SAN
/// is an iPAddress and the SNI that selects it is its reverse name (RFC 8738 §6), otherwise name is matched against
/// the SNI case-insensitively, trailing dot ignored.
struct alpn_cert_entry {
    std::string name;              ///< domain (A-label) or IP literal being validated
    std::string key_authorization; ///< "token.thumbprint"; the extension carries SHA-256 of it
    alpn_variant variant = alpn_variant::valid;
    std::optional<std::string> source;    ///< client source address this entry is for; nullopt = default
    std::uint32_t many_sans_count = 5000; ///< only for many_sans; bounded to 100000 by the parser
};

/// mpic-lab-alpn config. A ClientHello whose SNI matches no entry gets a fatal unrecognized_name alert.
struct alpn_config {
    listen_config listen;
    std::vector<alpn_cert_entry> certs;
};

// ---------------------------------------------------------------------------------------------------------------
// mpic-lab-faultdns: programmable DNS responder (UDP and TCP on one port number)
// ---------------------------------------------------------------------------------------------------------------

/// What the responder does for a matching query. TOML names are the enumerator names.
enum class dns_behaviour {
    answer,            ///< authoritative answer with `records` (those whose type matches qtype, plus CNAMEs);
                       ///< no matching record => NOERROR with an empty answer (NODATA)
    delay,             ///< like answer, after delay_ms (delay_ms also delays any other behaviour)
    drop,              ///< never answer
    servfail,          ///< RCODE 2
    refused,           ///< RCODE 5
    nxdomain,          ///< RCODE 3, AA
    truncate,          ///< UDP: TC=1 and empty sections; TCP: the full answer
    truncate_tcp,      ///< TC=1 and empty sections on UDP and TCP alike (hostile)
    wrong_id,          ///< the answer with a different message ID
    malformed_garbage, ///< 40 bytes: ID echoed, QR, QDCOUNT=ANCOUNT=1, an undecodable name, noise
    malformed_short,   ///< a 6-byte reply (shorter than the 12-byte header), ID echoed
    malformed_counts,  ///< header claims ANCOUNT=50 but carries no record
    pointer_loop,      ///< an answer record whose owner name is a compression pointer to itself
    cname_chain,       ///< qname CNAME c1.qname CNAME ... cN.qname (N = cname_chain_length), then `records`
                       ///< with owner cN.qname; all in one message
    oversized_txt,     ///< a TXT answer of about txt_size octets sent as-is (no TC) on UDP and TCP
};

/// One resource record to serve. Invariant after parsing: type is one of A AAAA CNAME NS PTR MX TXT CAA, value
/// parses for that type.
struct dns_record {
    std::optional<std::string> name; ///< owner; nullopt = the rule's qname
    std::string type;                ///< upper case
    std::uint32_t ttl = 60;
    std::string value;                ///< A/AAAA address; CNAME/NS/PTR/MX target; CAA value; TXT single string
    std::vector<std::string> strings; ///< TXT only: explicit character-strings (each <= 255 octets); if empty,
                                      ///< `value` is split into 255-octet character-strings
    std::uint16_t mx_preference = 10; ///< MX only
    std::uint8_t caa_flags = 0;       ///< CAA only (128 = issuer critical)
    std::string caa_tag;              ///< CAA only: "issue", "issuewild", "iodef", ...
};

/// One rule. Matching: qname equal case-insensitively (trailing dot optional), or "*" = any name; qtype equal if
/// set ("A", "TXT", ... or "ANY" = any).
struct dns_rule {
    std::string qname;
    std::optional<std::string> qtype;  ///< nullopt = any type
    std::optional<std::string> source; ///< nullopt = default
    dns_behaviour behaviour = dns_behaviour::answer;
    std::vector<dns_record> records;
    std::uint32_t delay_ms = 0;           ///< bounded to 600000 by the parser
    std::uint32_t cname_chain_length = 8; ///< bounded to 1000
    std::uint32_t txt_size = 4000;        ///< bounded to 65000
};

/// mpic-lab-faultdns config. A query matching no rule gets `fallback` (nxdomain, refused, servfail or drop).
struct dns_config {
    listen_config listen;
    dns_behaviour fallback = dns_behaviour::nxdomain;
    std::vector<dns_rule> rules;
};

// ---------------------------------------------------------------------------------------------------------------
// mpic-lab-faulthttp: programmable HTTP/1.1 responder
// ---------------------------------------------------------------------------------------------------------------

/// What the responder does for a matching request. TOML names are the enumerator names.
enum class http_behaviour {
    respond,        ///< status, headers, body with Content-Length, then close
    slow_headers,   ///< wait delay_ms, then respond
    dribble,        ///< respond, but write one byte every dribble_interval_ms (status line, headers and body)
    oversized,      ///< Content-Length: declared_length (omitted if unset: close-delimited), then actual_length
                    ///< bytes of 'x' streamed lazily (never held in memory), then close
    reset_mid_body, ///< headers with Content-Length = body size, reset_after body bytes, then RST (SO_LINGER 0)
    no_response,    ///< read the request, never answer; hold until the client closes
    chunked,        ///< Transfer-Encoding: chunked, body in chunks of chunk_size bytes
    redirect,       ///< status (default 302 when status is 200) with Location: location, empty body
};

/// One rule. Matching: path equal to the request target's path (query string included), or a prefix when `path`
/// ends with '*'; host (if set) equal to the Host header without port, case-insensitively.
struct http_rule {
    std::string path;
    std::optional<std::string> host;
    std::optional<std::string> source; ///< nullopt = default
    http_behaviour behaviour = http_behaviour::respond;
    int status = 200;                                         ///< 100..999
    std::vector<std::pair<std::string, std::string>> headers; ///< extra headers, in order
    std::string body;
    std::uint32_t delay_ms = 0;                   ///< before the status line (every behaviour); <= 600000
    std::uint32_t dribble_interval_ms = 100;      ///< dribble only; <= 60000
    std::optional<std::uint64_t> declared_length; ///< oversized only
    std::uint64_t actual_length = 0;              ///< oversized only (may be > 1 GB)
    std::uint64_t reset_after = 0;                ///< reset_mid_body only; body bytes sent before the reset
    std::uint32_t chunk_size = 16;                ///< chunked only; >= 1
    std::string location;                         ///< redirect only
};

/// mpic-lab-faulthttp config. A request matching no rule gets 404 with an empty body.
struct http_config {
    listen_config listen;
    std::vector<http_rule> rules;
};

// ---------------------------------------------------------------------------------------------------------------
// TOML
// ---------------------------------------------------------------------------------------------------------------

/// Names <-> enumerators (TOML spelling). from_string returns nullopt for an unknown name.
std::string_view to_string(alpn_variant v) noexcept;
std::string_view to_string(dns_behaviour b) noexcept;
std::string_view to_string(http_behaviour b) noexcept;
std::optional<alpn_variant> alpn_variant_from_string(std::string_view s) noexcept;
std::optional<dns_behaviour> dns_behaviour_from_string(std::string_view s) noexcept;
std::optional<http_behaviour> http_behaviour_from_string(std::string_view s) noexcept;

/// Serialise to TOML text that the parse_* function of the same type reads back to an equal config.
std::string to_toml(const alpn_config& config);
std::string to_toml(const dns_config& config);
std::string to_toml(const http_config& config);

/// Parse TOML text. Strict: unknown keys, wrong types, out-of-range numbers and unknown enum names are errors.
config_result<alpn_config> parse_alpn_config(std::string_view toml_text);
config_result<dns_config> parse_dns_config(std::string_view toml_text);
config_result<http_config> parse_http_config(std::string_view toml_text);

/// Read and parse a file; the error names the file.
config_result<alpn_config> read_alpn_config(const std::filesystem::path& file);
config_result<dns_config> read_dns_config(const std::filesystem::path& file);
config_result<http_config> read_http_config(const std::filesystem::path& file);

/// Write to_toml(config) to file (truncating). Returns an empty string on success, else the error.
std::string write_config(const std::filesystem::path& file, const alpn_config& config);
std::string write_config(const std::filesystem::path& file, const dns_config& config);
std::string write_config(const std::filesystem::path& file, const http_config& config);

} // namespace mpic::lab::responders
