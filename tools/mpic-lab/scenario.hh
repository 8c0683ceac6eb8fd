#pragma once
// The lab's scenario: what the little internet on loopback looks like. A scenario is plain data; scenario.cc reads
// it from TOML (docs/lab.md documents every key) and checks it, so every later stage (config writers, the lab
// itself) may assume the invariants stated here.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tools/mpic-lab/responders/responder_config.hh"

namespace mpic::lab {

/// Highest perspective index: perspective k uses source address 127.0.0.(k+1), and 127.0.0.255 is out.
inline constexpr int max_perspectives = 253;

/// The loopback source address of perspective k (1-based): "127.0.0.(k+1)". Precondition: 1 <= k <= 253.
std::string perspective_address(int k);

/// One DNS resource record. Invariants after parsing: `owner` is absolute, lower-case, without the trailing dot
/// ("" is never used: the root cannot be an owner in a lab zone); `type` is upper-case; `rdata` is already in
/// zone-file presentation form (quoted and escaped), ready to be written after "<owner>. <ttl> IN <type>".
struct record {
    std::string owner; ///< absolute owner name, no trailing dot, e.g. "_acme-challenge.example.test"
    std::string type;  ///< "A", "AAAA", "CNAME", "DNAME", "TXT", "CAA", "PTR", "NS", "MX" or any type given raw
    std::uint32_t ttl = 60;
    std::string rdata; ///< presentation-form RDATA, e.g. `0 issue "ca.example"` or `"a" "b"`
    // The same data, structured (empty for raw `rdata` records), for servers that are not fed zone files.
    std::string value;                ///< address, target name (no trailing dot), or CAA value
    std::vector<std::string> strings; ///< TXT character-strings
    int caa_flags = 0;
    std::string caa_tag;
    int preference = 0; ///< MX
    bool operator==(const record&) const = default;
};

/// Identifies an RRset (or, with type "*", every RRset at an owner) to remove in a per-perspective override.
struct rrset_key {
    std::string owner; ///< absolute, lower-case, no trailing dot
    std::string type;  ///< upper-case type, or "*" for all types at the owner
};

/// An authoritative zone served by the lab's BIND. Invariant: every record's owner is at or below `name`.
struct zone {
    std::string name;            ///< absolute, lower-case, no trailing dot, e.g. "example.test"
    bool dnssec = false;         ///< sign the zone; perspectives resolve through validating resolvers (dnssec.hh)
    std::vector<record> records; ///< SOA and NS are added by the lab unless the scenario gives an NS RRset
};

/// One HTTP(S) response rule: requests for `host` (Host header, port ignored; "*" matches any host not listed
/// elsewhere) and exactly `path` get this answer. Invariant: 200 <= status <= 599 (444 = nginx closes the connection
/// without answering); when `redirect` is set, status is 301, 302, 303, 307 or 308.
struct http_rule {
    std::string host = "*";
    std::string path; ///< exact path, starts with '/'
    int status = 200;
    std::string body;                                         ///< response body (text; not sent for redirects)
    std::vector<std::pair<std::string, std::string>> headers; ///< extra headers, in file order
    std::optional<std::string> redirect;                      ///< Location for a 3xx answer
    bool operator==(const http_rule&) const = default;
};

/// A TLS-ALPN-01 certificate the ALPN responder presents for SNI `name` (RFC 8737 §3). `variant` says how it is
/// deliberately broken, with the responder's names: valid, wrong_digest, not_critical, extra_san, no_alpn, ...
struct alpn_cert {
    std::string name;              ///< SNI / dNSName, lower-case, no trailing dot
    std::string key_authorization; ///< RFC 8555 §8.1 key authorization; the extension holds its SHA-256
    responders::alpn_variant variant = responders::alpn_variant::valid;
};

/// What a perspective's DNS server does, seen from that perspective.
enum class dns_behaviour {
    normal,      ///< answers from the perspective's view
    unreachable, ///< BIND ignores the perspective's queries (blackhole): every query times out
    stalled,     ///< the perspective is pointed at the fault DNS responder, which answers after `stall_ms`
    fault,       ///< the perspective is pointed at the fault DNS responder and its [fault_dns] rules
};

/// What the HTTP(S) server does for a perspective.
enum class http_behaviour {
    normal,      ///< answers from the perspective's rules
    unreachable, ///< nginx closes every connection from the perspective without answering (status 444)
    fault,       ///< nginx hands the perspective's requests to the fault HTTP responder ([fault_http] rules)
};

/// What perspectives `perspectives` see instead of the base scenario. Applied in file order.
struct perspective_override {
    std::vector<int> perspectives; ///< 1-based indices, each in [1, scenario::perspectives]
    dns_behaviour dns = dns_behaviour::normal;
    std::uint32_t stall_ms = 0; ///< for dns_behaviour::stalled: delay before the fault DNS answers
    http_behaviour http = http_behaviour::normal;
    std::vector<record> records;       ///< replace the RRsets with the same owner and type (CNAME replaces all)
    std::vector<rrset_key> remove;     ///< RRsets removed for these perspectives
    std::vector<http_rule> http_rules; ///< replace (or add) the rule with the same host and path
    std::vector<alpn_cert> tls_alpn;   ///< replace (or add) the certificate for the same name
};

/// A whole scenario. Invariants after parsing: zone names are unique; every override's perspectives are in range.
struct scenario {
    std::string description;
    int perspectives = 0; ///< N: perspectives 1..N exist, at 127.0.0.2 .. 127.0.0.(N+1)
    std::vector<zone> zones;
    std::vector<http_rule> http;
    std::vector<alpn_cert> tls_alpn;
    std::vector<perspective_override> overrides;
    std::optional<responders::dns_config> fault_dns;   ///< [fault_dns]: rules of the programmable DNS responder
    std::optional<responders::http_config> fault_http; ///< [fault_http]: rules of the programmable HTTP responder

    /// True when the fault DNS responder must run: a [fault_dns] table, or an override that stalls or faults DNS.
    bool needs_fault_dns() const;
};

/// Where and why a scenario file was rejected. `key` is the dotted TOML path of the offending value, e.g.
/// `zones."example.test".records[2].type`; `line`/`column` are 1-based (0 when unknown).
struct scenario_error {
    std::string file;
    std::string key;
    std::string message;
    int line = 0;
    int column = 0;

    /// "file:line:column: key: message" (parts that are empty are left out).
    std::string to_string() const;
};

/// Either a parsed scenario or the first problem found in it.
class parse_result {
public:
    parse_result(scenario s) : _state(std::move(s)) {}
    parse_result(scenario_error e) : _state(std::move(e)) {}
    bool has_value() const noexcept { return _state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// Precondition: has_value().
    const scenario& value() const& { return std::get<0>(_state); }
    scenario&& value() && { return std::get<0>(std::move(_state)); }
    /// Precondition: !has_value().
    const scenario_error& error() const { return std::get<1>(_state); }

private:
    std::variant<scenario, scenario_error> _state;
};

/// Parses scenario TOML text. `file` only labels errors. Never throws.
parse_result parse_scenario(std::string_view toml_text, std::string_view file = "<scenario>");

/// Reads and parses a scenario file. Never throws.
parse_result load_scenario(const std::string& path);

} // namespace mpic::lab
